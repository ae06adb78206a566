// What a callout does: the sensitive instruction emulated against the vCPU by the same code the
// trap path uses (PrivilegedEmulator through `TrapMonitor.perform`, the shadow's fence and traced
// store, the virtual SBI), with no trap taken and the translator's own price charged instead of
// the trap's [AA06, §3.2: "in-TC" emulation and callouts]. A callout made for the guest kernel does
// nothing for code running in guest user mode (the same physical code, or a kernel running
// user code): it answers `.native`, and the hardware runs the original instruction, traps included.

import Machine
import RISCV

extension BinaryTranslator {
    /// Performs callout `kind`, which replaced `instruction`, at the guest's virtual `pc`: the
    /// function the runtime translator's callouts and load-time patches share. Pending virtual
    /// interrupts are delivered afterwards, as the monitor does after a trap.
    public func emulate(_ kind: CalloutKind, instruction: Instruction, pc: UInt64) -> CalloutOutcome {
        // Not an emulation: a price on an instruction the hardware then runs.
        if kind == .indirectJump { return indirectJump() }
        guard inKernel, !monitor.asleep else { return .native }
        // The PLIC's pin may have dropped (the guest claimed its interrupt through a device
        // callout, with no trap for the monitor to notice): follow it first.
        monitor.syncExternalInterrupt()
        if kind != .tracedStore && kind != .device && eventHooks?.observes(.privileged) != false {
            onPrivileged?(pc, instruction.raw)
        }
        let outcome: CalloutOutcome
        switch kind {
        case .csrInline:
            chargeEmulation(.csr)
            outcome = perform(instruction, pc: pc)
        case .csr, .sret, .wfi, .sfenceVMA, .mret:
            chargeCallout()
            outcome = perform(instruction, pc: pc)
        case .ecall:
            chargeCallout()
            // An ecall never retires, even when the call returns: natively it is an exception
            // that the firmware handles (the privileged spec's minstret does not count ECALL), so
            // it counts as a trap taken, as under trap, and the guest's instret agrees.
            perform(instruction, pc: pc)
            outcome = .abandoned
        case .tracedStore:
            outcome = tracedStore(instruction, pc: pc)
        case .device:
            outcome = deviceAccess(instruction, pc: pc)
        case .indirectJump:
            outcome = .native   // priced above, never emulated
        }
        if outcome != .native {
            counters.calloutsByKind[Int(kind.rawValue)] &+= 1
            monitor.deliverPendingInterrupt()
        }
        settleGuards(after: kind)
        return outcome
    }

    /// A privileged instruction through the monitor's emulator, without a trap.
    @discardableResult
    func perform(_ instruction: Instruction, pc: UInt64) -> CalloutOutcome {
        monitor.perform(decoded: instruction, pc: pc, trapped: false) == .retired ? .retired : .abandoned
    }

    // MARK: adapted traced stores

    /// An adapted store: emulated like the monitor's traced store when it hits a traced page;
    /// any other store (the same instruction writing ordinary memory) runs natively.
    func tracedStore(_ inst: Instruction, pc: UInt64) -> CalloutOutcome {
        // The shadows unretained (a local reference to them cost a retain and release on each
        // call): the monitor, which this translator holds, holds them.
        Unmanaged.passUnretained(monitor.shadow)._withUnsafeGuaranteedRef { tracedStore(inst, pc: pc, shadow: $0) }
    }

    func tracedStore(_ inst: Instruction, pc: UInt64, shadow: ShadowPageTables) -> CalloutOutcome {
        guard let (va, _) = withMachine({ Self.storeTarget(inst, machine: $0, hart: monitor.hart) }),
              shadow.storeIsTraced(va: va) else {
            counters.tracedStoreNative &+= 1
            return .native
        }
        switch shadow.emulateTracedStore(pc: pc, hart: monitor.hart, instruction: inst) {
        case .emulated:
            counters.inline &+= 1
            counters.tracedWriteInline &+= 1
            charge(prices.tracedWriteInline)
            return .retired
        case .guestFault(let t):
            // The store faults in the guest's own view: the VMM delivers the fault, as a callout.
            chargeCallout()
            monitor.reflect(t, pc: pc)
            return .abandoned
        case .retry:
            return .native
        }
    }

    /// The virtual address and size a store (plain, FP, sc, AMO) writes; nil for anything else.
    static func storeTarget(_ inst: Instruction, machine: Machine, hart: Int) -> (UInt64, Int)? {
        let base = machine.register(Int(inst.rs1), hart: hart)
        let offset = base &+ UInt64(bitPattern: Int64(inst.imm))
        switch inst.opcode {
        case .sb: return (offset, 1)
        case .sh: return (offset, 2)
        case .sw, .fsw: return (offset, 4)
        case .sd, .fsd: return (offset, 8)
        case .sc_w: return (base, 4)
        case .sc_d: return (base, 8)
        default:
            guard inst.opcode.isAMO else { return nil }
            return (base, inst.opcode.memoryAccessWidth)
        }
    }
}
