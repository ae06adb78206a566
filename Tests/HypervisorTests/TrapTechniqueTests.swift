import Boot
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

/// The `trap` technique on whole VMs: the same guest output as native, its events charged.
@Suite struct TrapTechniqueTests {
    @Test func runsTheTestKernelLikeNative() throws {
        let native = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .native))
        defer { native.close() }
        let trap = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .trap))
        defer { trap.close() }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(trap.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(trap.consoleText == native.consoleText)
        let account = trap.technique.account(trap)
        // 1000 csrr sscratch, the stvec write, sret: emulated; the ebreak reflected; the putchars
        // SBI calls; the UART read performed on the device model.
        #expect(account.count(.privilegedEmulated) >= 1002)
        #expect(account.count(.exceptionReflected) == 1)
        #expect(account.count(.firmwareCall) == 7)
        #expect(account.count(.deviceEmulated) == 1 && account.count(.mmioAccess) == 0)
        #expect(account.count(.trap) == account.count(.privilegedEmulated) + account.count(.exceptionReflected)
                + account.count(.firmwareCall) + account.count(.shadowFault) + account.count(.tracedWrite)
                + account.count(.deviceEmulated))
        // The monitor charged its work to the clock: the account reproduces it.
        #expect(account.waitedCycles == 0)
        #expect(account.chargedCycles == trap.machine.cycles)
        #expect(trap.statistics().cycles.total == account.total)
        let counters = trap.technique.counters(trap)
        #expect(counters["shadow"]?["hidden_faults"] == account.count(.shadowFault))
    }

    /// A kernel that sleeps in wfi until its SBI timer fires, three times, printing a digit per
    /// tick from its (vectored) interrupt handler.
    static let ticker = """
        _start:
            la t0, vectors
            ori t0, t0, 1            # vectored
            csrw stvec, t0
            li t0, 0x20
            csrw sie, t0             # STIE
            li s0, 0
            call arm
        1:  wfi
            li t0, 3
            blt s0, t0, 1b
            li t0, 0x2
            csrc sstatus, t0
        \(TestKernels.print("\n"))
        \(TestKernels.shutdown(0))
        arm:
            csrr a0, time
            addi a0, a0, 1000
            li a7, TIME
            li a6, 0
            ecall
            li t0, 0x2
            csrs sstatus, t0         # SIE
            ret
        .align 2
        vectors:
            j bad
            j bad
            j bad
            j bad
            j bad
            j tick
        bad:
        \(TestKernels.shutdown(1))
        tick:
            addi s0, s0, 1
            addi a0, s0, 48
            li a7, 1
            ecall
            csrr a0, time
            addi a0, a0, 1000
            li a7, TIME
            li a6, 0
            ecall
            sret
        """

    @Test func timerInterruptsWakeWfiLikeNative() throws {
        let native = try Guest(TestKernels.configuration(Self.ticker, mode: .native))
        defer { native.close() }
        let trap = try Guest(TestKernels.configuration(Self.ticker, mode: .trap))
        defer { trap.close() }
        var injected: [String] = []
        _ = trap.events.add(.interruptInjected) { injected.append($0.cause ?? "?"); return .proceed }
        var privileged = 0
        _ = trap.events.add(.privileged) { _ in privileged += 1; return .proceed }
        var exits = 0
        _ = trap.events.add(.exit) { _ in exits += 1; return .proceed }
        var nativePrivileged = 0
        _ = native.events.add(.privileged) { _ in nativePrivileged += 1; return .proceed }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(trap.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(native.consoleText == "123\n")
        #expect(trap.consoleText == native.consoleText)
        #expect(injected == ["supervisor_timer", "supervisor_timer", "supervisor_timer"])
        #expect(privileged == nativePrivileged, "each system instruction is one privileged event, as natively")
        #expect(privileged > 10)
        let m0 = try #require((trap.technique as? TrapTechnique)?.monitor)
        #expect(exits == Int(m0.counters.traps), "every trap into the VMM is an exit")
        let stats = trap.statistics()
        #expect(stats.exits.values.reduce(0, &+) == m0.counters.traps, "vm:stats().exits counts them by cause")
        #expect(native.statistics().exits.isEmpty, "native has no VMM to exit to")
        let m = try #require((trap.technique as? TrapTechnique)?.monitor)
        #expect(m.counters.interruptsInjected == 3)
        #expect(trap.technique.account(trap).count(.interruptInjected) == 3)
    }

    /// A kernel that echoes what the SBI console gives it (legacy getchar, polled) up to a newline.
    static let echo = """
        _start:
        1:  li a7, 2
            ecall
            bltz a0, 1b              # nothing yet: ask again
            mv s0, a0
            li a7, 1
            ecall
            li t0, 10
            bne s0, t0, 1b
        \(TestKernels.shutdown(0))
        """

    /// The board's console input reaches the guest's SBI console in every mode: from the board's
    /// firmware (native, interpret, pv) or through the VMM's own SBI (trap, bt).
    @Test(arguments: [ExecutionMode.native, .interpret, .trap, .bt, .pv])
    func readsTheSBIConsoleLikeNative(_ mode: ExecutionMode) throws {
        let guest = try Guest(TestKernels.configuration(Self.echo, mode: mode))
        defer { guest.close() }
        guest.input(Array("typed\n".utf8))
        #expect(guest.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(guest.consoleText == "typed\n")
    }

    @Test func theMonitorHoldsNoCycleWithItsMachine() throws {
        weak var machine: Machine?
        weak var monitor: TrapMonitor?
        do {
            let rig = try ShadowRig("li a7, 8\n li a0, 0\n ecall\n")
            rig.start()
            _ = rig.run()
            machine = rig.machine
            monitor = rig.monitor
        }
        #expect(machine == nil && monitor == nil, "the machine owns the monitor (trap handler, timed device), not the reverse")
    }

    @Test func availableAndSharesAHost() throws {
        #expect(ExecutionMode.available.contains(.trap))
        let host = Host(HostConfiguration(memory: 32 << 20))
        defer { host.close() }
        let a = try host.createGuest(TestKernels.configuration(TestKernels.hello("one"), mode: .trap))
        let b = try host.createGuest(TestKernels.configuration(TestKernels.hello("two"), mode: .trap))
        // Each carve-out holds the guest's RAM and its VMM's shadow pool behind it.
        #expect(a.carveout?.size == (4 << 20) + TrapTechnique.shadowPoolSize)
        _ = host.run(maxInstructions: 10_000_000)
        #expect(a.finalStop == .poweredOff(code: 0) && b.finalStop == .poweredOff(code: 0))
        #expect(a.consoleText == "one\n" && b.consoleText == "two\n")
    }

    /// tinyos's pinned cases (labs/guests/tinyos/expected/cases.txt: NAME|BOOTARGS|DISK).
    static let cases = TinyosGuest.cases

    /// `TinyosGuest.comparable` without surrounding blank lines.
    static func comparable(_ console: String) -> String {
        TinyosGuest.comparable(console).trimmingCharacters(in: .newlines)
    }

    /// Each pinned tinyos case under `trap` gives the output pinned under QEMU (the same file the
    /// native board tests compare with), and leaves no stale shadow entry behind.
    @Test(arguments: cases.map(\.name))
    func tinyosLikeNative(_ name: String) throws {
        guard let c = Self.cases.first(where: { $0.name == name }),
              let board = try TinyosBoards.configuration(c.bootargs, disk: c.disk, tag: "trap") else { return }
        let guest = try Guest(GuestConfiguration(mode: .trap, board: board))
        defer { guest.close() }
        let stop = guest.run(maxInstructions: 2_000_000_000)
        let expected = TinyosGuest.expected(name)
        #expect(stop == .poweredOff(code: 0), "console:\n\(guest.consoleText)")
        #expect(Self.comparable(guest.consoleText) == expected.trimmingCharacters(in: .newlines), "console:\n\(guest.consoleText)")
        #expect(!expected.isEmpty)
        let technique = try #require(guest.technique as? TrapTechnique)
        let monitor = try #require(technique.monitor)
        #expect(technique.checkCoherence() == [], "no stale shadow entry after \(name)")
        // The kernel's own code as both walks see it: the guest's tables, and the shadow's 4 KiB leaf.
        let pc = guest.machine.pc()
        let guestWalk = try guest.pageWalk(pc, source: .guest, vcpu: 0).get()
        let shadowWalk = try guest.pageWalk(pc, source: .shadow, vcpu: 0).get()
        #expect(guestWalk.mode == "sv39" && !guestWalk.steps.isEmpty)
        if case .translated(let shadowPA, _) = shadowWalk.outcome, case .translated(let guestPA, _) = guestWalk.outcome {
            #expect(shadowPA == guestPA)
        } else {
            Issue.record("the kernel's pc translates in neither or one of the walks: \(guestWalk.outcome), \(shadowWalk.outcome)")
        }
        #expect(monitor.counters.privilegedEmulated > 0 && monitor.shadow.counters.hiddenFaults > 0)
        if name == "disk" {
            // The virtio-blk completions: PLIC interrupts into the VMM, injected as the vCPU's SEI.
            #expect(monitor.counters.hardwareInterrupts > 0)
            #expect(monitor.counters.interruptsInjected >= monitor.counters.hardwareInterrupts)
        }
        if name == "pte" { #expect(monitor.counters.tracedWrites >= 2 * 20, "the PTE benchmark's two stores an iteration (map, unmap) are traced") }
        let account = technique.account(guest)
        #expect(account.chargedCycles <= guest.machine.cycles, "the clock includes every charged event")
        #expect(account.total == guest.machine.cycles)
    }

    /// tinyos builds its free list before it turns paging on, writing to every 4 KiB page of RAM
    /// while it runs bare: the shadow fills the 2 MiB around each fault, as under a superpage, so
    /// the boot costs a few dozen hidden faults, not one per page (32 768 for 128 MiB).
    @Test func aBareKernelTouchingAllOfRAMCostsAFaultPer2MiB() throws {
        guard let board = try TinyosBoards.configuration("bench=syscall n=1", disk: false, tag: "trap") else { return }
        let guest = try Guest(GuestConfiguration(mode: .trap, board: board))
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        let monitor = try #require((guest.technique as? TrapTechnique)?.monitor)
        let ramPages = board.memory / 4096
        #expect(monitor.shadow.counters.hiddenFaults < ramPages / 100,
                "\(monitor.shadow.counters.hiddenFaults) hidden faults for \(ramPages) pages of RAM")
        #expect(monitor.shadow.checkCoherence() == [])
    }
}
