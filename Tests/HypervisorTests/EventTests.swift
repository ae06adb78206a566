import Boot
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// Hooks, filters, `until`, breakpoints, watchpoints and guest memory access.
@Suite struct EventTests {
    static func guest(_ mode: ExecutionMode = .interpret, _ source: String = TestKernels.hello()) throws -> Guest {
        try Guest(TestKernels.configuration(source, mode: mode))
    }

    @Test(arguments: [ExecutionMode.native, .interpret])
    func hooksSeeFilteredEvents(_ mode: ExecutionMode) throws {
        let g = try Self.guest(mode)
        defer { g.close() }
        var traps: [GuestEvent] = [], hypercalls: [String] = [], mmio: [GuestEvent] = [], privileged = 0, injected = 0
        g.events.add(.trap) { traps.append($0); return .proceed }
        g.events.add(.hypercall, filter: EventFilter(causes: ["sbi_srst"])) { hypercalls.append($0.cause!); return .proceed }
        g.events.add(.mmio, filter: EventFilter(addresses: 0x1000_0000...0x1000_00FF)) { mmio.append($0); return .proceed }
        g.events.add(.privileged, filter: EventFilter(privilege: .supervisor)) { _ in privileged += 1; return .proceed }
        g.events.add(.interruptInjected) { _ in injected += 1; return .proceed }
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(traps.count == 1 && traps[0].cause == "breakpoint" && traps[0].causeCode == 3 && traps[0].privilege == .supervisor)
        #expect(hypercalls == ["sbi_srst"])
        #expect(mmio.count == 1 && mmio[0].address == 0x1000_0005 && mmio[0].isWrite == false && mmio[0].size == 1)
        // csrw stvec, 1000 × csrr sscratch, ebreak, csrw sepc... and the ecalls.
        #expect(privileged > 1000)
        #expect(g.events.counts[.hypercall] == 7)   // all seven SBI calls were seen, one matched
        #expect(g.statistics().privileged >= UInt64(privileged))
        // Interpret injects nothing here (no interrupts); the hook is legal in both modes.
        #expect(injected == 0)
    }

    @Test func aHookStopsTheRunAndRemovingItCostsNothing() throws {
        let g = try Self.guest()
        defer { g.close() }
        let id = g.events.add(.privileged) { _ in .stop }
        #expect(g.run(maxInstructions: 1_000_000) == .hostStop("a hook stopped the run"))
        let stoppedAt = g.instructions
        #expect(stoppedAt < 10)
        g.events.remove(id)
        #expect(g.machine.observedEvents.isEmpty && g.machine.observer == nil)
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
    }

    /// The trap monitor builds and reports an event only while a hook watches its kind
    /// (`EventHub.observes` reads a mask kept as hooks come and go): a hook added between runs
    /// sees every exit after it, and none is reported once it is removed.
    @Test func aHookAddedBetweenRunsSeesEveryExitAfterIt() throws {
        let bits = GuestEventKind.allCases.map(\.bit)
        #expect(Set(bits).count == bits.count && bits.allSatisfy { $0.nonzeroBitCount == 1 })
        let g = try Self.guest(.trap)
        defer { g.close() }
        func exits() -> UInt64 { g.statistics().exits.values.reduce(0, &+) }
        _ = g.run(maxInstructions: 2_000)
        let before = exits()
        #expect(before > 0 && !g.events.observes(.exit))
        var seen: UInt64 = 0
        let id = g.events.add(.exit) { _ in seen += 1; return .proceed }
        #expect(g.events.observes(.exit) && !g.events.observes(.shadowFault))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(seen > 100 && seen == exits() - before)
        g.events.remove(id)
        #expect(!g.events.observes(.exit))
    }

    @Test func stoppingAtThePowerOffCallKeepsThePowerOff() throws {
        let g = try Self.guest()
        defer { g.close() }
        g.events.add(.hypercall, filter: EventFilter(causes: ["sbi_srst"])) { _ in .stop }
        #expect(g.run(until: .event(.hypercall, EventFilter(causes: ["sbi_srst"]), count: 1)) == .poweredOff(code: 0))
        #expect(g.untilReached && g.finalStop == .poweredOff(code: 0))
    }

    @Test func hooksWriteRegisters() throws {
        // The watcher fails as soon as s1 is nonzero: a hook at the second privileged instruction
        // (the first in its loop) sets it.
        let g = try Self.guest(.interpret, TestKernels.watcher(iterations: 100))
        defer { g.close() }
        g.events.add(.trap) { _ in .proceed }
        var seen = 0
        g.events.add(.privileged) { [unowned g] e in
            seen += 1
            if seen == 2 { g.machine.setRegister(9, 1, hart: e.vcpu) }
            return .proceed
        }
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
    }

    @Test func untilConditions() throws {
        let g = try Self.guest()
        defer { g.close() }
        let stop = g.run(until: .event(.hypercall, EventFilter(), count: 3))
        #expect(g.untilReached)
        #expect(g.consoleText == "hel")
        #expect(stop == .hostStop("until: 3 hypercall events"))
        // The trigger's hook is gone, and the machine observes nothing again.
        #expect(g.machine.observer == nil)
        _ = g.run(until: .instructions(10))
        #expect(g.untilReached)
        let pc = g.machine.pc()
        _ = g.step()
        #expect(g.machine.pc() != pc)
        // A pc the kernel reaches later: where a twin is after 5000 instructions.
        let twin = try Self.guest()
        defer { twin.close() }
        _ = twin.run(maxInstructions: 5000)
        let target = twin.machine.pc()
        _ = g.run(until: .pc(target))
        #expect(g.untilReached && g.machine.pc() == target)
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(!g.untilReached)
    }

    @Test func breakpointsAndWatchpoints() throws {
        let g = try Self.guest(.interpret, TestKernels.watcher(iterations: 100))
        defer { g.close() }
        g.breakpoints = [0x8020_0004]
        #expect(g.run() == .breakpoint(hart: 0, pc: 0x8020_0004))
        g.breakpoints = []
        g.watchpoints = [Watchpoint(base: 0x8030_0000, size: 8, access: .read)]
        guard case .watchpoint(_, _, let address, let isWrite) = g.run() else { Issue.record("no watchpoint stop"); return }
        #expect(address == 0x8030_0000 && !isWrite)
        g.watchpoints = []
        #expect(g.run() == .poweredOff(code: 0))
    }

    @Test func guestMemoryPhysicalAndVirtual() throws {
        let g = try Self.guest()
        defer { g.close() }
        try g.writeMemory(0x8030_0000, [1, 2, 3, 4], space: .guestPhysical).get()
        #expect(try g.readMemory(0x8030_0000, count: 4).get() == [1, 2, 3, 4])
        // Paging is off: guest-virtual is guest-physical.
        #expect(try g.readMemory(0x8030_0002, count: 2, space: .guestVirtual(vcpu: 0)).get() == [3, 4])
        // Not this VM's RAM: refused, nothing written.
        #expect(g.readMemory(0x8040_0000 - 2, count: 4) == .failure(.notRAM(address: 0x8040_0000, count: 2)))
        guard case .failure(.notRAM(0x7FFF_FFFF, 1)) = g.writeMemory(0x7FFF_FFFF, [9, 9]) else { Issue.record("wrote outside RAM"); return }
        #expect(g.readMemory(0, count: 1, space: .guestVirtual(vcpu: 1)) == .failure(.noSuchVCPU(1)))
        // The bytes are the carve-out's.
        let host = g.host!
        #expect(host.machine.readPhysical(at: g.carveout!.hostBase + 0x30_0000, count: 4) == [1, 2, 3, 4])
    }
}
