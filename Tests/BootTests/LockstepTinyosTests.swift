import Foundation
import GuestTestSupport
import Testing
@testable import Boot
@testable import Machine

// tinyos (a paging, preempting S-mode kernel with a virtio disk) under both engines side by side:
// the block engine's block ends are recorded on a first run, then an interpreter board and a
// block-engine board are run to each of those points (sampled evenly when there are many) and
// their harts' architectural state compared. The Machine-level lockstep test does the same on
// the ISA guests (Tests/MachineTests/LockstepTests.swift).

@Suite(.serialized) struct LockstepTinyosTests {
    static func snapshot(_ m: Machine) -> [String] {
        m.harts.map { h in
            let s = h.state.pointee
            let regs = (0..<64).map { String(s.regs[$0], radix: 16) }.joined(separator: " ")
            return "pc=\(String(s.pc, radix: 16)) priv=\(s.priv) run=\(s.runState) mstatus=\(String(s.mstatus, radix: 16)) "
                + "sepc=\(String(s.sepc, radix: 16)) scause=\(s.scause) stval=\(String(s.stval, radix: 16)) "
                + "satp=\(String(s.satp, radix: 16)) mip=\(s.mip) instret=\(s.instret) cycles=\(s.cycles) "
                + "exceptions=\(s.exceptionsTaken) regs \(regs) \(m.counters(hart: h.id))"
        }
    }

    static func board(_ name: String, _ engine: ExecutionEngine) throws -> VirtBoard? {
        guard let testCase = TinyosGuest.cases.first(where: { $0.name == name }),
              let kernel = Guests.path("tinyos", "tinyos.elf") else { return nil }
        var configuration = VirtBoardConfiguration()
        configuration.firmware = .builtin
        configuration.kernel = .file(kernel)
        configuration.bootargs = testCase.bootargs
        configuration.machine.engine = engine
        if testCase.disk {
            guard let disk = try TinyosGuest.disk(tag: "boot") else { return nil }
            configuration.disks = [DiskConfiguration(path: disk, mode: .copyOnWrite)]
        }
        return try VirtBoard(configuration)
    }

    @Test(arguments: ["syscall", "pagefault", "forktest"])
    func tinyosInLockstep(_ name: String) throws {
        try Self.compareWithInterpreter(name, .blocks, board: Self.board)
    }

    /// Runs tinyos case `name` on a probe board of `engine` (boards from `board`) recording its
    /// block ends, then an interpreter board and a second `engine` board to each of those ends
    /// (sampled evenly when there are many), comparing their harts' whole state at each. Returns
    /// the probe after its run, or nil when the guest is missing or `accept` refuses the probe.
    @discardableResult
    static func compareWithInterpreter(_ name: String, _ engine: ExecutionEngine,
                                       board: (String, ExecutionEngine) throws -> VirtBoard?,
                                       accept: (VirtBoard) -> Bool = { _ in true }) throws -> VirtBoard? {
        guard let probe = try board(name, engine), accept(probe),
              let a = try board(name, .interpreter), let b = try board(name, engine) else { return nil }
        for h in probe.machine.harts { h.recordBlockEnds = true }
        let probeStop = probe.run(maxInstructions: 2_000_000_000)
        #expect(probeStop == .poweredOff(code: 0))
        var ends = Array(Set(probe.machine.harts.flatMap(\.blockEnds))).sorted()
        let maxPoints = 5_000
        if ends.count > maxPoints {
            let stride = ends.count / maxPoints + 1
            ends = ends.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        }
        var compared = 0
        var last = StopReason.budgetExhausted
        for end in ends {
            let done = b.machine.totalInstructions
            guard end > done else { continue }
            let stopA = a.run(maxInstructions: end - done)
            let stopB = b.run(maxInstructions: end - done)
            compared += 1
            let sa = snapshot(a.machine), sb = snapshot(b.machine)
            guard stopA == stopB && sa == sb else {
                Issue.record("\(name): diverged by instruction \(end) (\(stopA) vs \(stopB)):\ninterpreter: \(sa)\n\(engine): \(sb)")
                return probe
            }
            last = stopA
            if last != .budgetExhausted { break }
        }
        if last == .budgetExhausted {
            last = a.run(maxInstructions: 2_000_000_000)
            #expect(b.run(maxInstructions: 2_000_000_000) == last)
            #expect(snapshot(a.machine) == snapshot(b.machine))
        }
        #expect(last == probeStop)
        #expect(a.console.text == b.console.text)
        #expect(compared > 100)
        return probe
    }
}
