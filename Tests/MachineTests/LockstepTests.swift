import Foundation
import Testing
@testable import Machine

// The block engine and the interpreter run the same guest side by side: the block engine first
// records where its blocks end (instructions retired or trapped), then two fresh machines, one per
// engine, are run to each of those points in turn and their architectural state compared: x and
// f registers, pc, privilege, the trap CSRs, satp, counters (instret, cycles, traps, TLB counters),
// the reservation and the run state. Any divergence in semantics, counting, trap pc/tval or
// interrupt points shows at the first block end after it.

enum Lockstep {
    /// Everything the two engines must agree on, as text so a mismatch reads well.
    static func snapshot(_ m: Machine) -> [String] {
        var out: [String] = []
        for h in m.harts {
            let s = h.state.pointee
            var regs: [String] = []
            for i in 0..<64 where s.regs[i] != 0 { regs.append("\(i < 32 ? "x" : "f")\(i % 32)=\(String(s.regs[i], radix: 16))") }
            out.append("hart \(h.id) pc=\(String(s.pc, radix: 16)) priv=\(s.priv)/\(s.dataPriv) run=\(s.runState)")
            out.append("regs " + regs.joined(separator: " "))
            out.append("mstatus=\(String(s.mstatus, radix: 16)) mepc=\(String(s.mepc, radix: 16)) mcause=\(String(s.mcause, radix: 16)) mtval=\(String(s.mtval, radix: 16)) sepc=\(String(s.sepc, radix: 16)) scause=\(String(s.scause, radix: 16)) stval=\(String(s.stval, radix: 16))")
            out.append("satp=\(String(s.satp, radix: 16)) mie=\(String(s.mie, radix: 16)) mip=\(String(s.mip, radix: 16)) medeleg=\(String(s.medeleg, radix: 16)) mideleg=\(String(s.mideleg, radix: 16)) mtvec=\(String(s.mtvec, radix: 16)) stvec=\(String(s.stvec, radix: 16)) fflags=\(s.fflags) frm=\(s.frm) reservation=\(String(s.reservation, radix: 16))")
            out.append("instret=\(s.instret) cycles=\(s.cycles) exceptions=\(s.exceptionsTaken)")
            out.append("counters \(m.counters(hart: h.id))")
        }
        return out
    }

    /// Runs `image` under both engines, comparing at every block end of the block engine (at most
    /// `maxPoints`; beyond that, at every `stride`-th). Returns the number of comparisons made.
    @discardableResult
    static func compare(_ image: [UInt8], configure: @escaping (inout MachineConfiguration) -> Void = { _ in },
                        budget: UInt64 = 50_000_000, maxPoints: Int = 20_000,
                        skewBlocks: Bool = false) -> Int {
        compare(image, engine: .blocks, budget: budget, maxPoints: maxPoints) { engine, _ in
            Guest.Rig {
                configure(&$0)
                $0.engine = engine
                // The self-test: a machine that differs (one extra modelled cycle per trap).
                if skewBlocks && engine == .blocks { $0.costs.exception += 1 }
            }
        }.compared
    }

    /// The machines of a comparison: the probe (records where `engine`'s blocks end), the
    /// interpreter that is the reference, and the `engine` machine compared with it.
    enum Role { case probe, reference, subject }

    /// Runs `image` on a probe machine of `engine` recording its block ends (native and Swift
    /// ones), then on an interpreter machine and a second `engine` machine to each of those ends
    /// (at most `maxPoints`, evenly sampled), comparing their whole state (`snapshot`) at each.
    /// Returns the comparisons made and the compared `engine` machine.
    static func compare(_ image: [UInt8], engine: ExecutionEngine, budget: UInt64, maxPoints: Int,
                        rig: (ExecutionEngine, Role) -> Guest.Rig) -> (compared: Int, machine: Machine) {
        // Pass 1: where the engine's blocks end.
        let probe = rig(engine, .probe)
        probe.boot(image)
        for h in probe.machine.harts { h.recordBlockEnds = true }
        let probeStop = probe.run(budget)
        var ends = Array(Set(probe.machine.harts.flatMap(\.blockEnds))).sorted()
        if ends.count > maxPoints {
            let stride = ends.count / maxPoints + 1
            ends = ends.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        }
        ends.append(probe.machine.totalInstructions)
        // Pass 2: both engines to each point.
        let a = rig(.interpreter, .reference), b = rig(engine, .subject)
        a.boot(image)
        b.boot(image)
        var compared = 0
        var last = StopReason.budgetExhausted
        let label = "\(engine):".padding(toLength: 13, withPad: " ", startingAt: 0)
        for end in ends {
            let done = b.machine.totalInstructions
            guard end > done else { continue }
            let stopA = a.run(end - done)
            let stopB = b.run(end - done)
            compared += 1
            let sa = snapshot(a.machine), sb = snapshot(b.machine)
            if stopA != stopB || sa != sb {
                let diff = zip(sa, sb).filter { $0 != $1 }.map { "interpreter: \($0)\n\(label)\($1)" }
                Issue.record("diverged by instruction \(end) (stop \(stopA) vs \(stopB)):\n\(diff.joined(separator: "\n"))")
                return (compared, b.machine)
            }
            last = stopA
            if last != .budgetExhausted { break }
        }
        if last == .budgetExhausted {
            last = a.run(budget)
            #expect(b.run(budget) == last)
            #expect(snapshot(a.machine) == snapshot(b.machine))
        }
        #expect(last == probeStop)
        #expect(a.uart.text == b.uart.text)
        return (compared, b.machine)
    }
}

@Suite struct LockstepTests {
    @Test(arguments: ISASuite.programs)
    func isaProgram(_ name: String) throws {
        let n = Lockstep.compare(try ISASuite.image(name)) { ISASuite.configure(name, &$0) }
        #expect(n > 10)
    }

    @Test(arguments: ["rv64a", "interrupts"])
    func isaProgramOnTwoHarts(_ name: String) throws {
        guard ISASuite.programs.contains(name) else { return }
        Lockstep.compare(try ISASuite.image(name)) { $0.harts = 2; $0.quantum = 37 }
    }

    /// Code that rewrites itself inside a running block.
    @Test func selfModifyingCode() throws {
        #expect(Lockstep.compare(try Guest.assemble(EngineBlockTests.selfModifying)) > 10)
    }

    /// The comparison can fail: a block machine that charges one more cycle per exception diverges.
    @Test func detectsADivergence() throws {
        guard ISASuite.programs.contains("exceptions") else { return }
        withKnownIssue("the skewed machine must diverge") {
            Lockstep.compare(try ISASuite.image("exceptions"), skewBlocks: true)
        }
    }
}
