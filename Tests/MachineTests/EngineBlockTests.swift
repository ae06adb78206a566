import Foundation
import Testing
@testable import Machine

// The block engine (ExecutionEngine.blocks) on its own edge cases: code that rewrites itself
// inside a running block, budgets and breakpoints that fall inside a block, chaining, and the
// configuration switch. Each runs under both engines and must give the same result.

@Suite struct EngineBlockTests {
    static let engines: [ExecutionEngine] = [.interpreter, .blocks]

    /// Stores a new instruction over a later instruction of the same straight-line run (one
    /// block) and executes it: the new bits must run, not the translated copy.
    static let selfModifying = """
    .option norvc
    .globl _start
    _start:
        li a0, 0
        li s1, 20
    again:
        la t0, patch
        lw t1, replacement
        sw t1, 0(t0)
        nop
    patch:
        addi a0, a0, 1        # replaced by addi a0, a0, 100 before it first runs
        addi s1, s1, -1
        bnez s1, again
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    1:  j 1b
    .balign 4
    replacement:
        addi a0, a0, 100
    """

    @Test(arguments: engines)
    func storeIntoTheRunningBlockTakesEffect(_ engine: ExecutionEngine) throws {
        let rig = Guest.Rig { $0.engine = engine }
        rig.boot(try Guest.assemble(Self.selfModifying))
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(10) == 2000)
        if engine == .blocks {
            #expect(rig.machine.blockEngineCounters.blocksInvalidated > 0)
        } else {
            #expect(rig.machine.blockEngineCounters.blocksBuilt == 0)
        }
    }

    static let loop = """
    .globl _start
    _start:
        li a0, 0
        li a1, 1000
    1:  addi a0, a0, 3
        xori a2, a0, 5
        add a3, a2, a0
        addi a1, a1, -1
        bnez a1, 1b
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    2:  j 2b
    """

    /// Every budget stops after exactly that many instructions, wherever it falls in a block.
    @Test(arguments: engines)
    func budgetsInsideBlocksAreExact(_ engine: ExecutionEngine) throws {
        let image = try Guest.assemble(Self.loop)
        for budget: UInt64 in [1, 2, 3, 4, 5, 6, 7, 13, 64, 999] {
            let rig = Guest.Rig { $0.engine = engine }
            rig.boot(image)
            #expect(rig.run(budget) == .budgetExhausted)
            #expect(rig.machine.counters().instructions == budget)
            // Resuming in small steps reaches the same end as one long run.
            while rig.run(3) == .budgetExhausted {}
            #expect(rig.machine.register(10) == 3000)
        }
    }

    /// A breakpoint in the middle of a translated block stops before that instruction.
    @Test(arguments: engines)
    func breakpointInsideABlock(_ engine: ExecutionEngine) throws {
        let rig = Guest.Rig { $0.engine = engine }
        rig.boot(try Guest.assemble(Self.loop))
        _ = rig.run(50)   // the loop's blocks are translated and chained
        let target: UInt64 = 0x8000_0000 + 8 + 4   // xori, the second instruction of the loop body
        rig.machine.breakpoints = [target]
        #expect(rig.run(10_000) == .breakpoint(hart: 0, pc: target))
        #expect(rig.machine.pc() == target)
        let before = rig.machine.counters().instructions
        rig.machine.breakpoints = []
        #expect(rig.run(10_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(10) == 3000)
        #expect(rig.machine.counters().instructions > before)
    }

    /// Loops run through chain links, not table lookups, once translated.
    @Test func loopsAreChained() throws {
        let rig = Guest.Rig { $0.engine = .blocks }
        rig.boot(try Guest.assemble(Self.loop))
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        let c = rig.machine.blockEngineCounters
        #expect(c.blocksBuilt >= 2 && c.blocksBuilt < 10)
        #expect(c.chained > 900)
    }

    /// The interpreter is the default until the block engine is faster; VMLAB_ENGINE=blocks (or
    /// jit) selects that engine for a whole process (CI can run the suite under any).
    @Test func theDefaultEngineFollowsTheEnvironment() {
        let chosen = ProcessInfo.processInfo.environment["VMLAB_ENGINE"]
        let expected: ExecutionEngine = chosen == "blocks" ? .blocks : chosen == "interpreter" ? .interpreter : .jit
        #expect(MachineConfiguration().engine == expected)
    }
}
