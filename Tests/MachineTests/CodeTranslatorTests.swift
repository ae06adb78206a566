import Foundation
import Testing
import RISCV
@testable import Machine

// The CodeTranslator hook (Sources/Machine/Engine/CodeTranslator.swift, TranslatorHook.swift):
// a translator that replaces `csrr a0, mscratch` by a callout, each callout outcome, both engines
// agreeing on registers and counts, invalidation by stores and by `retranslate`, blocks reported
// only by the block engine, and removing the translator.

/// Rewrites `csrr rd, mscratch` into callout 7 (unless `rewriting` is off). The callout does what
/// `outcome` says: `.retired` writes 42 to rd and steps over the instruction; `.abandoned` writes
/// 99 to a0 and sends the hart to `abandonTo` (default: the next instruction); `.native` does
/// nothing. Everything the machine tells it is recorded.
final class TestTranslator: CodeTranslator {
    unowned let machine: Machine
    var rewriting = true
    var outcome: CalloutOutcome = .retired
    var abandonTo: UInt64? = nil
    /// Runs in the callout before the outcome's work, e.g. to retranslate.
    var onCallout: ((UInt64) -> Void)? = nil
    var shown: [(instruction: Instruction, physical: UInt64, hart: Int)] = []
    var callouts: [(id: UInt32, instruction: Instruction, pc: UInt64)] = []
    var blocks: [(physical: UInt64, instructions: Int)] = []
    var invalidated: [(physical: UInt64, count: UInt64)] = []

    init(_ machine: Machine) { self.machine = machine }

    static func isTarget(_ i: Instruction) -> Bool {
        i.opcode == .csrrs && i.imm == 0x340 && i.rs1 == 0 && i.rd != 0
    }

    /// Where the last `csrr rd, mscratch` was shown.
    var targetPhysical: UInt64? { shown.last { TestTranslator.isTarget($0.instruction) }?.physical }

    func translate(_ instruction: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
        shown.append((instruction, physical, hart))
        return rewriting && TestTranslator.isTarget(instruction) ? .callout(7) : .keep
    }

    func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
        callouts.append((id, instruction, pc))
        onCallout?(pc)
        switch outcome {
        case .retired:
            machine.setRegister(Int(instruction.rd), 42, hart: hart)
            machine.setPC(pc + UInt64(instruction.length), hart: hart)
        case .abandoned:
            machine.setRegister(10, 99, hart: hart)
            machine.setPC(abandonTo ?? pc + UInt64(instruction.length), hart: hart)
        case .native:
            break
        }
        return outcome
    }

    func blockBuilt(physical: UInt64, instructions: Int, hart: Int) {
        blocks.append((physical, instructions))
    }

    func codeInvalidated(physical: UInt64, count: UInt64) {
        invalidated.append((physical, count))
    }
}

@Suite struct CodeTranslatorTests {
    static let engines: [ExecutionEngine] = [.interpreter, .blocks]

    /// mscratch = 5, then `csrr a0, mscratch` and a use of it; ends at the finisher.
    static let straight = """
        li t0, 5
        csrw mscratch, t0
        li a0, 0
        csrr a0, mscratch
        addi a1, a0, 1
        j mtrap
    """

    /// Runs `body` (Layout program) in `mode` under `engine`, with a translator set up by
    /// `configure` (none when nil).
    static func run(_ body: String, engine: ExecutionEngine, mode: PrivilegeMode = .machine,
                    _ configure: ((TestTranslator) -> Void)?) throws -> TranslatedRun<TestTranslator> {
        try TranslatedRun(body, on: Guest.Rig { $0.engine = engine }, mode: mode, make: TestTranslator.init, configure)
    }

