// References the machine calls on every trap or callout of a guest (its M-mode trap handler, its
// binary translator), held strongly while it runs and reached meanwhile with no reference counting.

/// One value held for the length of a run. Its `let` value is read through a guaranteed
/// reference to the hold, so a call through it retains nothing.
final class RunHold<Value> {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The value installed now, held strongly from the start of `Machine.run` until it returns
/// (runs nest) and reached through `held`, an unmanaged reference: loading the installed value
/// itself (an existential, or a weak reference) retains it around every call, an atomic pair.
/// One installed earlier in the run stays held too, as its own call may be the one that replaced
/// it, still on the stack: everything installed during a run is let go when the run returns.
struct RunHolds<Value> {
    /// How deep in `Machine.run` the machine is (0: not running).
    private(set) var runs = 0
    private var holds: [RunHold<Value>] = []
    /// The value installed now, while the machine runs; nil between runs or when none is.
    /// Its owners read this field directly (`DecodedCode.withTranslator`,
    /// `Machine.withTrapHandler`): a method of this struct, called on the owner's stored
    /// property, copies the struct and retains `holds` on every call (measured: +2% host
    /// instructions on a trap-heavy guest).
    private(set) var held: Unmanaged<RunHold<Value>>?

    /// The machine starts running with `current` installed.
    mutating func runStarted(current: Value?) {
        runs += 1
        if runs == 1 { hold(current) }
    }

    /// The machine stops running: nothing is held any longer.
    mutating func runEnded() {
        runs -= 1
        guard runs == 0 else { return }
        held = nil
        holds.removeAll()
    }

    /// `current` was installed (or removed): held for the rest of the run, if one is going on.
    mutating func installed(_ current: Value?) {
        if runs > 0 { hold(current) }
    }

    private mutating func hold(_ value: Value?) {
        guard let value else { held = nil; return }
        let hold = RunHold(value)
        holds.append(hold)
        held = Unmanaged.passUnretained(hold)
    }
}
