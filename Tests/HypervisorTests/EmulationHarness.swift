import Machine
import RISCV
@testable import Hypervisor

/// A minimal trap-and-emulate monitor for the emulation tests: the guest kernel runs in U-mode on
/// a bare machine (no paging); the hart's every trap reaches this handler, which emulates privileged
/// instructions, reflects guest traps, and offers a two-call SBI (a7 = 8: shutdown with a0 as the
/// code; a7 = 1: record a0 as console output).
final class MiniVMM: MachineModeTrapHandler {
    let machine: Machine
    var vcpu = VirtualCPU()
    var reflected: [VirtualTrap] = []
    var outcomes: [EmulationOutcome] = []
    var fences: [(UInt64?, UInt16?)] = []
    var output: [UInt64] = []
    var exitCode: UInt64?

    init(_ source: String, ramSize: UInt64 = 1 << 20) throws {
        var c = MachineConfiguration()
        c.ramSize = ramSize
        machine = Machine(c)
        machine.grantFullPMPAccess(hart: 0)
        machine.trapHandler = self
        let image = try Assembler.bytes(source)
        machine.loadPhysical(image, at: 0x8000_0000)
        machine.startHart(0, privilege: .user, pc: 0x8000_0000, a0: 0, a1: 0)
    }

    @discardableResult
    func run(_ max: UInt64 = 10_000) -> StopReason { machine.run(maxInstructions: max) }

    func x(_ n: Int) -> UInt64 { machine.register(n) }

    func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
        switch trap.cause {
        case ExceptionCause.illegalInstruction.rawValue:
            let outcome = PrivilegedEmulator.emulate(UInt32(truncatingIfNeeded: trap.tval), pc: trap.pc,
                                                     vcpu: &vcpu, machine: machine, hart: hart)
            outcomes.append(outcome)
            switch outcome {
            case .completed, .returned: break
            case .waiting: machine.requestStop(.hostStop("wfi"))
            case .fence(let va, let asid): fences.append((va, asid))
            case .supervisorCall: supervisorCall(pc: trap.pc)
            case .reflect(let t): reflect(t, pc: trap.pc)
            case .notPrivileged: reflect(.exception(.illegalInstruction, tval: trap.tval), pc: trap.pc)
            }
        case ExceptionCause.ecallU.rawValue:
            if vcpu.privilege == .supervisor { supervisorCall(pc: trap.pc) } else { reflect(.exception(.ecallU), pc: trap.pc) }
        default:
            reflect(VirtualTrap(cause: trap.cause, isInterrupt: false, tval: trap.tval), pc: trap.pc)
        }
        return true
    }

    func supervisorCall(pc: UInt64) {
        switch machine.register(17) {
        case 8:
            exitCode = machine.register(10)
            machine.requestStop(.hostStop("shutdown"))
        case 1: output.append(machine.register(10))
        default: machine.setRegister(10, UInt64(bitPattern: -2))  // SBI_ERR_NOT_SUPPORTED
        }
        machine.setPC(pc &+ 4)
    }

    func reflect(_ t: VirtualTrap, pc: UInt64) {
        reflected.append(t)
        machine.setPC(ExceptionReflection.deliver(t, to: &vcpu, pc: pc))
    }
}
