import Machine
import RISCV
@testable import Hypervisor

/// A deprivileged guest under the trap-and-emulate monitor with shadow paging: guest RAM is the
/// first 2 MiB of a 4 MiB machine (guest-physical = machine-physical), the shadow pool the last
/// MiB. The guest kernel starts in virtual S-mode with satp Bare; its SBI has two calls (a7 = 8:
/// shutdown, a0 = code; a7 = 1: record a0).
final class ShadowRig {
    static let guestBase: UInt64 = 0x8000_0000
    static let guestSize: UInt64 = 2 << 20
    static let poolBase: UInt64 = 0x8030_0000
    let machine: Machine
    let monitor: TrapMonitor
    let program: AssembledProgram
    var output: [UInt64] = []
    var exitCode: UInt64?
    var shadow: ShadowPageTables { monitor.shadow }

    init(_ source: String, capacity: Int = 8, poolSize: UInt64 = 1 << 20) throws {
        var c = MachineConfiguration()
        c.ramSize = 4 << 20
        machine = Machine(c)
        machine.grantFullPMPAccess(hart: 0)
        let map = GuestPhysicalMap([.init(guestBase: Self.guestBase, size: Self.guestSize, machineBase: Self.guestBase, isRAM: true)])
        monitor = TrapMonitor(machine: machine, map: map, poolBase: Self.poolBase, poolSize: poolSize, shadowCapacity: capacity)
        program = try Assembler.assemble(source)
        machine.loadPhysical(program.bytes, at: Self.guestBase)
        monitor.supervisorCall = { [unowned self] m, h in
            switch m.machine.register(17, hart: h) {
            case 8:
                exitCode = m.machine.register(10, hart: h)
                m.machine.requestStop(.hostStop("shutdown"))
            case 1: output.append(m.machine.register(10, hart: h))
            default: m.machine.setRegister(10, UInt64(bitPattern: -2), hart: h)
            }
            return true
        }
    }

    func start() { monitor.start(pc: Self.guestBase, a0: 0, a1: 0) }

    @discardableResult
    func run(_ max: UInt64 = 100_000) -> StopReason { machine.run(maxInstructions: max) }

    func x(_ n: Int) -> UInt64 { machine.register(n) }
    func symbol(_ name: String) -> UInt64 { program.symbols[name]! }

    func read64(_ a: UInt64) -> UInt64 {
        let b = machine.readPhysical(at: a, count: 8)!
        return (0..<8).reduce(0) { $0 | UInt64(b[$1]) << (8 * UInt64($1)) }
    }

    func write64(_ a: UInt64, _ v: UInt64) {
        machine.loadPhysical((0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }, at: a)
    }

    static func pte(_ pa: UInt64, _ flags: UInt64) -> UInt64 { Sv39.entry(pa, flags) }
    static let kernelRWX = Sv39.v | Sv39.r | Sv39.w | Sv39.x | Sv39.a | Sv39.d
    static func satp(_ root: UInt64, asid: UInt64 = 0) -> UInt64 { (8 << 60) | (asid << 44) | (root >> 12) }

    /// Guest tables at 0x8010_0000: root; L1 at +0x1000 maps the guest's 2 MiB at VA 0x8000_0000 as
    /// one kernel superpage (so the kernel can write its own tables); L1 at +0x3000 and L0 at
    /// +0x2000 map VA 0x4000_0000.. as 4 KiB pages, entries left to each test.
    static let root: UInt64 = 0x8010_0000
    static let l1Kernel: UInt64 = 0x8010_1000
    static let l0User: UInt64 = 0x8010_2000
    static let l1User: UInt64 = 0x8010_3000

    func buildTables() {
        write64(Self.root + 2 * 8, Self.pte(Self.l1Kernel, Sv39.v))
        write64(Self.l1Kernel, Self.pte(Self.guestBase, Self.kernelRWX))
        write64(Self.root + 1 * 8, Self.pte(Self.l1User, Sv39.v))
        write64(Self.l1User, Self.pte(Self.l0User, Sv39.v))
    }

    /// Code that installs `handler` as stvec and turns on paging with the tables above.
    static let prologue = """
        la t0, handler
        csrw stvec, t0
        li t0, 0x8000000000080100
        csrw satp, t0
        sfence.vma
        li s0, 0
        """
    /// A handler that logs scause into s0 (a byte each, newest lowest), skips the instruction and returns to S.
    static let logAndSkip = """
        .align 2
        handler:
        csrr t6, scause
        slli s0, s0, 8
        or s0, s0, t6
        csrr t6, sepc
        addi t6, t6, 4
        csrw sepc, t6
        li t6, 0x100
        csrs sstatus, t6
        sret
        """
    static let shutdown = "li a7, 8\n li a0, 0\n ecall\n"
}
