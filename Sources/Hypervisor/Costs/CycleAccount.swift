// What a run cost: how many events of each kind happened, priced by one profile. Cycles are never
// accumulated separately from counts: they are always counts × prices, so an account is exactly
// reproducible from its counts and profile name, and re-pricing a finished run under another
// profile (`repriced(with:)`) is meaningful — the counts do not depend on the prices, only
// guest-visible time does.

/// Event counts of one vCPU, VM or hart, with the profile that prices them.
public struct CycleAccount: Sendable, Equatable {
    /// The profile that prices every event.
    public private(set) var profile: CostProfile
    /// Indexed by `CostEvent.rawValue`.
    private var counts: [UInt64]
    /// Cycles the clock advanced with no event to charge: time spent waiting for an interrupt
    /// (WFI), stopped, or catching up with another hart. Part of `total`, in no category.
    public var waitedCycles: UInt64 = 0

    public init(profile: CostProfile) {
        self.profile = profile
        counts = Array(repeating: 0, count: CostEvent.allCases.count)
    }

    // MARK: counting

    /// Counts `n` more occurrences of `event`. An array store: cheap next to any event worth
    /// counting, but per-instruction events (interpretation) are better counted in batches.
    public mutating func record(_ event: CostEvent, count n: UInt64 = 1) {
        counts[event.rawValue] &+= n
    }

    /// Adds every count of `other` (another vCPU of the same VM, say). Its profile must be this
    /// account's: summing counts priced differently would be meaningless.
    public mutating func add(_ other: CycleAccount) {
        precondition(other.profile == profile, "adding an account priced by \(other.profile) to one priced by \(profile)")
        for i in counts.indices { counts[i] &+= other.counts[i] }
        waitedCycles &+= other.waitedCycles
    }

    /// The same counts priced by `profile`.
    public func repriced(with profile: CostProfile) -> CycleAccount {
        var a = self
        a.profile = profile
        return a
    }

    // MARK: reading

    public func count(_ event: CostEvent) -> UInt64 { counts[event.rawValue] }

    /// count × price of `event`.
    public func cycles(_ event: CostEvent) -> UInt64 { counts[event.rawValue] &* profile.cycles(event) }

    /// Cycles of every event in `category`.
    public func cycles(in category: CostCategory) -> UInt64 {
        var sum: UInt64 = 0
        for e in CostEvent.allCases where e.category == category { sum &+= cycles(e) }
        return sum
    }

    /// Sets `waitedCycles` to what the hart's `clock` (its modelled cycles) advanced beyond the
    /// events recorded so far: every account is settled this way once its events are in.
    public mutating func settleWaitedCycles(clock: UInt64) {
        let charged = chargedCycles
        waitedCycles = clock > charged ? clock - charged : 0
    }

    /// Cycles charged to events (everything but `waitedCycles`).
    public var chargedCycles: UInt64 {
        var sum: UInt64 = 0
        for e in CostEvent.allCases { sum &+= cycles(e) }
        return sum
    }

    /// Every modelled cycle: charged events plus waiting.
    public var total: UInt64 { chargedCycles &+ waitedCycles }

    /// `total` in microseconds at the profile's clock.
    public var microseconds: Double { profile.microseconds(total) }

    /// Cycles per category, in `CostCategory.allCases` order (zeros included, so tables line up).
    public var byCategory: [(category: CostCategory, cycles: UInt64)] {
        CostCategory.allCases.map { ($0, cycles(in: $0)) }
    }

    /// Counts and cycles of every event that happened, in taxonomy order.
    public var byEvent: [(event: CostEvent, count: UInt64, cycles: UInt64)] {
        CostEvent.allCases.compactMap { e in counts[e.rawValue] == 0 ? nil : (e, count(e), cycles(e)) }
    }
}
