// Which cost event each of the machine's own charges stands for. The machine prices its counters
// itself as it runs (`Machine.costs`, a `CostTable`), and a technique reads the account back from
// the same counters (`CycleAccount`); both are made here from one table, so the account equals the
// modelled clock by construction rather than by keeping two lists in step.

import Machine

/// The cost event behind each built-in charge of the machine, under one technique.
public struct MachinePricing: Sendable, Equatable {
    /// A retired instruction.
    public var instruction: CostEvent
    /// A page-table entry read or written back by the walker.
    public var walkReference: CostEvent
    /// A TLB miss beyond its walk references; nil when a miss costs only its references.
    public var tlbMiss: CostEvent?
    /// A flush the guest made (sfence.vma, a satp write on an untagged TLB).
    public var tlbFlush: CostEvent
    /// An exception delivered to the guest.
    public var exception: CostEvent
    /// An exception consumed by firmware in Swift (an SBI call).
    public var handledTrap: CostEvent
    /// An interrupt delivered to the guest.
    public var interrupt: CostEvent
    /// A device register access.
    public var mmioAccess: CostEvent
    /// A privileged CSR write executed by the hardware; nil when it costs no more than an instruction.
    public var csrWrite: CostEvent?

    /// The hardware itself: no VMM.
    public static let native = MachinePricing(
        instruction: .instruction, walkReference: .walkReference, tlbMiss: .tlbMiss, tlbFlush: .tlbFlush,
        exception: .trap, handledTrap: .firmwareCall, interrupt: .interrupt, mmioAccess: .mmioAccess,
        csrWrite: .csrWrite)

    /// The VMM's software CPU: every instruction `interpretation` (all-inclusive, so a software TLB
    /// miss costs only its walk), exceptions reflected and interrupts injected in software, device
    /// accesses emulated, an SBI call served by the virtual SBI as an emulated privileged operation,
    /// a CSR write one more interpreted instruction (no pipeline to serialise).
    public static let interpreted = MachinePricing(
        instruction: .interpretation, walkReference: .walkReference, tlbMiss: nil, tlbFlush: .tlbFlush,
        exception: .exceptionReflected, handledTrap: .privilegedEmulated, interrupt: .interruptInjected,
        mmioAccess: .deviceEmulated, csrWrite: nil)

    /// The prices the machine charges as it runs.
    public func costTable(_ profile: CostProfile) -> CostTable {
        var t = CostTable()
        t.instruction = profile.cycles(instruction)
        t.walkReference = profile.cycles(walkReference)
        t.tlbMiss = tlbMiss.map(profile.cycles) ?? 0
        t.tlbFlush = profile.cycles(tlbFlush)
        t.exception = profile.cycles(exception)
        t.interrupt = profile.cycles(interrupt)
        t.handledTrap = profile.cycles(handledTrap)
        t.mmioAccess = profile.cycles(mmioAccess)
        t.csrWrite = csrWrite.map(profile.cycles) ?? 0
        return t
    }

    /// The events `counters` record, priced by `profile`. Cycles the clock advanced beyond them
    /// become `waitedCycles` (never negative): meaningful when the machine charged
    /// `costTable(profile)` for the whole run.
    public func account(_ counters: HartCounters, profile: CostProfile) -> CycleAccount {
        var a = CycleAccount(profile: profile)
        let exceptions = counters.exceptions.reduce(0, &+)
        let handled = counters.handledByHost.reduce(0, &+)
        a.record(instruction, count: counters.instructions)
        a.record(walkReference, count: counters.tlb.walkReferences)
        if let tlbMiss { a.record(tlbMiss, count: counters.tlb.misses) }
        // Flushes the host requests (`Machine.flushTLB`) are a VMM's doing and priced by the VMM's
        // own events; the machine charges only the guest's.
        a.record(tlbFlush, count: counters.tlb.flushes &- counters.tlb.hostFlushes)
        a.record(exception, count: exceptions &- handled)
        a.record(handledTrap, count: handled)
        a.record(interrupt, count: counters.interrupts.reduce(0, &+))
        a.record(mmioAccess, count: counters.mmioAccesses)
        if let csrWrite { a.record(csrWrite, count: counters.privilegedCSRWrites) }
        a.settleWaitedCycles(clock: counters.cycles)
        return a
    }
}
