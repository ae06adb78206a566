// The afterburner plugged into the `bt` translator: the translator's classification decides what
// the loader patches, and its callout emulation (`BinaryTranslator.emulate`, CalloutKind.swift) is
// what a patch word does, so a patched instruction costs what the same instruction costs in
// runtime-translated code and both techniques agree on what is sensitive.

import Machine
import RISCV

extension BinaryTranslator: AfterburnerEmulation {
    public func sensitiveKind(of instruction: Instruction) -> String? {
        CalloutKind.classify(instruction)?.name
    }

    public func runsGuestKernel(hart: Int) -> Bool {
        hart == monitor.hart && inKernel
    }

    public func emulateSensitive(_ instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
        if let kind = CalloutKind.classify(instruction) {
            let outcome = emulate(kind, instruction: instruction, pc: pc)
            if outcome != .native { return outcome }
        }
        // The translator declined (the vCPU is asleep in wfi; it does not run code then) or the
        // site's instruction is no longer sensitive by its rules. Runtime BT would let the
        // hardware run the original, which traps into the monitor; here the hardware would run
        // the patch word, an illegal instruction, so the monitor emulates the original as for a
        // trap instead (`privileged_emulated`, counted and charged by the monitor).
        let outcome = monitor.perform(decoded: instruction, pc: pc, trapped: true)
        monitor.deliverPendingInterrupt()
        return outcome == .retired ? .retired : .abandoned
    }

    /// Patches the kernel `guest` was booted with and routes its patch words here from now on:
    /// called by the technique before the guest's first instruction, instead of translating.
    func afterburn(_ guest: Guest) {
        afterburner = Afterburner.burn(guest, emulation: self)
    }
}
