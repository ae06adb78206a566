// The state of one hart, laid out for the engine: a plain struct behind a pointer, so the
// interpreter reaches every field without ARC traffic or exclusivity checks.

/// One entry of the host-side "soft TLB" in front of the architectural TLB: virtual page → host
/// address. It is only a view: every entry for a translated page mirrors an architectural TLB entry
/// and is dropped with it, so a hit here is counted as an architectural TLB hit.
struct SoftTLBEntry {
    /// Virtual page address, or `softTLBInvalid`. For loads and stores the low bits are compared
    /// with the access address's alignment bits, so a misaligned access never hits.
    var tag: UInt64
    /// Host address minus virtual address (loads/stores), or the decoded-page pointer (fetches).
    var addend: UInt64
}

/// A tag no access address can produce: page-masked, alignment-checked addresses never have bit 11
let softTLBInvalid: UInt64 = 0x800

/// Entries per (privilege, access type) in the soft TLB; a power of two.
let softTLBSize = 256

/// Access types, also the middle index of the soft TLB.
enum AccessType: Int {
    case load = 0, store = 1, fetch = 2
}

/// Why the engine left its inner loop early.
enum SliceExit: UInt8, Codable {
    case none = 0
    /// Something changed that may make an interrupt pending, enabled, or a hart state change.
    case checkInterrupts
    /// A stop was requested (power off, reset, host).
    case stop
}

struct HartState {
    // Hot: the interpreter reads these every instruction.
    var pc: UInt64 = 0
    /// x0...x31, f0...f31, then the write sink for rd = x0 (`sinkRegister`).
    var regs: UnsafeMutablePointer<UInt64>
    /// Virtual page base of the page `fetchOps` decodes, and that page's decoded instructions.
    var fetchBase: UInt64 = 0
    var fetchOps: UnsafeMutablePointer<DecodedOp>
    /// Physical address of that page (for decoding its bytes).
    var fetchPhys: UInt64 = 0
    /// Soft TLB: [privilege 0...2][AccessType][softTLBSize].
    var soft: UnsafeMutablePointer<SoftTLBEntry>
    /// Physical page address behind each soft TLB entry (for invalidation by physical page).
    var softPhys: UnsafeMutablePointer<UInt64>
    /// Privilege of instruction fetch and of loads/stores (differs under `mstatus.MPRV`).
    var priv: UInt8 = 3
    var dataPriv: UInt8 = 3
    /// `mstatus.FS != Off`: floating-point instructions are legal.
    var fpEnabled: Bool = false
    /// Set by slow paths when the engine must leave its inner loop after the current instruction.
    var exitSlice: SliceExit = .none
    /// Soft TLB hits (loads, stores) since the last fold into the architectural counters.
    var softLoadHits: UInt64 = 0
    var softStoreHits: UInt64 = 0
    /// Instruction fetches served from `fetchOps` while fetch translation is on, since the last fold.
    var translatedFetches: UInt64 = 0
    /// 1 while the instruction in flight has had its fetch counted by `Hart.commitInFlight` (its
    /// retirement, counted later through `SliceCounts.pending`, must not count it again); 0
    /// otherwise. Kept here rather than in `SliceCounts`: the engines' loops never touch it, and
    /// there it held a host register of the interpreter's loop.
    var prefetchedFetch: UInt64 = 0

