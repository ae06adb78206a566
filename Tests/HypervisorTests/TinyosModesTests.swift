import Boot
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

/// The teaching kernel and its microbenchmarks under `native` and `interpret`: identical guest
/// output (ignoring "# " lines, which carry timings), the interpreter charged per instruction, and a
/// failing disk request seen by the kernel's driver.
@Suite(.serialized) struct TinyosModesTests {
    static func configuration(_ bootargs: String, mode: ExecutionMode) throws -> GuestConfiguration? {
        guard let board = try TinyosBoards.configuration(bootargs, tag: "vmm", memory: 32 << 20) else { return nil }
        return GuestConfiguration(mode: mode, board: board)
    }

    @Test(arguments: ["bench=syscall n=20", "bench=pagefault n=8", "bench=fork n=2"])
    func sameOutputUnderBothModes(_ bootargs: String) throws {
        var outputs: [ExecutionMode: String] = [:]
        var stats: [ExecutionMode: GuestStatistics] = [:]
        for mode in [ExecutionMode.native, .interpret] {
            guard let c = try Self.configuration(bootargs, mode: mode) else { return }
            let g = try Guest(c)
            defer { g.close() }
            #expect(g.run(maxInstructions: 200_000_000) == .poweredOff(code: 0), "\(mode): \(g.consoleText)")
            outputs[mode] = TinyosGuest.comparable(g.consoleText)
            stats[mode] = g.statistics()
            #expect(g.technique.account(g).total == g.statistics().cycles.total)
        }
        #expect(outputs[.native]!.contains("status=ok"))
        #expect(outputs[.native] == outputs[.interpret])
        let n = stats[.native]!, i = stats[.interpret]!
        // Timer interrupts land at other instructions (time runs at the interpreter's price), so
        // counts differ a little; the prices differ entirely.
        #expect(i.cycles.byEvent["instruction"] == nil && i.cycles.byEvent["interpretation"]?.count == i.instructions)
        #expect(n.cycles.byEvent["interpretation"] == nil && n.cycles.byEvent["instruction"]?.count == n.instructions)
        #expect(i.cycles.byEvent["exception_reflected"] != nil)
        #expect(i.cycles.byEvent["device_emulated"] != nil && i.cycles.byEvent["privileged_emulated"] != nil)
        #expect(i.cycles.total > n.cycles.total)
    }

    @Test func aKernelsEventsReachTheirHooks() throws {
        guard let c = try Self.configuration("bench=disk n=2", mode: .interpret) else { return }
        let g = try Guest(c)
        defer { g.close() }
        var walks = 0, references = 0, userWalks = 0, flushes = 0, dma = 0, diskRegisters = 0, syscalls = 0
        g.events.add(.pageWalk) { walks += 1; references += $0.references ?? 0; return .proceed }
        g.events.add(.pageWalk, filter: EventFilter(privilege: .user)) { _ in userWalks += 1; return .proceed }
        g.events.add(.tlbFlush) { _ in flushes += 1; return .proceed }
        g.events.add(.dma) { e in dma += e.size ?? 0; return .proceed }
        g.events.add(.mmio, filter: EventFilter(addresses: 0x1000_8000...0x1000_8FFF)) { _ in diskRegisters += 1; return .proceed }
        g.events.add(.trap, filter: EventFilter(causes: ["ecall_u"])) { _ in syscalls += 1; return .proceed }
        #expect(g.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        let s = g.statistics()
        #expect(walks > 0 && userWalks > 0 && userWalks < walks)
        #expect(UInt64(references) == s.walkReferences)
        #expect(flushes > 0 && dma > 0 && diskRegisters > 0 && syscalls > 0)
        #expect(s.events["page_walk"] == UInt64(walks) && s.events["dma"] != nil)
        #expect(s.dma.bytesRead + s.dma.bytesWritten > 0)
        #expect(s.traps["ecall_u"] == UInt64(syscalls))
    }

    @Test func aFailingDiskRequestReachesTheDriver() throws {
        guard let c = try Self.configuration("bench=disk n=4", mode: .interpret) else { return }
        let g = try Guest(c)
        defer { g.close() }
        _ = try g.faults.schedule(FaultSpec(kind: .deviceFailure, parameters: ["device": .string("disk0"), "count": .integer(1)]))
        _ = g.run(maxInstructions: 200_000_000)
        let expected = TinyosGuest.expected("disk")
        #expect(g.board.disks[0].failures == 1)
        #expect(g.faults.record[0].effect == "1 of 1 request of disk0 (virtio-blk) failed with IOERR")
        #expect(TinyosGuest.comparable(g.consoleText).trimmingCharacters(in: .newlines) != expected.trimmingCharacters(in: .newlines),
                "\(g.consoleText)")
    }
}
