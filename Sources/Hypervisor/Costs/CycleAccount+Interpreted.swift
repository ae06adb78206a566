// The account of an `interpret` run, read from the software CPU's counters (the guest machine's
// `HartCounters`). The machine charged `InterpretTechnique.costTable(profile)` as it ran, which
// prices each counter with the event below, so counts × prices reproduce its clock exactly (the
// tests hold this to the cycle), the remainder being time spent waiting.

import Machine

extension CycleAccount {
    /// The events of an interpreted guest whose software CPU kept `counters`, priced by `profile`.
    public static func interpreted(_ counters: HartCounters, profile: CostProfile) -> CycleAccount {
        var a = CycleAccount(profile: profile)
        let exceptions = counters.exceptions.reduce(0, &+)
        let handled = counters.handledByHost.reduce(0, &+)
        a.record(.interpretation, count: counters.instructions)
        a.record(.walkReference, count: counters.tlb.walkReferences)
        // Host flushes are the VMM's own doing (a fault injector's, say), not the guest's.
        a.record(.tlbFlush, count: counters.tlb.flushes &- counters.tlb.hostFlushes)
        // An exception the guest kernel handles is delivered by the VMM in software; one the VMM's
        // virtual SBI consumes is an emulated privileged operation.
        a.record(.exceptionReflected, count: exceptions &- handled)
        a.record(.privilegedEmulated, count: handled)
        a.record(.interruptInjected, count: counters.interrupts.reduce(0, &+))
        a.record(.deviceEmulated, count: counters.mmioAccesses)
        let charged = a.chargedCycles
        a.waitedCycles = counters.cycles > charged ? counters.cycles - charged : 0
        return a
    }
}
