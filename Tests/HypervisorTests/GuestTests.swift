import Boot
import Machine
import Testing
@testable import Hypervisor

/// VMs under `native` and `interpret`: the same guest output, the interpreter's prices, accounts
/// that reproduce the modelled clock, and determinism.
@Suite struct GuestTests {
    @Test(arguments: [ExecutionMode.native, .interpret])
    func runsAGuestToPowerOff(_ mode: ExecutionMode) throws {
        let guest = try Guest(TestKernels.configuration(TestKernels.hello(), mode: mode))
        defer { guest.close() }
        #expect(guest.mode == mode)
        #expect(guest.name == "vm1")
        let stop = guest.run(maxInstructions: 1_000_000)
        #expect(stop == .poweredOff(code: 0))
        #expect(guest.finalStop == .poweredOff(code: 0))
        #expect(guest.consoleText == "hello\n")
        // Stopped for good: running again changes nothing.
        let cycles = guest.cycles
        #expect(guest.run() == .poweredOff(code: 0))
        #expect(guest.cycles == cycles)
        #expect((guest.carveout == nil) == (mode == .native))
    }

    @Test(arguments: [ExecutionMode.native, .interpret, .trap, .bt])
    func accountEqualsTheModelledClock(_ mode: ExecutionMode) throws {
        for profile in CostProfile.all {
            let guest = try Guest(TestKernels.configuration(TestKernels.hello(), mode: mode, profile: profile))
            defer { guest.close() }
            _ = guest.run(maxInstructions: 1_000_000)
            let account = guest.technique.account(guest)
            #expect(account.waitedCycles == 0, "\(profile.name)")
            #expect(account.chargedCycles == guest.machine.cycles, "\(profile.name)")
            #expect(account.total == guest.statistics().cycles.total)
            // Guest-visible time is the modelled clock.
            #expect(guest.machine.mtime == guest.machine.cycles / guest.machine.configuration.cyclesPerTick)
        }
    }

    @Test func interpretIsChargedPerInstruction() throws {
        let native = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .native))
        let interpreted = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .interpret))
        defer { native.close(); interpreted.close() }
        _ = native.run(maxInstructions: 1_000_000)
        _ = interpreted.run(maxInstructions: 1_000_000)
        let n = native.statistics(), i = interpreted.statistics()
        #expect(n.instructions == i.instructions)
        #expect(n.cycles.byEvent["instruction"]?.count == n.instructions)
        #expect(n.cycles.byEvent["interpretation"] == nil)
        #expect(i.cycles.byEvent["instruction"] == nil)
        #expect(i.cycles.byEvent["interpretation"]?.count == i.instructions)
        #expect(i.cycles.byEvent["interpretation"]?.cycles == i.instructions * CostProfile.standard.cycles(.interpretation))
        // The kernel's own trap is reflected, its SBI calls emulated, its device access emulated.
        #expect(i.cycles.byEvent["exception_reflected"]?.count == 1)
        #expect(i.cycles.byEvent["device_emulated"]?.count == 1)
        #expect(i.cycles.byEvent["privileged_emulated"]?.count == n.cycles.byEvent["firmware_call"]?.count)
        #expect(i.cycles.byCategory["interpretation"]! > 0 && i.cycles.byCategory["guest"] == 0)
        #expect(i.cycles.total > n.cycles.total)
        #expect(i.hypercalls["sbi_legacy_console_putchar"] == 6)
        #expect(i.hypercalls["sbi_srst"] == 1)
        #expect(n.hypercalls.isEmpty && n.firmwareCalls["sbi_srst"] == 1)
        #expect(i.traps["breakpoint"] == 1 && n.traps["breakpoint"] == 1)
        #expect(i.mode == "interpret" && i.profileName == CostProfile.standard.name)
        #expect(i.host != nil && n.host == nil)
    }

    @Test(arguments: [ExecutionMode.native, .interpret, .bt])
    func sameRunSameStatistics(_ mode: ExecutionMode) throws {
        func once() throws -> GuestStatistics {
            let guest = try Guest(TestKernels.configuration(TestKernels.hello(iterations: 5000), mode: mode))
            defer { guest.close() }
            var traps = 0
            guest.events.add(.trap) { _ in traps += 1; return .proceed }
            _ = try guest.faults.schedule(FaultSpec(kind: .registerBitflip, parameters: ["register": .string("t2"), "bit": .integer(3)],
                                                    trigger: .instructions(500)))
            _ = guest.run(maxInstructions: 1_000_000)
            // bt's guest kernel runs deprivileged: its device access and its ebreak reach the VMM
            // as hardware traps, beside the ones the kernel sees.
            if mode != .bt { #expect(traps == 1) }
            return guest.statistics()
        }
        let a = try once(), b = try once()
        #expect(a == b)
        if mode != .bt { #expect(a.events["trap"] == 1) }
        #expect(a.faults.count == 1)
    }

    @Test func profileOverridePricesFromThenOn() throws {
        let guest = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .interpret))
        defer { guest.close() }
        guest.profile = try CostProfile.named("modern")
        #expect(guest.machine.costs == InterpretTechnique.costTable(guest.profile))
        _ = guest.run(maxInstructions: 1_000_000)
        #expect(guest.statistics().profileName == "modern")
        #expect(guest.technique.account(guest).chargedCycles == guest.machine.cycles)
    }

    @Test func everyModeIsAvailable() throws {
        #expect(ExecutionMode.available == [.native, .interpret, .trap, .bt, .pv, .hw])
        #expect(ExecutionMode.allCases.filter { !$0.isAvailable }.isEmpty)
    }
}
