import Boot
import Devices
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// Every injector of the catalogue, injected, with its effect on the guest observed.
@Suite struct FaultTests {
    static func guest(_ source: String, _ mode: ExecutionMode = .interpret) throws -> Guest {
        try Guest(TestKernels.configuration(source, mode: mode))
    }

    static func inject(_ g: Guest, _ kind: FaultKind, _ parameters: [String: FaultParameter], at trigger: FaultTrigger = .now) throws {
        _ = try g.faults.schedule(FaultSpec(kind: kind, parameters: parameters, trigger: trigger))
    }

    @Test func theCatalogueNamesEveryInjector() {
        #expect(FaultInjector.catalogue.map(\.kind) == FaultKind.allCases)
        for d in FaultInjector.catalogue {
            #expect(!d.summary.isEmpty && d.parameters.contains { $0.required } == ![.deviceFailure, .linkDown, .linkUp].contains(d.kind))
        }
    }

    @Test func badParametersAreRefusedAtOnce() throws {
        let g = try Self.guest(TestKernels.watcher())
        defer { g.close() }
        func refused(_ kind: FaultKind, _ ps: [String: FaultParameter]) -> String? {
            do { try Self.inject(g, kind, ps, at: .instructions(10)); return nil } catch { return "\(error)" }
        }
        #expect(refused(.memoryBitflip, ["address": .integer(0x8030_0000)])?.contains("needs 'bit'") == true)
        #expect(refused(.memoryBitflip, ["address": .integer(0x8030_0000), "bit": .integer(8)])?.contains("0-7") == true)
        #expect(refused(.memoryBitflip, ["address": .integer(0x1000), "bit": .integer(1)])?.contains("not guest-physical RAM") == true)
        #expect(refused(.memoryBitflip, ["address": .integer(0x8030_0000), "bit": .integer(1), "colour": .string("red")])?.contains("unknown parameter 'colour'") == true)
        #expect(refused(.registerBitflip, ["register": .string("x0"), "bit": .integer(1)]) != nil)
        #expect(refused(.registerBitflip, ["register": .string("a0"), "bit": .string("1")])?.contains("integer expected") == true)
        #expect(refused(.interruptDrop, ["source": .string("keyboard")])?.contains("bad 'source'") == true)
        #expect(refused(.interruptDelay, ["source": .string("timer")])?.contains("needs 'cycles'") == true)
        #expect(refused(.deviceFailure, [:])?.contains("0 disks") == true)
        #expect(g.faults.pending.isEmpty)
    }

