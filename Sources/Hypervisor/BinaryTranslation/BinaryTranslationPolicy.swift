// The knobs of the `bt` mode (what `vmlab.vm{bt={...}}` fills in).

/// How the binary-translating VMM rewrites the guest kernel.
public struct BinaryTranslationPolicy: Sendable, Equatable, Codable {
    /// A store in translated code that has faulted this many times on a traced page-table page is
    /// retranslated into a callout that emulates it without a trap (VMware's adaptive binary
    /// translation [AA06]); 0 turns adaptation off.
    public var adaptThreshold = 4
    /// Simple privileged instructions (reads and writes of virtual CSRs with no side effect beyond
    /// the CSR) are emulated inline in translated code (`bt_inline`) rather than by a callout
    /// (`bt_callout`). Off: every rewritten instruction is a callout.
    public var inlineEmulation = true
    /// Load-time patching (L4Ka "afterburning") instead of runtime translation: before the guest
    /// runs, the loader rewrites every sensitive instruction of the kernel's text into a call of
    /// the VMM; nothing is translated at run time.
    public var afterburn = false
    /// How the simulator runs an adapted store, with the same result either way: on (the default)
    /// as a guarded store (`CodeRewrite.calloutOnMiss`), which calls into the VMM only when the
    /// store leaves the hart's fast path — every store to a traced page does, since no shadow maps
    /// one writable — and otherwise runs as the plain store it is; off, as a callout at every
    /// execution, which lets the store run natively when it finds no traced page. Host time only:
    /// instructions, cycles and every counter of the model are the same (the tests compare them),
    /// but under tinyos's `pagefault` the callouts are about a million per 2000 pages, off.
    public var guardedStores = true

    public init(adaptThreshold: Int = 4, inlineEmulation: Bool = true, afterburn: Bool = false, guardedStores: Bool = true) {
        self.adaptThreshold = adaptThreshold
        self.inlineEmulation = inlineEmulation
        self.afterburn = afterburn
        self.guardedStores = guardedStores
    }
}
