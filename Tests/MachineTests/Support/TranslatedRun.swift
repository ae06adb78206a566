import RISCV
@testable import Machine

/// A Layout program run on a rig under a test translator: what the translator tests compare
/// (a run without one against a run with one, engine against engine).
struct TranslatedRun<Translator: CodeTranslator> {
    let rig: Guest.Rig
    /// Nil for the run without a translator.
    let translator: Translator?
    let stop: StopReason
    var counters: HartCounters { rig.machine.counters() }

    /// Runs `body` in `mode` on `rig` for at most 100 000 instructions, with a translator made by
    /// `make` and set up by `configure` (none when `configure` is nil); `installed` runs once it
    /// is the machine's translator.
    init(_ body: String, on rig: Guest.Rig, mode: PrivilegeMode = .machine, make: (Machine) -> Translator,
         installed: (Machine) -> Void = { _ in }, _ configure: ((Translator) -> Void)?) throws {
        if mode != .machine { rig.machine.grantFullPMPAccess(hart: 0) }
        var installedTranslator: Translator? = nil
        if let configure {
            let t = make(rig.machine)
            configure(t)
            rig.machine.translator = t
            installed(rig.machine)
            installedTranslator = t
        }
        try rig.start(body, mode: mode)
        self.rig = rig
        translator = installedTranslator
        stop = rig.run(100_000)
    }
}
