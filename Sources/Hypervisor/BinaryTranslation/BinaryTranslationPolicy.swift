// The knobs of the `bt` mode (what `vmlab.vm{bt={...}}` fills in).

/// How the binary-translating VMM rewrites the guest kernel.
public struct BinaryTranslationPolicy: Sendable, Equatable {
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

    public init(adaptThreshold: Int = 4, inlineEmulation: Bool = true, afterburn: Bool = false) {
        self.adaptThreshold = adaptThreshold
        self.inlineEmulation = inlineEmulation
        self.afterburn = afterburn
    }
}
