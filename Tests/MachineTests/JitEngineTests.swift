import Foundation
import Testing
@testable import Machine

// The native-code engine's own behaviour: where it runs, that compiled loops stay in compiled code,
// exact budgets inside compiled blocks, breakpoints, stores into compiled code, the encoder.

@Suite struct JitEngineTests {
    static func rig(threshold: UInt16 = 1) -> Guest.Rig {
        JitLockstep.rig(.jit, threshold: threshold) { _ in }
    }

    /// `.jit` runs native code on an x86-64 host; other engines have no JIT counters.
    @Test func availability() {
        var c = MachineConfiguration()
        c.engine = .jit
        let m = Machine(c)
        #if arch(x86_64)
        #expect(m.effectiveEngine == .jit)
        #expect(m.jitCounters != nil)
        #else
        #expect(m.effectiveEngine == .blocks)
        #endif
        c.engine = .blocks
        #expect(Machine(c).effectiveEngine == .blocks)
        #expect(Machine(c).jitCounters == nil)
    }

    /// A hot loop is compiled, its blocks chained to each other, and it no longer returns to Swift.
    @Test func loopsStayInCompiledCode() throws {
        guard JitLockstep.available else { return }
        let rig = Self.rig(threshold: 4)
        rig.boot(try Guest.assemble(EngineBlockTests.loop))
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(10) == 3000)
        let c = try #require(rig.machine.jitCounters)
        #expect(c.blocksCompiled >= 1)
        #expect(c.linksPatched >= 1)
        #expect(c.nativeInstructions > 4_500)   // 5 instructions × 1000 iterations, nearly all native
        #expect(c.nativeEntries < 20)
    }

    /// While a translator is installed (`JIT.countsBlocks`), the block cache's counters count
    /// the blocks compiled code runs, as the block engine counts the blocks it runs: the same
    /// blocks built and entered, and a loop's blocks entered through their links (the
    /// binary-translation VMM reports them as its translation cache's). Otherwise compiled code
    /// counts nothing.
    @Test func compiledBlocksAreCountedAsTheBlockEngineCountsThem() throws {
        guard JitLockstep.available else { return }
        var counters: [BlockEngineCounters] = []
        for (engine, counting) in [(ExecutionEngine.blocks, true), (.jit, true), (.jit, false)] {
            let rig = JitLockstep.rig(engine, threshold: 4) { _ in }
            rig.machine.harts.first?.jit?.countsBlocks = counting
            rig.boot(try Guest.assemble(EngineBlockTests.loop))
            #expect(rig.run(100_000) == .poweredOff(code: 0))
            counters.append(rig.machine.blockEngineCounters)
        }
        let (blocks, jit, uncounted) = (counters[0], counters[1], counters[2])
        #expect(jit.blocksBuilt == blocks.blocksBuilt)
        #expect(jit.entered == blocks.entered)
        #expect(jit.entered > 1000)   // the loop's block, once per iteration
        // A link is patched at its first use, which the block engine takes through the table too.
        #expect(jit.chained > 990 && jit.chained <= blocks.chained)
        #expect(uncounted.blocksBuilt == blocks.blocksBuilt && uncounted.entered == 0)
    }

    /// Calls and returns within a page stay in compiled code: `ret` (jalr) finds its target's code
    /// through the page's block table instead of returning to Swift.
    @Test func returnsStayInCompiledCode() throws {
        guard JitLockstep.available else { return }
        let rig = Self.rig(threshold: 2)
        rig.boot(try Guest.assemble("""
            _start:
                li a0, 0
                li s1, 1000
            1:  call twice
                addi s1, s1, -1
                bnez s1, 1b
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            twice:
                addi a0, a0, 2
                ret
            """))
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(10) == 2000)
        let c = try #require(rig.machine.jitCounters)
        #expect(c.indirectLinks > 990)
        #expect(c.nativeEntries < 20)
    }

    /// Every budget stops after exactly that many instructions, also inside compiled blocks.
    @Test func budgetsInsideCompiledBlocksAreExact() throws {
        guard JitLockstep.available else { return }
        let image = try Guest.assemble(EngineBlockTests.loop)
        for budget: UInt64 in [1, 2, 3, 4, 5, 6, 7, 13, 64, 999, 4001] {
            let rig = Self.rig()
            rig.boot(image)
            #expect(rig.run(budget) == .budgetExhausted)
            #expect(rig.machine.counters().instructions == budget)
            while rig.run(3) == .budgetExhausted {}
            #expect(rig.machine.register(10) == 3000)
        }
    }

    /// A breakpoint inside a compiled block stops before that instruction.
    @Test func breakpointInsideACompiledBlock() throws {
        guard JitLockstep.available else { return }
        let rig = Self.rig()
        rig.boot(try Guest.assemble(EngineBlockTests.loop))
        _ = rig.run(50)
        #expect((rig.machine.jitCounters?.blocksCompiled ?? 0) > 0)
        let target: UInt64 = 0x8000_0000 + 8 + 4
        rig.machine.breakpoints = [target]
        #expect(rig.run(10_000) == .breakpoint(hart: 0, pc: target))
        #expect(rig.machine.pc() == target)
        rig.machine.breakpoints = []
        #expect(rig.run(10_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(10) == 3000)
    }

    /// A store into a compiled block kills it: the new instruction runs, never the old code.
    @Test func storeIntoCompiledCodeTakesEffect() throws {
        guard JitLockstep.available else { return }
        let rig = Self.rig()
        rig.boot(try Guest.assemble(EngineBlockTests.selfModifying))
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(10) == 2000)
        #expect(rig.machine.blockEngineCounters.blocksInvalidated > 0)
    }

    /// A request to end the slice made outside a load or store (here a fetch refill whose page
    /// walk evicts the fetch page's own TLB entry, which drops the fetch cache) is taken by the
    /// next access that leaves the fast path, in compiled code as in `execute`: a soft-TLB hit
    /// does not end the slice. Compiled code used to test the request after every access, so it
    /// ended slices the block engine went on with, and built and entered blocks the block engine
    /// did not (Linux under `bt`: 15 more blocks translated of 32 768).
    @Test func aSoftTLBHitDoesNotEndTheSliceInCompiledCode() throws {
        guard JitLockstep.available else { return }
        // Code pages A (0x8000_0000) and B (0x8000_2000) share the set of a two-set direct-mapped
        // TLB, so each jump between them evicts the other's entry; data page D (0x8000_1000)
        // keeps its own set, so the stores to it hit the soft TLB after the first.
        let image = try Guest.program("""
                li s0, 0x80001000
                li s1, 200
            loop:
                sd s1, 0(s0)
                jal far
                addi s1, s1, -1
                bnez s1, loop
                ecall
            .org 0x2000
            far:
                addi t0, t0, 1
                sd t0, 8(s0)
                addi t1, t1, 2
                addi t2, t2, 3
                ret
            """)
        var results: [(BlockEngineCounters, TLBCounters, [UInt64])] = []
        for engine in [ExecutionEngine.blocks, .jit] {
            let rig = JitLockstep.rig(engine, threshold: 1) {
                $0.tlb = TLBConfiguration(entries: 2, ways: 1, asidTagged: true)
            }
            rig.machine.harts.first?.jit?.countsBlocks = true
            rig.machine.grantFullPMPAccess(hart: 0)
            var pt = PageTables(rig.machine)
            for page: UInt64 in [0x8000_0000, 0x8000_1000, 0x8000_2000] {
                pt.map(page, to: page, flags: PTEBits.rwxad)
            }
            rig.machine.loadPhysical(image, at: 0x8000_0000)
            rig.machine.writeCSR(0x305, Layout.mtrap)
            rig.machine.writeCSR(0x105, Layout.strap)
            rig.machine.writeCSR(0x180, pt.satp)
            rig.machine.startHart(0, privilege: .supervisor, pc: Layout.main, a0: 0, a1: 0)
            #expect(rig.run(100_000) == .poweredOff(code: 0))
            results.append((rig.machine.blockEngineCounters, rig.machine.counters().tlb,
                            [5, 6, 7].map { rig.machine.register($0) }))
        }
        let (blocks, jit) = (results[0], results[1])
        #expect(jit.2 == [200, 400, 600] && blocks.2 == jit.2)
        #expect(blocks.1.evictions >= 400, "every jump between A and B evicts")
        #expect(blocks.1 == jit.1)
        #expect(jit.0.blocksBuilt == blocks.0.blocksBuilt)
        #expect(jit.0.entered == blocks.0.entered)
    }

    /// The encoder against the SDM's encodings of a few forms with each addressing special case.
    @Test func encodings() {
        var a = X86Assembler(origin: 0x1000)
        a.load(.rax, X86Mem(.rbx, 8))          // mov rax, [rbx+8]
        a.store(X86Mem(.r12, 0x18), .r14)      // mov [r12+0x18], r14 (SIB for r12)
        a.cmpByte(X86Mem(.r13, 0x40), 0)       // cmp byte [r13+0x40], 0
        a.load(.r8, X86Mem(.rbx, 0x200))       // mov r8, [rbx+0x200] (disp32)
        a.alu(.and, .rax, imm: 255, w: false)  // and eax, 255
        a.setccRAX(.b)                         // setb al; movzx eax, al
        a.movsxd(.rax, .rax)                   // movsxd rax, eax
        a.push(.r15); a.pop(.rbx)
        #expect(a.bytes == [0x48, 0x8B, 0x43, 0x08,
                            0x4D, 0x89, 0x74, 0x24, 0x18,
                            0x41, 0x80, 0x7D, 0x40, 0x00,
                            0x4C, 0x8B, 0x83, 0x00, 0x02, 0x00, 0x00,
                            0x81, 0xE0, 0xFF, 0x00, 0x00, 0x00,
                            0x0F, 0x92, 0xC0, 0x0F, 0xB6, 0xC0,
                            0x48, 0x63, 0xC0,
                            0x41, 0x57, 0x5B])
    }
}
