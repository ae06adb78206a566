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
        MachinePricing.native.account(counters, profile: profile)
    }

    /// The account of `hart` of `machine` (see `native(_:profile:)`).
    public static func native(machine: Machine, hart: Int = 0, profile: CostProfile) -> CycleAccount {
        native(machine.counters(hart: hart), profile: profile)
    }
}
