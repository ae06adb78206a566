// The account of a `native` run, read from the machine's own counters. In native mode there is no
// VMM to count events: the machine charges `CostProfile.machineCostTable` as it runs and counts
// the same events in `HartCounters`, so counts × prices here reproduces its clock exactly — the
// tests hold this to the cycle.

import Machine

extension CycleAccount {
    /// The events `counters` record, priced by `profile`.
    ///
    /// `chargedCycles` equals `counters.cycles` minus the time the hart waited, provided the
    /// machine charged `profile.machineCostTable` for the whole run; the difference becomes
    /// `waitedCycles` (zero for a hart that never executed WFI, was never stopped, and ran alone).
    /// If the machine was priced otherwise, the difference is meaningless and `waitedCycles` is
    /// whatever remains (never negative).
    public static func native(_ counters: HartCounters, profile: CostProfile) -> CycleAccount {
        var a = CycleAccount(profile: profile)
        let exceptions = counters.exceptions.reduce(0, &+)
        let handled = counters.handledByHost.reduce(0, &+)
        a.record(.instruction, count: counters.instructions)
        a.record(.walkReference, count: counters.tlb.walkReferences)
        a.record(.tlbMiss, count: counters.tlb.misses)
        // Flushes the host requests (`Machine.flushTLB`) are a VMM's doing and priced by the VMM's
        // own events; the machine charges only the guest's.
        a.record(.tlbFlush, count: counters.tlb.flushes &- counters.tlb.hostFlushes)
        // An exception serviced by firmware in Swift is charged as a firmware call, not as a trap.
        a.record(.trap, count: exceptions &- handled)
        a.record(.firmwareCall, count: handled)
        a.record(.interrupt, count: counters.interrupts.reduce(0, &+))
        a.record(.mmioAccess, count: counters.mmioAccesses)
        let charged = a.chargedCycles
        a.waitedCycles = counters.cycles > charged ? counters.cycles - charged : 0
        return a
    }

    /// The account of `hart` of `machine` (see `native(_:profile:)`).
    public static func native(machine: Machine, hart: Int = 0, profile: CostProfile) -> CycleAccount {
        native(machine.counters(hart: hart), profile: profile)
    }
}
