import Boot
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// Several VMs on one host: carve-outs, round-robin scheduling, and isolation from a hostile guest.
@Suite struct HostTests {
    static func fnv(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = p.bindMemory(to: UInt64.self, capacity: count / 8)
        for i in 0..<count / 8 { h = (h ^ words[i]) &* 0x100_0000_01b3 }
        return h
    }

    static func hash(_ host: Host, _ c: Carveout) -> UInt64 {
        fnv(host.machine.hostPointer(physical: c.hostBase, count: c.size)!, Int(c.size))
    }

    @Test func carveoutsAreFirstFitAndPageAligned() {
        var a = CarveoutAllocator(base: 0x8000_0000, size: 16 << 20)
        let x = a.allocate(4 << 20)!, y = a.allocate(5000)!, z = a.allocate(4 << 20)!
        #expect(x.hostBase == 0x8000_0000 && y.hostBase == 0x8040_0000 && y.size == 8192)
        #expect(z.hostBase == 0x8040_2000)
        #expect(a.allocate(16 << 20) == nil)
        a.free(y)
        let w = a.allocate(4096)!
        #expect(w.hostBase == 0x8040_0000)   // the first hole that fits
        #expect(!x.overlaps(z) && !w.overlaps(z))
    }

    @Test func twoVMsRunSideBySideWithTheirOwnConsoles() throws {
        let host = Host(HostConfiguration(memory: 16 << 20, slice: 500))
        defer { host.close() }
        var ca = try TestKernels.configuration(TestKernels.hello("first", iterations: 3000), mode: .interpret)
        ca.name = "a"
        let a = try host.createGuest(ca)
        let b = try host.createGuest(try TestKernels.configuration(TestKernels.hello("second", iterations: 6000), mode: .interpret))
        #expect(a.id != b.id && b.name == "vm2" && a.name == "a")
        #expect(!a.carveout!.overlaps(b.carveout!))
        #expect(host.guests.count == 2)
        let stop = host.run(maxInstructions: 10_000_000)
        #expect(a.finalStop == .poweredOff(code: 0) && b.finalStop == .poweredOff(code: 0), "\(stop)")
        #expect(a.consoleText == "first\n")
        #expect(b.consoleText == "second\n")
        // Each turn was at most a slice, so both ran many turns, interleaved.
        #expect(host.switches > 10)
        #expect(host.cycles == a.cycles + b.cycles)
        #expect(a.statistics().host?.switches == host.switches)
        #expect(throws: GuestBuildError.self) { try host.createGuest(GuestConfiguration(mode: .native)) }
    }

    @Test func theSameHostRunTwiceGivesTheSameStatistics() throws {
        func once() throws -> [GuestStatistics] {
            let host = Host(HostConfiguration(memory: 16 << 20, slice: 777))
            defer { host.close() }
            let a = try host.createGuest(try TestKernels.configuration(FaultKernels.interrupts(armTimer: 300, iterations: 30_000), mode: .interpret))
            let b = try host.createGuest(try TestKernels.configuration(TestKernels.hello("b", iterations: 9000), mode: .interpret))
            try a.faults.schedule(FaultSpec(kind: .interruptDelay, parameters: ["source": .string("timer"), "cycles": .integer(7000)]))
            b.events.add(.privileged) { _ in .proceed }
            _ = host.run()
            return [a.statistics(), b.statistics()]
        }
        let first = try once(), second = try once()
        #expect(first == second)
        #expect(first[0].faults.count == 1 && first[1].events["privileged"]! > 9000)
    }

    @Test func aVMThatDoesNotFitIsRefusedAndRemovalFreesMemory() throws {
        let host = Host(HostConfiguration(memory: 8 << 20))
        defer { host.close() }
        let a = try host.createGuest(try TestKernels.configuration(TestKernels.hello(), mode: .interpret))
        _ = try host.createGuest(try TestKernels.configuration(TestKernels.hello(), mode: .interpret))
        #expect(throws: GuestBuildError.self) { try host.createGuest(try TestKernels.configuration(TestKernels.hello(), mode: .interpret)) }
        let window = a.carveout!
        _ = a.run(maxInstructions: 100_000)
        host.remove(a)
        #expect(host.guests.count == 1)
        #expect(a.finalStop != nil)
        // The freed window is zero again and the next VM gets it.
        #expect(Self.hash(host, window) == Self.fnv([UInt8](repeating: 0, count: Int(window.size)), Int(window.size)))
        let c = try host.createGuest(try TestKernels.configuration(TestKernels.hello(), mode: .interpret))
        #expect(c.carveout == window)
        #expect(c.run(maxInstructions: 100_000) == .poweredOff(code: 0))
    }

    /// A guest that stores pseudo-random values at pseudo-random addresses (all of the 64-bit space
    /// and its own RAM), then jumps into pseudo-random instruction words, with every trap it takes
    /// sent back into the chaos; its neighbour's RAM and the host RAM outside its window do not
    /// change by one byte, and the host keeps running.
    @Test func aHostileGuestCannotTouchItsNeighbour() throws {
        let host = Host(HostConfiguration(memory: 16 << 20, slice: 20_000))
        defer { host.close() }
        let victim = try host.createGuest(try TestKernels.configuration(TestKernels.hello("victim", iterations: 10), mode: .interpret))
        var words = ""
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<4096 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            words += "    .word 0x\(String(UInt32(truncatingIfNeeded: x), radix: 16))\n"
        }
        let hostile = """
        _start:
            la t0, chaos
            csrw stvec, t0
            li s0, 0x9E3779B97F4A7C15
            li s1, 200000
        1:  mul s0, s0, s0
            addi s0, s0, 1
            sd s0, 0(s0)            # anywhere in the 64-bit space (faults are sent back here)
            srli t1, s0, 41          # 0...8 MiB: half inside its 4 MiB, half past it
            li t2, 0x80000000
            add t1, t1, t2
            sd s0, 0(t1)            # somewhere in (or just past) its own RAM
            addi s1, s1, -1
            bnez s1, 1b
        .align 2
        chaos:
            csrr t0, sepc
            addi t0, t0, 4
            li t1, 0x80000000
            and t2, t0, t1
            beqz t2, random         # a pc outside RAM: back into the random words
            csrw sepc, t0
            sret
        random:
            la t0, random_words
            csrw sepc, t0
            sret
        .align 2
        random_words:
        \(words)
        """
        let attacker = try host.createGuest(try TestKernels.configuration(hostile, mode: .interpret))
        let victimWindow = victim.carveout!, attackerWindow = attacker.carveout!
        let before = Self.hash(host, victimWindow)
        let below = attackerWindow.hostBase - 4096, above = attackerWindow.end
        // Only the attacker runs while the victim's bytes are watched (they must not change at all).
        _ = attacker.run(maxInstructions: 1_500_000)
        #expect(attacker.executedInstructions > 100_000 || attacker.finalStop != nil)
        #expect(Self.hash(host, victimWindow) == before)
        if above < host.machine.configuration.ramBase + host.machine.configuration.ramSize {
            #expect(host.machine.readPhysical(at: above, count: 4096) == [UInt8](repeating: 0, count: 4096))
        }
        #expect(below == victimWindow.end - 4096)
        // The host runs both on: the victim prints what it should whatever the attacker does.
        let stop = host.run(maxInstructions: 200_000)
        #expect(victim.finalStop == .poweredOff(code: 0), "\(stop)")
        #expect(victim.consoleText == "victim\n")
    }
}