    /// Lua's negative integers arrive as their bit patterns: each is refused with the value as the
    /// user wrote it, never trapped on (a level of -1 was 2^64-1, and `Int(_:)` of it a crash).
    @Test func negativeAndHugeIntegersAreRefusedAsWritten() throws {
        let g = try Self.guest(TestKernels.watcher())
        defer { g.close() }
        func refused(_ kind: FaultKind, _ ps: [String: FaultParameter]) -> String? {
            do { try Self.inject(g, kind, ps, at: .instructions(10)); return nil } catch { return "\(error)" }
        }
        let minusOne = FaultParameter.integer(UInt64(bitPattern: -1))
        let huge = FaultParameter.integer(UInt64(Int64.max))
        let pte: [String: FaultParameter] = ["address": .integer(0), "bit": .integer(1)]
        #expect(refused(.pteBitflip, pte.merging(["level": minusOne]) { $1 }) == "bad 'level' -1 for fault 'bitflip_pte' (expected 0-4)")
        #expect(refused(.pteBitflip, pte.merging(["level": huge]) { $1 }) == "bad 'level' \(Int64.max) for fault 'bitflip_pte' (expected 0-4)")
        #expect(refused(.pteBitflip, pte.merging(["bit": minusOne]) { $1 }) == "bad 'bit' -1 for fault 'bitflip_pte' (expected 0-63)")
        #expect(refused(.memoryBitflip, ["address": .integer(0x8030_0000), "bit": minusOne]) == "bad 'bit' -1 for fault 'bitflip_memory' (expected 0-7)")
        #expect(refused(.registerBitflip, ["register": minusOne, "bit": .integer(1)])?.hasPrefix("bad 'register' -1 ") == true)
        #expect(refused(.registerBitflip, ["register": .integer(5), "bit": .integer(1), "vcpu": minusOne])
                == "bad 'vcpu' -1 for fault 'bitflip_register' (expected 0-0: the VM has 1 vCPU)")
        #expect(refused(.interruptDrop, ["source": .string("uart"), "count": minusOne]) == "bad 'count' -1 for fault 'interrupt_drop' (expected 1-1073741824)")
        #expect(refused(.interruptDrop, ["source": .string("uart"), "count": huge])?.contains("bad 'count' \(Int64.max) ") == true)
        #expect(refused(.interruptDrop, ["source": minusOne])?.hasPrefix("bad 'source' -1 for fault 'interrupt_drop' (expected") == true)
        #expect(refused(.interruptDrop, ["source": huge])?.hasPrefix("bad 'source' \(Int64.max) (no device drives it)") == true)
        #expect(refused(.interruptDelay, ["source": .string("uart"), "cycles": minusOne]) == "bad 'cycles' -1 for fault 'interrupt_delay' (expected at least 1)")
        #expect(refused(.deviceFailure, ["device": .string("disk-1")])?.contains("bad 'device' 'disk-1'") == true)
        #expect(g.faults.pending.isEmpty)
    }

    @Test(arguments: [ExecutionMode.native, .interpret])
    func memoryBitflipAtAnInstructionCount(_ mode: ExecutionMode) throws {
        let quiet = try Self.guest(TestKernels.watcher(), mode)
        #expect(quiet.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        quiet.close()
        let g = try Self.guest(TestKernels.watcher(), mode)
        defer { g.close() }
        try Self.inject(g, .memoryBitflip, ["address": .integer(0x8030_0000), "bit": .integer(3)], at: .instructions(1000))
        #expect(g.faults.pending.count == 1)
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        let r = try #require(g.faults.record.first)
        #expect(r.kind == .memoryBitflip && r.instructions == 1000)
        #expect(r.effect.contains("0x0 became 0x8"))
        #expect(g.statistics().faults == g.faults.record)
    }

    @Test func memoryBitflipThroughGuestVirtualAddresses() throws {
        let g = try Self.guest(FaultKernels.paged)
        defer { g.close() }
        // Once paging is on, VA 0x1000 is DATA: flipping it there is seen by the loop.
        try Self.inject(g, .memoryBitflip, ["address": .integer(0x1000), "bit": .integer(0), "space": .string("guest-virtual")],
                        at: .instructions(2000))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        #expect(g.faults.record[0].effect.contains("guest-physical 0x80300000"))
        #expect(try g.readMemory(0x1000, count: 1, space: .guestVirtual(vcpu: 0)).get() == [1])
    }

    @Test func registerBitflipAtAnEvent() throws {
        let g = try Self.guest(TestKernels.watcher())
        defer { g.close() }
        try Self.inject(g, .registerBitflip, ["register": .string("s1"), "bit": .integer(0)], at: .event(.privileged, count: 50))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        #expect(g.faults.record[0].effect.contains("x9 (s1)"))
        #expect(g.statistics().events["privileged"] != nil)
    }

    @Test func pcBitflipAtAPC() throws {
        let twin = try Self.guest(TestKernels.watcher())
        _ = twin.run(maxInstructions: 300)
        let loopPC = twin.machine.pc()
        twin.close()
        let g = try Self.guest(TestKernels.watcher())
        defer { g.close() }
        try Self.inject(g, .registerBitflip, ["register": .string("pc"), "bit": .integer(40)], at: .pc(loopPC))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        #expect(g.consoleText == "T")   // an instruction access fault at the flipped pc
        #expect(g.faults.record[0].pc == loopPC)
        #expect(g.statistics().traps["instruction_access_fault"] == 1)
    }

    /// Not under pv: the kernel writes satp with tables the pv VMM never validated, which it
    /// refuses (an illegal-instruction trap, before any flip).
    @Test(arguments: [nil, 2] as [Int?], [ExecutionMode.native, .interpret, .trap, .bt, .hw])
    func pteBitflipMakesTheNextAccessFault(level: Int?, mode: ExecutionMode) throws {
        let g = try Self.guest(FaultKernels.paged, mode)
        defer { g.close() }
        var ps: [String: FaultParameter] = ["address": .integer(0x1000), "bit": .integer(0)]
        if let level { ps["level"] = .integer(UInt64(level)) }
        try Self.inject(g, .pteBitflip, ps, at: .instructions(2000))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        #expect(g.consoleText == "T")
        // Under a VMM the guest's traps are reflected (technique counters), not the machine's.
        if mode == .native || mode == .interpret { #expect(g.statistics().traps["load_page_fault"] == 1) }
        let record = try #require(g.faults.record.first, "the flip is recorded")
        #expect(record.effect.contains("level-\(level ?? 0) entry"), "\(record.effect)")
    }

    @Test func pteBitflipWithoutPagingIsRecordedNotApplied() throws {
        let g = try Self.guest(TestKernels.watcher())
        defer { g.close() }
        try Self.inject(g, .pteBitflip, ["address": .integer(0x1000), "bit": .integer(0)])
        #expect(g.faults.record[0].effect.hasPrefix("not applied"))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
    }

    @Test(arguments: [ExecutionMode.native, .interpret, .hw])
    func timerInterruptDropped(_ mode: ExecutionMode) throws {
        let plain = try Self.guest(FaultKernels.interrupts(armTimer: 50), mode)
        #expect(plain.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        plain.close()
        let g = try Self.guest(FaultKernels.interrupts(armTimer: 50), mode)
        defer { g.close() }
        try Self.inject(g, .interruptDrop, ["source": .string("timer")])
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        #expect(g.faults.record[0].effect.hasPrefix("dropped 1 of 1"))
        #expect(g.statistics().traps["supervisor_timer"] == nil)
    }

    @Test func timerInterruptDelayed() throws {
        func arrival(delay: UInt64?) throws -> UInt64 {
            let g = try Self.guest(FaultKernels.interrupts(armTimer: 50, iterations: 200_000))
            defer { g.close() }
            var at: UInt64 = 0
            g.events.add(.trap, filter: EventFilter(causes: ["supervisor_timer"])) { at = $0.cycles; return .proceed }
            if let delay { try Self.inject(g, .interruptDelay, ["source": .string("timer"), "cycles": .integer(delay)]) }
            #expect(g.run(maxInstructions: 10_000_000) == .poweredOff(code: 0))
            if delay != nil { #expect(g.faults.record[0].effect.contains("released at cycle")) }
            return at
        }
        let onTime = try arrival(delay: nil), late = try arrival(delay: 100_000)
        #expect(onTime > 0)
        #expect(late >= onTime + 100_000 && late < onTime + 100_000 + 1_000)
    }

    @Test(arguments: ["timer", "software"], ExecutionMode.allCases.filter(\.isAvailable))
    func spuriousLocalInterrupt(_ source: String, _ mode: ExecutionMode) throws {
        let quiet = try Self.guest(FaultKernels.interrupts(armTimer: nil), mode)
        #expect(quiet.run(maxInstructions: 1_000_000) == .poweredOff(code: 1))
        quiet.close()
        let g = try Self.guest(FaultKernels.interrupts(armTimer: nil), mode)
        defer { g.close() }
        try Self.inject(g, .interruptSpurious, ["source": .string(source)], at: .cycles(20_000))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        let cause = try g.readMemory(0x8030_0010, count: 1).get()[0]
        #expect(cause == (source == "timer" ? 5 : 1))
        #expect(g.faults.record[0].cycles >= 20_000)
    }

    @Test(arguments: [ExecutionMode.interpret, .hw])
    func spuriousDeviceInterrupt(_ mode: ExecutionMode) throws {
        let g = try Self.guest(FaultKernels.interrupts(armTimer: nil, plic: true), mode)
        defer { g.close() }
        try Self.inject(g, .interruptSpurious, ["source": .string("uart")], at: .instructions(500))
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(try g.readMemory(0x8030_0008, count: 1).get() == [10])   // the PLIC gave source 10
        #expect(g.board.interruptLines[10]!.injectedPulses == 1)
    }

    /// Under hw the PLIC's line reaches the VMM (SEIP is not delegated), which injects VSEIP.
    @Test(arguments: [ExecutionMode.interpret, .hw])
    func deviceInterruptDroppedOrDelivered(_ mode: ExecutionMode) throws {
        for drop in [false, true] {
            let g = try Self.guest(FaultKernels.interrupts(armTimer: nil, plic: true), mode)
            defer { g.close() }
            if drop { try Self.inject(g, .interruptDrop, ["source": .integer(10)]) }
            _ = g.run(maxInstructions: 2000)
            g.input([0x41])   // the UART raises its line once the byte is in
            #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: drop ? 1 : 0))
            if drop { #expect(g.faults.record[0].effect.hasPrefix("dropped 1 of 1 assertion of PLIC source 10")) }
            if let vmm = g.hardwareVMM {
                #expect(vmm.counters.interruptExits == (drop ? 0 : 1))
                #expect(vmm.counters.interruptsInjected == (drop ? 0 : 1))
                #expect(g.statistics().exits["supervisor_external"] == (drop ? nil : 1))
            }
        }
    }

    @Test func deviceInterruptDelayed() throws {
        func arrival(delay: UInt64?) throws -> UInt64 {
            let g = try Self.guest(FaultKernels.interrupts(armTimer: nil, iterations: 100_000, plic: true))
            defer { g.close() }
            var at: UInt64 = 0
            g.events.add(.trap, filter: EventFilter(causes: ["supervisor_external"])) { at = $0.cycles; return .proceed }
            if let delay { try Self.inject(g, .interruptDelay, ["source": .string("uart"), "cycles": .integer(delay)]) }
            _ = g.run(maxInstructions: 2000)
            g.input([0x41])
            #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
            #expect(try g.readMemory(0x8030_0008, count: 1).get() == [10])
            if delay != nil { #expect(g.faults.record[0].effect.contains("released at cycle")) }
            return at
        }
        let onTime = try arrival(delay: nil), late = try arrival(delay: 50_000)
        #expect(late >= onTime + 50_000 && late < onTime + 50_000 + 1_000)
    }

    @Test func faultsAreDeterministic() throws {
        func once() throws -> [InjectedFault] {
            let g = try Self.guest(FaultKernels.interrupts(armTimer: 50, iterations: 100_000))
            defer { g.close() }
            try Self.inject(g, .interruptDelay, ["source": .string("timer"), "cycles": .integer(5000)])
            try Self.inject(g, .memoryBitflip, ["address": .integer(0x8030_0100), "bit": .integer(2)], at: .cycles(12_345))
            _ = g.run(maxInstructions: 1_000_000)
            return g.faults.record
        }
        #expect(try once() == once())
    }
}
