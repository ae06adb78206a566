// The SBI's guest-visible state, for board snapshots (VirtBoard+Snapshot.swift): each hart's
// pending TIME deadline and HSM suspension. Its call counts go back with it, as the machine's
// counters do, so that a restored VM's statistics describe the run it restored.

import Machine

/// The built-in SBI's state at one moment.
public struct BuiltinSBIState: Sendable, Equatable, Codable {
    let timerDeadlines: [UInt64?]
    let suspended: [Bool]
    @SortedKeysCoding var callCounts: [UInt64: UInt64]
}

extension BuiltinSBI {
    public func saveState() -> BuiltinSBIState {
        BuiltinSBIState(timerDeadlines: timerDeadlines, suspended: suspended, callCounts: callCounts)
    }

    /// Puts back a state saved by an SBI with as many harts; returns false, changing nothing,
    /// for any other. The machine's clock must be restored first: the timer's deadline is
    /// compared with it from here on.
    /// Whether `restoreState` would take `state` (saved by an SBI of as many harts).
    public func accepts(_ state: BuiltinSBIState) -> Bool {
        state.timerDeadlines.count == timerDeadlines.count && state.suspended.count == suspended.count
    }

    @discardableResult
    public func restoreState(_ state: BuiltinSBIState) -> Bool {
        guard accepts(state) else { return false }
        timerDeadlines = state.timerDeadlines
        suspended = state.suspended
        callCounts = state.callCounts
        platform.timerDeadlineChanged(self)
        return true
    }
}
