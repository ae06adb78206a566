// The account of an `interpret` run, read from the software CPU's counters (the guest machine's
// `HartCounters`). The machine charged `InterpretTechnique.costTable(profile)` as it ran; both come
// from `MachinePricing.interpreted`, so counts × prices reproduce its clock exactly (the tests hold
// this to the cycle), the remainder being time spent waiting.

import Machine

extension CycleAccount {
    /// The events of an interpreted guest whose software CPU kept `counters`, priced by `profile`.
    public static func interpreted(_ counters: HartCounters, profile: CostProfile) -> CycleAccount {
        MachinePricing.interpreted.account(counters, profile: profile)
    }
}