    @Test(arguments: engines)
    func retiredCalloutReplacesTheInstructionAndCountsOnce(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.straight, engine: engine, nil)
        let r = try Self.run(Self.straight, engine: engine) { _ in }
        #expect(plain.stop == .poweredOff(code: 0))
        #expect(r.stop == .poweredOff(code: 0))
        #expect(plain.rig.x(10) == 5)
        #expect(r.rig.x(10) == 42, "the callout's value, not mscratch")
        #expect(r.rig.x(11) == 43)
        let t = try #require(r.translator)
        #expect(t.callouts.count == 1)
        #expect(t.callouts.first?.id == 7)
        #expect(t.callouts.first.map { TestTranslator.isTarget($0.instruction) } == true)
        // One retirement, one instruction's cycles: exactly what the csrr itself counted.
        #expect(r.counters.instructions == plain.counters.instructions)
        #expect(r.counters.cycles == plain.counters.cycles)
        #expect(r.counters.exceptions == plain.counters.exceptions)
        // The pc the callout saw is the csrr's (physical == virtual in M-mode).
        #expect(t.callouts.first?.pc == t.targetPhysical)
    }

    /// A translating VMM's snapshot of the cache (DecodedCode+Snapshot.swift): the runs decoded
    /// and the rewrites, coded and decoded, put back after a restore that dropped them, each
    /// rewrite as the translator accepts it; runs outside RAM or a page are flaws.
    @Test(arguments: engines)
    func theDecodedCodeIsSavedAndPutBack(_ engine: ExecutionEngine) throws {
        let r = try Self.run(Self.straight, engine: engine) { _ in }
        let machine = r.rig.machine
        let target = try #require(r.translator?.targetPhysical)
        let state = machine.decodedCodeState()
        #expect(state.rewrites == [.init(address: target, rewrite: .callout(7))])
        #expect(state.runs.contains { $0.start <= target && target < $0.start + $0.bytes })
        #expect(try JSONDecoder().decode(DecodedCodeState.self, from: JSONEncoder().encode(state)) == state)
        #expect(state.flaw(ramBase: machine.configuration.ramBase, ramSize: machine.configuration.ramSize) == nil)

        try machine.restore(machine.snapshot())
        #expect(machine.decodedCodeState() == DecodedCodeState(), "a machine's restore drops the cache")
        var asked: [CodeRewrite] = []
        let decoded = machine.restoreDecodedCode(state) { _, _, saved in asked.append(saved); return saved }
        #expect(machine.decodedCodeState() == state)
        #expect(decoded >= 6 && asked.filter { $0 != .keep } == [.callout(7)])
        // What the translator does not accept runs as decoded.
        try machine.restore(machine.snapshot())
        machine.restoreDecodedCode(state) { _, _, _ in .keep }
        #expect(machine.decodedCodeState().rewrites.isEmpty)
        #expect(machine.decodedCodeState().runs == state.runs)

        let base = machine.configuration.ramBase, size = machine.configuration.ramSize
        for run in [DecodedCodeState.Run(start: base + 4094, bytes: 4), .init(start: base - 4096, bytes: 4),
                    .init(start: base + 1, bytes: 2), .init(start: base, bytes: 0)] {
            var bad = state
            bad.runs.append(run)
            #expect(bad.flaw(ramBase: base, ramSize: size)?.contains("is not a run of one page of RAM") == true)
        }
        var bad = state
        bad.rewrites.append(.init(address: base + size, rewrite: .callout(1)))
        #expect(bad.flaw(ramBase: base, ramSize: size)?.contains("outside RAM") == true)
    }

    @Test(arguments: engines)
    func abandonedCalloutRetiresNothingAndGoesOnAtItsPC(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.straight, engine: engine, nil)
        let r = try Self.run(Self.straight, engine: engine) { $0.outcome = .abandoned }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(10) == 99)
        #expect(r.rig.x(11) == 100, "went on at the pc the callout set")
        #expect(r.counters.instructions == plain.counters.instructions - 1)
        #expect(r.counters.cycles == plain.counters.cycles - r.rig.machine.costs.instruction)
        #expect(r.counters.exceptions == plain.counters.exceptions, "not a hardware trap")
        #expect(r.translator?.callouts.count == 1)
    }

    /// An abandoned callout may send the hart anywhere, e.g. skip ahead.
    @Test(arguments: engines)
    func abandonedCalloutCanRedirect(_ engine: ExecutionEngine) throws {
        let body = """
            li a1, 1
            csrr a0, mscratch
            li a1, 2
        skip:
            j mtrap
        """
        var target: UInt64 = 0
        let r = try Self.run(body, engine: engine) { t in
            t.outcome = .abandoned
            t.onCallout = { pc in target = pc + 8; t.abandonTo = target }
        }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(10) == 99)
        #expect(r.rig.x(11) == 1, "li a1, 2 was skipped")
        #expect(target != 0)
    }

    @Test(arguments: engines)
    func nativeCalloutRunsTheOriginal(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.straight, engine: engine, nil)
        let r = try Self.run(Self.straight, engine: engine) { $0.outcome = .native }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(10) == 5)
        #expect(r.rig.x(11) == 6)
        #expect(r.translator?.callouts.count == 1)
        #expect(Lockstep.snapshot(r.rig.machine) == Lockstep.snapshot(plain.rig.machine))
    }

    /// `.native` in U-mode: the csrr raises illegal-instruction exactly as without a translator.
    @Test(arguments: engines)
    func nativeCalloutTrapsAsTheOriginal(_ engine: ExecutionEngine) throws {
        let body = """
            li a0, 1
            csrr a0, mscratch
            li a0, 2
            j mtrap
        """
        let plain = try Self.run(body, engine: engine, mode: .user, nil)
        let r = try Self.run(body, engine: engine, mode: .user) { $0.outcome = .native }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.csr(0x342) == 2, "mcause: illegal instruction")
        #expect(r.rig.csr(0x341) == r.translator?.callouts.first?.pc, "mepc: the csrr")
        #expect(r.rig.csr(0x341) == plain.rig.csr(0x341))
        #expect(r.rig.csr(0x343) == plain.rig.csr(0x343), "mtval: the instruction's bits")
        #expect(r.rig.x(10) == 1)
        #expect(r.counters.exceptions[2] == 1)
        #expect(r.translator?.callouts.count == 1)
        #expect(Lockstep.snapshot(r.rig.machine) == Lockstep.snapshot(plain.rig.machine))
    }

    /// A loop with callouts of every kind, loads and stores around them: both engines end in the
    /// same architectural state with the same counts, for each outcome.
    @Test(arguments: [CalloutOutcome.retired, .abandoned, .native])
    func bothEnginesAgree(_ outcome: CalloutOutcome) throws {
        let body = """
            li t0, 5
            csrw mscratch, t0
            li s1, 50
            li a2, 0
            la s2, data
        loop:
            ld t1, 0(s2)
            csrr a0, mscratch
            add a2, a2, a0
            add t1, t1, a0
            sd t1, 0(s2)
            csrr a3, mscratch
            xor a2, a2, a3
            addi s1, s1, -1
            bnez s1, loop
            j mtrap
        .balign 8
        data:
            .dword 0
        """
        var snapshots: [[String]] = []
        var calls: [Int] = []
        for engine in Self.engines {
            let r = try Self.run(body, engine: engine) { $0.outcome = outcome }
            #expect(r.stop == .poweredOff(code: 0))
            snapshots.append(Lockstep.snapshot(r.rig.machine))
            calls.append(r.translator?.callouts.count ?? 0)
        }
        #expect(snapshots[0] == snapshots[1])
        #expect(calls == [100, 100])
    }

    /// The translator sees instructions as decoded (x0 destinations included), not the cache's form.
    @Test(arguments: engines)
    func translatorSeesTheDecodedInstructions(_ engine: ExecutionEngine) throws {
        let body = """
            addi zero, zero, 0
            csrr a0, mscratch
            j mtrap
        """
        let r = try Self.run(body, engine: engine) { _ in }
        let t = try #require(r.translator)
        #expect(t.shown.allSatisfy { $0.instruction.rd < 32 && $0.hart == 0 })
        let nop = t.shown.first { $0.physical == Layout.main }
        #expect(nop?.instruction.opcode == .addi && nop?.instruction.rd == 0)
        // Shown once each: the decoded slot is reused.
        #expect(Set(t.shown.map(\.physical)).count == t.shown.count)
    }

    /// A store over a rewritten instruction drops it: the translator is told, and shown the new one.
    @Test(arguments: engines)
    func storeOverACalloutShowsTheNewInstruction(_ engine: ExecutionEngine) throws {
        let body = """
            .option push
            .option norvc
            li s1, 2
            li a2, 0
        again:
        patch:
            csrr a0, mscratch
            add a2, a2, a0
            la t0, patch
            lw t1, replacement
            sw t1, 0(t0)
            addi s1, s1, -1
            bnez s1, again
            j mtrap
        .balign 4
        replacement:
            addi a0, zero, 7
            .option pop
        """
        let r = try Self.run(body, engine: engine) { _ in }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(12) == 42 + 7)
        let t = try #require(r.translator)
        let patch = try #require(t.shown.first { TestTranslator.isTarget($0.instruction) }?.physical)
        #expect(t.callouts.count == 1)
        let later = t.shown.filter { $0.physical == patch }
        #expect(later.count == 2)
        #expect(later.last?.instruction.opcode == .addi && later.last?.instruction.imm == 7)
        #expect(t.invalidated.contains { $0.physical <= patch && patch < $0.physical + $0.count })
    }

    /// `retranslate` re-shows an instruction: from the host between runs, and from inside a
    /// callout (mid-run), where the next execution must already see the new decision.
    @Test(arguments: engines)
    func retranslateShowsTheInstructionAgain(_ engine: ExecutionEngine) throws {
        let body = """
            li t0, 5
            csrw mscratch, t0
            li s1, 3
            li a2, 0
        again:
            csrr a0, mscratch
            add a2, a2, a0
            csrr a1, mhartid
            addi s1, s1, -1
            bnez s1, again
            j mtrap
        """
        // From the host: rewriting off at first, on after the first iteration.
        let rig = Guest.Rig { $0.engine = engine }
        let t = TestTranslator(rig.machine)
        t.rewriting = false
        rig.machine.translator = t
        try rig.start(body)
        #expect(rig.run(8) == .budgetExhausted)   // li, csrw, li, li, csrr, add, csrr, addi
        #expect(rig.x(12) == 5)
        let patch = try #require(t.targetPhysical)
        t.rewriting = true
        let invalidations = t.invalidated.count
        rig.machine.retranslate(physical: patch, count: 4)
        #expect(t.invalidated.count == invalidations + 1)
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.x(12) == 5 + 42 + 42)
        #expect(t.shown.filter { $0.physical == patch }.count == 2)
        #expect(t.callouts.count == 2)

        // From a callout: `csrr a1, mhartid` is rewritten too; its callout turns the mscratch
        // rewrite on and retranslates it, then retires.
        final class Switching: CodeTranslator {
            unowned let machine: Machine
            var rewriteMscratch = false
            var mscratchShown = 0
            var mscratchAt: UInt64 = 0
            init(_ m: Machine) { machine = m }
            func translate(_ i: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
                if TestTranslator.isTarget(i) {
                    mscratchShown += 1
                    mscratchAt = physical
                    return rewriteMscratch ? .callout(1) : .keep
                }
                return i.opcode == .csrrs && i.imm == 0xF14 ? .callout(2) : .keep
            }
            func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
                if id == 2 && !rewriteMscratch {
                    rewriteMscratch = true
                    machine.retranslate(physical: mscratchAt, count: 4)
                }
                machine.setRegister(Int(instruction.rd), id == 1 ? 1000 : 0, hart: hart)
                machine.setPC(pc + 4, hart: hart)
                return .retired
            }
        }
        let rig2 = Guest.Rig { $0.engine = engine }
        let s = Switching(rig2.machine)
        rig2.machine.translator = s
        try rig2.start(body)
        #expect(rig2.run(100_000) == .poweredOff(code: 0))
        #expect(rig2.x(12) == 5 + 1000 + 1000)
        #expect(s.mscratchShown == 2)
    }

    /// Blocks are reported by the block engine only, and cover the instructions they were built from.
    @Test(arguments: engines)
    func blocksAreReportedByTheBlockEngineOnly(_ engine: ExecutionEngine) throws {
        let r = try Self.run(Self.straight, engine: engine) { _ in }
        let t = try #require(r.translator)
        if engine == .blocks {
            #expect(!t.blocks.isEmpty)
            #expect(t.blocks.count == Int(r.rig.machine.blockEngineCounters.blocksBuilt))
            let patch = try #require(t.targetPhysical)
            // The callout ends its block (as an illegal instruction would).
            #expect(t.blocks.contains { $0.physical <= patch && patch < $0.physical + 4 * UInt64($0.instructions) })
            for b in t.blocks {
                #expect(b.instructions >= 1)
                #expect(t.shown.contains { $0.physical == b.physical }, "a block's slots were shown first")
            }
        } else {
            #expect(t.blocks.isEmpty)
        }
    }

    /// Removing the translator drops its callouts: the originals run again (the code is not rewritten).
    @Test(arguments: engines)
    func removingTheTranslatorRunsTheOriginals(_ engine: ExecutionEngine) throws {
        let r = try Self.run(Self.straight, engine: engine) { _ in }
        #expect(r.rig.x(10) == 42)
        r.rig.machine.translator = nil
        r.rig.machine.startHart(0, privilege: .machine, pc: Layout.main, a0: 0, a1: 0)
        #expect(r.rig.run(100_000) == .poweredOff(code: 0))
        #expect(r.rig.x(10) == 5)
        #expect(r.translator?.callouts.count == 1)
        // A new translator is shown everything again.
        let again = TestTranslator(r.rig.machine)
        r.rig.machine.translator = again
        r.rig.machine.startHart(0, privilege: .machine, pc: Layout.main, a0: 0, a1: 0)
        #expect(r.rig.run(100_000) == .poweredOff(code: 0))
        #expect(r.rig.x(10) == 42)
        #expect(again.callouts.count == 1)
        #expect(again.targetPhysical != nil)
    }

    /// A translator that has gone (the machine holds it weakly) leaves callout slots behind; they
    /// run the original instruction.
    @Test(arguments: engines)
    func aVanishedTranslatorMeansNative(_ engine: ExecutionEngine) throws {
        let rig = Guest.Rig { $0.engine = engine }
        do {
            let t = TestTranslator(rig.machine)
            rig.machine.translator = t
            try rig.start(Self.straight)
            #expect(rig.run(100_000) == .poweredOff(code: 0))
            #expect(rig.x(10) == 42)
        }
        #expect(rig.machine.translator == nil)
        rig.machine.startHart(0, privilege: .machine, pc: Layout.main, a0: 0, a1: 0)
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.x(10) == 5)
    }

    /// With a translator installed, an illegal instruction it keeps still traps as one; one it
    /// replaces by a callout is emulated (a translator may implement what the hart lacks).
    @Test(arguments: engines)
    func illegalInstructionsTrapOrAreEmulated(_ engine: ExecutionEngine) throws {
        let body = """
            li a0, 1
            .word 0xFFFFFFFF
            li a0, 2
            j mtrap
        """
        final class Emulating: CodeTranslator {
            unowned let machine: Machine
            var emulate = false
            var calls = 0
            init(_ m: Machine) { machine = m }
            func translate(_ i: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
                emulate && i.opcode == .illegal ? .callout(9) : .keep
            }
            func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
                calls += 1
                machine.setRegister(11, UInt64(instruction.raw), hart: hart)
                machine.setPC(pc + UInt64(instruction.length), hart: hart)
                return .retired
            }
        }
        for emulate in [false, true] {
            let rig = Guest.Rig { $0.engine = engine }
            let t = Emulating(rig.machine)
            t.emulate = emulate
            rig.machine.translator = t
            try rig.start(body)
            #expect(rig.run(100_000) == .poweredOff(code: 0))
            if emulate {
                #expect(t.calls == 1)
                #expect(rig.x(10) == 2)
                #expect(rig.x(11) == 0xFFFF_FFFF)
                #expect(rig.machine.counters().exceptions[2] == 0)
            } else {
                #expect(t.calls == 0)
                #expect(rig.x(10) == 1)
                #expect(rig.csr(0x342) == 2, "mcause: illegal instruction")
                #expect(rig.csr(0x343) == 0xFFFF_FFFF, "mtval: its bits")
                #expect(rig.machine.counters().exceptions[2] == 1)
            }
        }
    }

    /// The decoded-code cache is shared by the harts: an instruction is shown once, and its
    /// callout runs on every hart that executes it, told which.
    @Test(arguments: engines)
    func calloutsRunOnEveryHart(_ engine: ExecutionEngine) throws {
        let image = try Guest.assemble("""
        .globl _start
        _start:
            mv s0, a0
            csrr a0, mscratch
            la t0, results
            slli t1, s0, 3
            add t0, t0, t1
            sd a0, 0(t0)
            bnez s0, park
        wait:
            la t0, results
            ld t1, 8(t0)
            beqz t1, wait
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        park:
            j park
        .balign 8
        results:
            .dword 0, 0
        """)
        final class PerHart: CodeTranslator {
            unowned let machine: Machine
            var shown = 0
            var harts: [Int] = []
            init(_ m: Machine) { machine = m }
            func translate(_ i: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
                guard TestTranslator.isTarget(i) else { return .keep }
                shown += 1
                return .callout(3)
            }
            func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
                harts.append(hart)
                machine.setRegister(Int(instruction.rd), 100 + UInt64(hart), hart: hart)
                machine.setPC(pc + 4, hart: hart)
                return .retired
            }
        }
        let rig = Guest.Rig { $0.engine = engine; $0.harts = 2 }
        let t = PerHart(rig.machine)
        rig.machine.translator = t
        rig.boot(image)
        #expect(rig.run(1_000_000) == .poweredOff(code: 0))
        #expect(t.shown == 1)
        #expect(t.harts.sorted() == [0, 1])
        #expect(rig.x(10, hart: 0) == 100)
        #expect(rig.x(10, hart: 1) == 101)
    }

    /// A 32-bit instruction crossing a page is executed outside the cache: it is shown (at every
    /// execution) and its callout runs all the same.
    @Test(arguments: engines)
    func instructionsOutsideTheCacheAreShownToo(_ engine: ExecutionEngine) throws {
        let image = try Guest.assemble("""
        .globl _start
        _start:
            li t0, 5
            csrw mscratch, t0
            li s1, 2
            li a2, 0
            j cross
        .org 0xFFE
        cross:
            csrr a0, mscratch
            add a2, a2, a0
            addi s1, s1, -1
            bnez s1, cross
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        1:  j 1b
        """)
        let rig = Guest.Rig { $0.engine = engine }
        let t = TestTranslator(rig.machine)
        rig.machine.translator = t
        rig.boot(image)
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(12) == 84)
        #expect(t.callouts.count == 2)
        #expect(t.shown.filter { $0.physical == 0x8000_0FFE }.count == 2)
    }
}
