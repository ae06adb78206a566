import Boot
import Foundation
import GuestTestSupport
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// The `hw` technique: the unmodified kernel in VS-mode, exits only where the VMM asked for them.
@Suite struct HardwareAssistedTechniqueTests {
    @Test func runsTheTestKernelLikeNativeWithFewExits() throws {
        let native = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .native))
        defer { native.close() }
        let hw = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .hw))
        defer { hw.close() }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.consoleText == native.consoleText)
        #expect(hw.instructions == native.instructions, "the guest runs the same instructions")
        let account = hw.technique.account(hw)
        // The 1000 csrr sscratch, the stvec write and the sret run in VS-mode; the ebreak is
        // delivered to the guest by the hardware; the putchar SBI calls and the UART read exit.
        #expect(account.count(.privilegedEmulated) == 0)
        #expect(account.count(.trap) == 1, "the ebreak, taken by the guest without an exit")
        #expect(account.count(.firmwareCall) == 7)
        #expect(account.count(.deviceEmulated) == 1)
        #expect(account.count(.vmExit) == 8 && account.count(.vmEntry) == 8)
        #expect(account.waitedCycles == 0)
        #expect(account.chargedCycles == hw.machine.cycles, "the account reproduces the clock")
        let stats = hw.statistics()
        #expect(stats.exits == ["ecall_vs": 7, "load_guest_page_fault": 1])
        #expect(hw.technique.counters(hw)["hw"]?["exits"] == 8)
    }

    @Test func timerInterruptsReachTheGuestWithoutExits() throws {
        let native = try Guest(TestKernels.configuration(TrapTechniqueTests.ticker, mode: .native))
        defer { native.close() }
        let hw = try Guest(TestKernels.configuration(TrapTechniqueTests.ticker, mode: .hw))
        defer { hw.close() }
        var exits: [String] = []
        _ = hw.events.add(.exit) { exits.append($0.cause ?? "?"); return .proceed }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.consoleText == "123\n" && native.consoleText == "123\n")
        // The SBI timer raises VSTIP through hvip; hideleg delivers it to VS-mode: the guest's
        // three ticks cost no exit, only its SBI calls do.
        #expect(Set(exits) == ["ecall_vs"])
        #expect(hw.machine.counters(hart: 0).interrupts[6] == 3, "three VS timer interrupts")
    }

    /// The VMM's execution controls: wfi and sret exit (hstatus VTW, VTSR) and are emulated; the
    /// guest cannot tell, but pays an exit for each.
    @Test func interceptedInstructionsAreEmulated() throws {
        var c = try TestKernels.configuration(TrapTechniqueTests.ticker, mode: .hw)
        c.hardwarePolicy.intercepts = [.wfi, .sret]
        let hw = try Guest(c)
        defer { hw.close() }
        #expect(hw.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.consoleText == "123\n")
        let vmm = try #require(hw.hardwareVMM)
        #expect(vmm.counters.intercepted["wfi"] == 3)
        #expect(vmm.counters.intercepted["sret"] == 3, "one per tick handler")
        #expect(hw.statistics().exits["virtual_instruction"] == 6)
        let account = hw.technique.account(hw)
        #expect(account.count(.privilegedEmulated) == 6)
        #expect(account.chargedCycles + account.waitedCycles == hw.machine.cycles)
        // Not intercepted: the same kernel makes no such exit.
        let plain = try Guest(TestKernels.configuration(TrapTechniqueTests.ticker, mode: .hw))
        defer { plain.close() }
        #expect(plain.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(plain.statistics().exits["virtual_instruction"] == nil)
        #expect(plain.instructions == hw.instructions, "emulated instructions retire as executed ones")
    }

    /// A store to a guest physical address with nothing there: the G stage refuses it, and the
    /// VMM reflects the access fault a machine without a VMM gives.
    @Test func aHoleInGuestPhysicalMemoryIsTheGuestsAccessFault() throws {
        let kernel = """
            _start:
                la t0, trap
                csrw stvec, t0
                li t0, 0x40000000        # neither RAM nor a device
                sw zero, 0(t0)
            \(TestKernels.shutdown(0))
            .align 2
            trap:
                csrr a0, scause
                addi a0, a0, 48
                li a7, 1
                ecall
            \(TestKernels.shutdown(1))
            """
        for mode in [ExecutionMode.native, .hw] {
            let g = try Guest(TestKernels.configuration(kernel, mode: mode))
            defer { g.close() }
            #expect(g.run(maxInstructions: 100_000) == .poweredOff(code: 1))
            #expect(g.consoleText == "7", "store access fault (7) under \(mode)")
        }
    }

    /// The hidden G-stage tables sit behind the guest's RAM, where no guest address reaches.
    @Test func theGStageMapsTheGuestsRAMAndNothingElse() throws {
        let g = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .hw))
        defer { g.close() }
        let m = g.machine
        let memory = g.board.configuration.memory
        #expect(m.configuration.ramSize == memory + HardwareAssistedTechnique.vmmMemory(forGuestMemory: memory))
        #expect(m.isVirtualized(hart: 0) && m.privilege(hart: 0) == .supervisor, "the kernel starts in VS-mode")
        let hgatp = try #require(m.readCSR(RISCV.CSR.hgatp))
        #expect(hgatp >> 60 == 8, "Sv39x4")
        #expect((hgatp & ((1 << 44) - 1)) << 12 == m.configuration.ramBase + memory, "the root sits behind the guest's RAM")
        // Through both stages, the last guest page is there and the first hidden page is not.
        #expect(m.translate(m.configuration.ramBase + memory - 8, hart: 0, access: .load) == .physical(m.configuration.ramBase + memory - 8))
        #expect(m.translate(m.configuration.ramBase + memory, hart: 0, access: .load) == .fault(.loadGuestPageFault))
        #expect(m.translate(0x1000_0000, hart: 0, access: .store) == .fault(.storeGuestPageFault), "devices exit")
    }

    @Test func availableAndRefusesABareMetalGuest() throws {
        #expect(ExecutionMode.available.contains(.hw))
        var board = try TestKernels.board(TestKernels.hello())
        board.firmware = .none
        #expect(throws: GuestBuildError.self) { try Guest(GuestConfiguration(mode: .hw, board: board)) }
    }
}
