// The knobs of a machine, fixed when it is built. Everything a lab may want to vary about the
// hardware (memory size, hart count, TLB geometry, the A/D and misaligned-access policies, the
// round-robin quantum and the cost table) lives here as plain data.

/// How page-table A/D bits are kept (privileged spec, "Svade" and "Svadu" extensions).
public enum ADBitPolicy: Sendable, Equatable {
    /// The page walker sets A (and D on stores) itself, atomically with the walk, as QEMU does.
    case hardwareUpdate
    /// A page fault is raised when A is clear, or D is clear on a store (Svade); software sets them.
    case pageFault
}

/// What a misaligned load or store does (unprivileged spec, "Misaligned Accesses").
public enum MisalignedPolicy: Sendable, Equatable {
    /// Performed in hardware, byte by byte, translating every page it touches (like Zicclsm).
    case handleInHardware
    /// Raises a load/store address-misaligned exception.
    case trap
}

/// Geometry and tagging of the architectural TLB.
///
/// The TLB is unified (instruction fetches and data accesses share it), set-associative, and
/// replaces FIFO within a set: a hit changes nothing, so its counters do not depend on any host-side
/// cache in front of it. Superpage entries live in the set selected by their own virtual page number
/// at their size, so a lookup probes each page size present.
public struct TLBConfiguration: Sendable, Equatable, Codable {
    /// Total entries; a multiple of `ways`.
    public var entries: Int
    /// Entries per set (`entries` for fully associative).
    public var ways: Int
    /// Entries carry the ASID of `satp`; when `false` every `satp` write flushes the TLB.
    public var asidTagged: Bool
    /// With `asidTagged` false: a `satp` write spares global entries (PTE.G), as an x86 CR3 load
    /// spares global pages with CR4.PGE (Pentium Pro onwards); otherwise it flushes everything,
    /// as on the 386 and 486.
    public var keepsGlobalEntries: Bool
    /// Entries of the nested TLB ([B08]'s NTLB; AMD's nested paging has one): G-stage translations
    /// (guest physical page → host physical page) that a two-stage walk looks up before walking
    /// the G stage, for each VS-stage PTE it reads and for the final guest physical address. 0
    /// (the default): none, every G walk reads its entries. Only harts with the hypervisor
    /// extension use it.
    public var nestedEntries: Int
    /// Entries of the page-walk cache ([B08]'s PWC, Intel's paging-structure caches): the
    /// guest's non-leaf VS-stage entries a two-stage walk read, so that the next walk under the
    /// same entries starts at the deepest table it knows, skipping the upper levels' reads and
    /// their G walks. 0 (the default): none. Only harts with the hypervisor extension use it.
    public var walkCacheEntries: Int

    public init(entries: Int = 64, ways: Int = 4, asidTagged: Bool = true, keepsGlobalEntries: Bool = false, nestedEntries: Int = 0,
                walkCacheEntries: Int = 0) {
        self.entries = max(1, entries)
        self.ways = max(1, min(ways, max(1, entries)))
        self.asidTagged = asidTagged
        self.keepsGlobalEntries = keepsGlobalEntries
        self.nestedEntries = max(0, nestedEntries)
        self.walkCacheEntries = max(0, walkCacheEntries)
    }
}

/// Modelled cycles charged per event. The machine advances `cycles` (and so `mtime`) with these;
/// a cost profile in the Hypervisor layer overwrites them.
public struct CostTable: Sendable, Equatable {
    /// Per retired instruction.
    public var instruction: UInt64 = 1
    /// Per page-table entry read or written back by the page walker.
    public var walkReference: UInt64 = 0
    /// Per TLB miss (in addition to its walk references).
    public var tlbMiss: UInt64 = 0
    /// Per TLB flush (sfence.vma, or a satp write on an untagged TLB).
    public var tlbFlush: UInt64 = 0
    /// Per exception taken.
    public var exception: UInt64 = 0
    /// Per interrupt taken.
    public var interrupt: UInt64 = 0
    /// Per trap handled by an installed `MachineModeTrapHandler` (an SBI call in Swift).
    public var handledTrap: UInt64 = 0
    /// Per MMIO access.
    public var mmioAccess: UInt64 = 0
    /// Per write to a privileged (S-, H- or M-level) CSR executed without a trap: such writes
    /// serialise the pipeline on real cores.
    public var csrWrite: UInt64 = 0

    public init() {}
}

/// Everything needed to build a `Machine`.
public struct MachineConfiguration: Sendable {
    /// Guest-physical address of RAM (QEMU `virt`: 0x8000_0000).
    public var ramBase: UInt64 = 0x8000_0000
    /// Bytes of RAM; host memory is reserved lazily, so a large guest costs only what it touches.
    public var ramSize: UInt64 = 128 << 20
    /// Number of harts, 1...64.
    public var harts: Int = 1
    public var tlb = TLBConfiguration()
    public var adBits: ADBitPolicy = .hardwareUpdate
    public var misaligned: MisalignedPolicy = .handleInHardware
    /// Implemented PMP entries: 0, 16 or 64 (privileged spec, "Physical Memory Protection").
    public var pmpEntries: Int = 16
    /// ASID bits implemented in `satp` (0...16).
    public var asidBits: Int = 16
    /// Sv57 in addition to Sv39 and Sv48.
    public var sv57: Bool = true
    /// The hypervisor extension (`misa.H`; privileged spec, "Hypervisor Extension"): VS- and
    /// VU-modes, two-stage address translation (Sv39x4, Sv48x4) with VMID-tagged TLB entries, the
    /// hypervisor and VS CSRs, HLV/HSV/HFENCE. Off by default: QEMU's `virt` hart has it only
    /// when asked (`-cpu rv64,h=true`), and software that probes `misa` sees a plain RV64GC.
    public var hypervisorExtension: Bool = false
    /// The Sstc extension (privileged spec, "Sstc"): S-mode's own timer compare, `stimecmp`, and
    /// with the hypervisor extension VS-mode's, `vstimecmp`, enabled by `menvcfg.STCE` and
    /// `henvcfg.STCE`. Off by default, so that a guest's device tree and timer path stay as they
    /// were: a kernel that finds `sstc` in `riscv,isa` (Linux since 6.0) programs its timer
    /// without an SBI call. QEMU 7.2's `virt` hart has it.
    public var sstc: Bool = false
    /// Instructions a hart runs before the next hart gets its turn.
    public var quantum: UInt64 = 1000
    /// Modelled cycles per tick of the 10 MHz timebase: 100 is a 1 GHz hart.
    public var cyclesPerTick: UInt64 = 100
    public var costs = CostTable()
    /// Host memory to use as RAM instead of a private mapping (a VMM carving guest RAM out of its
    /// host's RAM); nil = the machine reserves its own.
    public var ramBacking: ExternalRAM? = nil

    /// The engine that runs guest code: compiled blocks, translated blocks, or the interpreter
    /// (same semantics; the others stay for lockstep testing and comparison). Default: `.jit`, or
    /// what the environment variable `VMLAB_ENGINE` (`interpreter`, `blocks`, `jit`) says.
    public var engine: ExecutionEngine = .standard

    public init() {}
}