    // Counters (Zicntr): kept in modelled cycles and retired instructions.
    var cycles: UInt64 = 0
    var instret: UInt64 = 0
    /// Instructions that trapped instead of retiring: exceptions raised, and translator callouts
    /// that delivered a trap in software (abandoned). They use budget too, so a guest looping
    /// through faults comes back at its budget whichever way its traps are delivered.
    var exceptionsTaken: UInt64 = 0
    /// SYSTEM-class instructions (privileged instructions, CSR accesses) executed or attempted.
    var privilegedExecuted: UInt64 = 0
    // Observation: copies of machine-wide facts, so slow paths test them without touching the
    // machine object (which would cost reference counting).
    /// `Machine.observedEvents` raw bits.
    var observedMask: UInt32 = 0
    /// Why the next fetch refill must end the slice before its instruction: `holdStop` (a stop is
    /// pending, `Machine.pendingStop != nil`), `holdRedirect` (an observer's pc waits in
    /// `redirectPC`, applied between slices). One byte, so the refill path tests one load.
    var refillHold: UInt8 = 0
    /// Some watchpoint is set; `watchPages` then tells which RAM pages it meets (`watchReadBit`,
    /// `watchWriteBit` per page; the machine's array).
    var watching = false
    var watchPages: UnsafeMutablePointer<UInt8>? = nil
    /// Events delivered for this hart's instructions (the fetch path compares it across a walk).
    var eventsSeen: UInt64 = 0
    /// A pc an observer set while an instruction was in flight, taken once it completed
    /// (`noRedirect` when none; see `Machine.deliver`).
    var redirectPC: UInt64 = noRedirect
    /// The pc at which a fetch last ended its slice early for an observer (see `refillFetch`).
    var fetchBailPC: UInt64 = .max
    /// Offsets so that writes to mcycle/minstret take effect without disturbing the machine's clock.
    var mcycleOffset: UInt64 = 0
    var minstretOffset: UInt64 = 0

    // CSRs (privileged spec).
    var mstatus: UInt64 = Mstatus.uxlSxl
    var medeleg: UInt64 = 0
    var mideleg: UInt64 = 0
    var mie: UInt64 = 0
    /// Software-written `mip` bits (SSIP, STIP, SEIP).
    var mipSoft: UInt64 = 0
    /// Pin levels driven by the platform (MSIP, MTIP, MEIP, and SSIP/STIP/SEIP from Swift devices),
    /// and Sstc's comparators (STIP while menvcfg.STCE is set, VSTIP while henvcfg.STCE is too).
    var mipPins: UInt64 = 0
    var mtvec: UInt64 = 0
    var stvec: UInt64 = 0
    var mcounteren: UInt64 = 0
    var scounteren: UInt64 = 0
    var menvcfg: UInt64 = 0
    var senvcfg: UInt64 = 0
    var mcountinhibit: UInt64 = 0
    var mscratch: UInt64 = 0
    var sscratch: UInt64 = 0
    var mepc: UInt64 = 0
    var sepc: UInt64 = 0
    var mcause: UInt64 = 0
    var scause: UInt64 = 0
    var mtval: UInt64 = 0
    var stval: UInt64 = 0
    var satp: UInt64 = 0
    /// The hypervisor extension: V, the virtualization mode (the hart runs in VS- or VU-mode,
    /// `priv` being the nominal privilege), and whether loads and stores translate in two
    /// stages (V, or M-mode with MPRV and MPV). Both stay false in a hart without it.
    var virt = false
    var dataVirt = false
    /// The hypervisor and virtual-supervisor CSRs (Hart+Hypervisor.swift).
    var hyper = HypervisorCSRs()
    /// Sstc's timer compares (SupervisorTimerCompare.swift). Their reset value is unspecified;
    /// all ones is "never", so that enabling STCE raises no interrupt by itself.
    var stimecmp: UInt64 = .max
    var vstimecmp: UInt64 = .max
    var fflags: UInt64 = 0
    var frm: UInt64 = 0

    /// LR/SC reservation: the reserved physical address (aligned down to 8), or `noReservation`.
    var reservation: UInt64 = noReservation

    var runState: HartRunState = .stopped

    /// The machine's cost table, copied here so charging a cost touches no object.
    var costs: CostTable

    @inline(__always) var mip: UInt64 { mipSoft | mipPins }
}

let noReservation: UInt64 = .max

let holdStop: UInt8 = 1
let holdRedirect: UInt8 = 2

/// `HartState.redirectPC` when no redirect is pending (never a pc: pcs are even).
let noRedirect: UInt64 = .max

/// Index in `HartState.regs` (after x0...x31, f0...f31) that cached instructions with rd = x0 write.
let sinkRegister = 64
