// The part of a hart's state record a snapshot keeps. `HartState` holds pointers to the hart's
// own storage and host-side caches beside the architectural state; a snapshot taken from one
// process and restored in another (a snapshot file) can carry only values, so the saved fields
// are listed here one by one. `MachineSnapshotCodingTests` checks that every field of `HartState` is
// either here or in `hostFields`, so a new field cannot be forgotten.

/// A hart's architectural state and counters, as values (`MachineSnapshot`).
struct SavedHartState: Codable, Equatable {
    /// The fields of `HartState` a snapshot does not keep: pointers to the hart's storage, the
    /// fetch page and soft TLB in front of the architectural TLB (rebuilt on demand), soft-TLB
    /// hit counts (folded into the TLB's counters before a snapshot), and the host's observation
    /// state and cost table.
    static let hostFields: Set<String> = [
        "regs", "fetchBase", "fetchOps", "fetchPhys", "soft", "softPhys", "softLoadHits", "softStoreHits",
        "translatedFetches", "observedMask", "refillHold", "watching", "watchPages", "eventsSeen",
        "redirectPC", "fetchBailPC", "costs",
    ]

    var pc: UInt64
    var priv: UInt8
    var dataPriv: UInt8
    var fpEnabled: Bool
    var exitSlice: SliceExit
    var prefetchedFetch: UInt64
    var cycles: UInt64
    var instret: UInt64
    var exceptionsTaken: UInt64
    var privilegedExecuted: UInt64
    var mcycleOffset: UInt64
    var minstretOffset: UInt64
    var mstatus: UInt64
    var medeleg: UInt64
    var mideleg: UInt64
    var mie: UInt64
    var mipSoft: UInt64
    var mipPins: UInt64
    var mtvec: UInt64
    var stvec: UInt64
    var mcounteren: UInt64
    var scounteren: UInt64
    var menvcfg: UInt64
    var senvcfg: UInt64
    var mcountinhibit: UInt64
    var mscratch: UInt64
    var sscratch: UInt64
    var mepc: UInt64
    var sepc: UInt64
    var mcause: UInt64
    var scause: UInt64
    var mtval: UInt64
    var stval: UInt64
    var satp: UInt64
    var virt: Bool
    var dataVirt: Bool
    var hyper: HypervisorCSRs
    /// nil for all ones (the reset value): so that a hart that never wrote them saves what it
    /// saved before Sstc, and files from then decode.
    var stimecmp: UInt64?
    var vstimecmp: UInt64?
    var fflags: UInt64
    var frm: UInt64
    var reservation: UInt64
    var runState: HartRunState

    init(_ s: HartState) {
        pc = s.pc; priv = s.priv; dataPriv = s.dataPriv; fpEnabled = s.fpEnabled; exitSlice = s.exitSlice
        prefetchedFetch = s.prefetchedFetch
        cycles = s.cycles; instret = s.instret; exceptionsTaken = s.exceptionsTaken
        privilegedExecuted = s.privilegedExecuted; mcycleOffset = s.mcycleOffset; minstretOffset = s.minstretOffset
        mstatus = s.mstatus; medeleg = s.medeleg; mideleg = s.mideleg; mie = s.mie
        mipSoft = s.mipSoft; mipPins = s.mipPins; mtvec = s.mtvec; stvec = s.stvec
        mcounteren = s.mcounteren; scounteren = s.scounteren; menvcfg = s.menvcfg; senvcfg = s.senvcfg
        mcountinhibit = s.mcountinhibit; mscratch = s.mscratch; sscratch = s.sscratch
        mepc = s.mepc; sepc = s.sepc; mcause = s.mcause; scause = s.scause; mtval = s.mtval; stval = s.stval
        satp = s.satp; virt = s.virt; dataVirt = s.dataVirt; hyper = s.hyper
        stimecmp = s.stimecmp == .max ? nil : s.stimecmp
        vstimecmp = s.vstimecmp == .max ? nil : s.vstimecmp
        fflags = s.fflags; frm = s.frm; reservation = s.reservation; runState = s.runState
    }

    /// Writes the saved fields into `s`, leaving the host's fields as they are.
    func apply(to s: inout HartState) {
        s.pc = pc; s.priv = priv; s.dataPriv = dataPriv; s.fpEnabled = fpEnabled; s.exitSlice = exitSlice
        s.prefetchedFetch = prefetchedFetch
        s.cycles = cycles; s.instret = instret; s.exceptionsTaken = exceptionsTaken
        s.privilegedExecuted = privilegedExecuted; s.mcycleOffset = mcycleOffset; s.minstretOffset = minstretOffset
        s.mstatus = mstatus; s.medeleg = medeleg; s.mideleg = mideleg; s.mie = mie
        s.mipSoft = mipSoft; s.mipPins = mipPins; s.mtvec = mtvec; s.stvec = stvec
        s.mcounteren = mcounteren; s.scounteren = scounteren; s.menvcfg = menvcfg; s.senvcfg = senvcfg
        s.mcountinhibit = mcountinhibit; s.mscratch = mscratch; s.sscratch = sscratch
        s.mepc = mepc; s.sepc = sepc; s.mcause = mcause; s.scause = scause; s.mtval = mtval; s.stval = stval
        s.satp = satp; s.virt = virt; s.dataVirt = dataVirt; s.hyper = hyper
        s.stimecmp = stimecmp ?? .max; s.vstimecmp = vstimecmp ?? .max
        s.fflags = fflags; s.frm = frm; s.reservation = reservation; s.runState = runState
    }
}
