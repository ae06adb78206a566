import Foundation
import Testing
@testable import Machine

// The native-code engine (ExecutionEngine.jit) against the interpreter, as LockstepTests compares
// the block engine: the JIT machine's block ends (native and Swift ones) are recorded on a first
// run, then an interpreter machine and a JIT machine are run to each of them and their whole state
// compared (registers, pc, privilege, trap CSRs, instret, cycles, traps, TLB counters). Blocks are
// compiled the first time they run (threshold 1) so that nearly everything runs natively, and
// again with threshold 3 so that blocks run in Swift before they are compiled.

enum JitLockstep {
    /// Native code can run here (an x86-64 host that maps executable memory).
    static let available: Bool = {
        var c = MachineConfiguration()
        c.engine = .jit
        c.ramSize = 1 << 20
        return Machine(c).effectiveEngine == .jit
    }()

    static func rig(_ engine: ExecutionEngine, threshold: UInt16, skew: Bool = false, entryLimit: Int? = nil,
                    configure: (inout MachineConfiguration) -> Void) -> Guest.Rig {
        let r = Guest.Rig {
            configure(&$0)
            $0.engine = engine
            if skew { $0.costs.exception += 1 }
        }
        r.machine.harts.first?.jit?.threshold = threshold
        if let entryLimit { r.machine.harts.first?.jit?.entryLimit = entryLimit }
        return r
    }

    /// Runs `image` under the interpreter and the JIT, comparing at every recorded block end of the
    /// JIT (at most `maxPoints`, evenly sampled; `Lockstep.compare`). Returns the comparisons made
    /// and the JIT machine's counters.
    @discardableResult
    static func compare(_ image: [UInt8], threshold: UInt16 = 1,
                        configure: @escaping (inout MachineConfiguration) -> Void = { _ in },
                        budget: UInt64 = 50_000_000, maxPoints: Int = 20_000,
                        skew: Bool = false, entryLimit: Int? = nil) -> (compared: Int, counters: JITCounters?) {
        let r = Lockstep.compare(image, engine: .jit, budget: budget, maxPoints: maxPoints) { engine, role in
            rig(engine, threshold: threshold, skew: skew && role == .subject, entryLimit: entryLimit, configure: configure)
        }
        return (r.compared, r.machine.jitCounters)
    }
}

@Suite struct JitLockstepTests {
    @Test(arguments: ISASuite.programs)
    func isaProgram(_ name: String) throws {
        guard JitLockstep.available else { return }
        let r = JitLockstep.compare(try ISASuite.image(name), configure: { ISASuite.configure(name, &$0) })
        #expect(r.compared > 10)
        #expect((r.counters?.nativeInstructions ?? 0) > 0, "nothing ran natively")
    }

    @Test(arguments: ["rv64i", "rv64m", "paging_sv39", "exceptions", "misaligned", "interrupts"])
    func isaProgramCompiledWhenWarm(_ name: String) throws {
        guard JitLockstep.available, ISASuite.programs.contains(name) else { return }
        JitLockstep.compare(try ISASuite.image(name), threshold: 3)
    }

    @Test(arguments: ["rv64a", "interrupts"])
    func isaProgramOnTwoHarts(_ name: String) throws {
        guard JitLockstep.available, ISASuite.programs.contains(name) else { return }
        JitLockstep.compare(try ISASuite.image(name)) { $0.harts = 2; $0.quantum = 37 }
    }

    /// Code that rewrites itself inside a running compiled block.
    @Test func selfModifyingCode() throws {
        guard JitLockstep.available else { return }
        #expect(JitLockstep.compare(try Guest.assemble(EngineBlockTests.selfModifying)).compared > 10)
    }

    /// Random integer instruction sequences (every compiled ALU, M and memory form, with operands
    /// chosen to hit the edge cases: 0, -1, the most negative value, shift counts ≥ 32) in a loop,
    /// compared at every block end.
    @Test(arguments: [1, 2, 3, 4, 8, 9, 10, 11])
    func randomIntegerCode(_ seed: Int) throws {
        guard JitLockstep.available else { return }
        let image = try Guest.assemble(JitPrograms.random(seed: UInt64(seed)))
        let r = JitLockstep.compare(image)
        #expect(r.compared > 10)
        let alone = JitLockstep.rig(.jit, threshold: 1) { _ in }
        alone.boot(image)
        #expect(alone.run(50_000_000) == .poweredOff(code: 0))
        #expect((r.counters?.nativeInstructions ?? 0) > 10_000)
    }

    /// Room for only a few compiled blocks: the table fills and everything compiled is dropped
    /// again and again, while blocks are linked, half-linked (a link site read before a flush is
    /// never patched after it) and recompiled.
    @Test(arguments: [1, 5])
    func flushesKeepTheEngineExact(_ seed: Int) throws {
        guard JitLockstep.available else { return }
        let image = try Guest.assemble(JitPrograms.random(seed: UInt64(seed), system: seed == 5))
        let r = JitLockstep.compare(image, budget: 2_000_000, maxPoints: 4_000, entryLimit: 3)
        #expect(r.compared > 10)
        #expect((r.counters?.flushes ?? 0) > 10)
        #expect((r.counters?.nativeInstructions ?? 0) > 10_000)
    }

    /// Random integer code mixed with CSR accesses and ecalls: compiled blocks that stop before an
    /// instruction they leave to Swift, chained into from other compiled blocks; traps between.
    @Test(arguments: [5, 6, 7])
    func randomCodeWithSystemInstructions(_ seed: Int) throws {
        guard JitLockstep.available else { return }
        let image = try Guest.assemble(JitPrograms.random(seed: UInt64(seed), system: true))
        for threshold: UInt16 in [1, 3] {
            // (Some seeds never reach the finisher; both engines then agree on that too, so the
            // run is bounded by a budget.)
            let r = JitLockstep.compare(image, threshold: threshold, budget: 2_000_000, maxPoints: 4_000)
            #expect(r.compared > 10)
            #expect((r.counters?.nativeInstructions ?? 0) > 10_000)
        }
    }

    /// The comparison can fail: a JIT machine that charges one more cycle per exception diverges.
    @Test func detectsADivergence() throws {
        guard JitLockstep.available, ISASuite.programs.contains("exceptions") else { return }
        withKnownIssue("the skewed machine must diverge") {
            JitLockstep.compare(try ISASuite.image("exceptions"), skew: true)
        }
    }
}
