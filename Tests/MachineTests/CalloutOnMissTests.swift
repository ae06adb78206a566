import Foundation
import Testing
import RISCV
@testable import Machine

// `CodeRewrite.calloutOnMiss` (CodeTranslator.swift, TranslatorHook.swift): a guarded store runs
// as the plain store while it hits the hart's soft TLB and calls out only on its slow path; each
// outcome of that callout counts as a callout slot's would; `Machine.guardedStoresAlwaysCallOut`
// makes every execution call out; anything that is not a plain integer store, an id above 0xFFFF
// and a store executed outside the cache call out at every execution; all engines agree.

/// Rewrites every integer store whose base register is s2 into `.calloutOnMiss(id)`, and
/// `csrr rd, mscratch` too (not a store: a callout at every execution). The callout does what
/// `outcome` says: `.retired` writes the stored value + 1000 itself (M-mode: virtual =
/// physical) and steps over the store; `.abandoned` writes 99 to a0 and steps over it without
/// storing; `.native` does nothing (the hart's slow path completes the store).
final class GuardingTranslator: CodeTranslator {
    unowned let machine: Machine
    var id: UInt32 = 5
    var outcome: CalloutOutcome = .native
    var callouts: [(id: UInt32, instruction: Instruction, pc: UInt64)] = []

    init(_ machine: Machine) { self.machine = machine }

    func translate(_ instruction: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
        let store = [.sb, .sh, .sw, .sd].contains(instruction.opcode) && instruction.rs1 == 18
        let mscratch = instruction.opcode == .csrrs && instruction.imm == 0x340
        return store || mscratch ? .calloutOnMiss(id) : .keep
    }

    func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
        callouts.append((id, instruction, pc))
        let next = pc + UInt64(instruction.length)
        switch outcome {
        case .retired:
            if instruction.opcode == .csrrs {
                machine.setRegister(Int(instruction.rd), 42, hart: hart)
            } else {
                let va = machine.register(Int(instruction.rs1), hart: hart) &+ UInt64(bitPattern: Int64(instruction.imm))
                let value = machine.register(Int(instruction.rs2), hart: hart) + 1000
                machine.loadPhysical((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, at: va)
            }
            machine.setPC(next, hart: hart)
        case .abandoned:
            machine.setRegister(10, 99, hart: hart)
            machine.setPC(next, hart: hart)
        case .native:
            break
        }
        return outcome
    }
}

@Suite struct CalloutOnMissTests {
    static let engines: [ExecutionEngine] = [.interpreter, .blocks, .jit]

    /// Fifty `sd` to one data page (its own, so no decoded code keeps it off the fast path), each
    /// value read back and summed into a2: 1 + ... + 50 = 1275.
    static let loop = """
        li s1, 50
        la s2, data
        li a2, 0
    loop:
        sd s1, 0(s2)
        ld t1, 0(s2)
        add a2, a2, t1
        addi s1, s1, -1
        bnez s1, loop
        j mtrap
    .balign 4096
    data:
        .dword 0, 0
    """

    /// Runs `body` under `engine` (the JIT compiling at once), with a translator set up by
    /// `configure` (none when nil); `always` sets `guardedStoresAlwaysCallOut` after installing it.
    static func run(_ body: String, engine: ExecutionEngine, always: Bool = false,
                    _ configure: ((GuardingTranslator) -> Void)?) throws -> TranslatedRun<GuardingTranslator> {
        try TranslatedRun(body, on: JitLockstep.rig(engine, threshold: 1) { _ in }, make: GuardingTranslator.init,
                          installed: { $0.guardedStoresAlwaysCallOut = always }, configure)
    }

    /// Only the first store calls out (the soft TLB is cold); the other 49 hit and run as the
    /// plain store. Nothing the guest or the counts see changes.
    @Test(arguments: engines)
    func aStoreThatHitsMakesNoCallout(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.loop, engine: engine, nil)
        let r = try Self.run(Self.loop, engine: engine) { _ in }
        #expect(plain.stop == .poweredOff(code: 0))
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(12) == 1275)
        #expect(r.calls == 1)
        let first = try #require(r.translator?.callouts.first)
        #expect(first.id == 5 && first.instruction.opcode == .sd && first.instruction.rs1 == 18)
        #expect(first.instruction.rs3 == 0 && first.instruction.rd == 0, "the store as decoded, not its slot")
        #expect(Lockstep.snapshot(r.rig.machine) == Lockstep.snapshot(plain.rig.machine))
        #expect(r.counters.instructions == plain.counters.instructions)
        #expect(r.counters.cycles == plain.counters.cycles)
    }

    /// `guardedStoresAlwaysCallOut`: every execution calls out, and still nothing else changes;
    /// cleared, the stores hit again.
    @Test(arguments: engines)
    func alwaysCallingOutCallsOutEveryTime(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.loop, engine: engine, nil)
        let r = try Self.run(Self.loop, engine: engine, always: true) { _ in }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.calls == 50)
        #expect(Lockstep.snapshot(r.rig.machine) == Lockstep.snapshot(plain.rig.machine))
        #expect(r.counters.instructions == plain.counters.instructions)
        #expect(r.counters.cycles == plain.counters.cycles)
        // Off again: the first store refills the soft TLB, the rest hit.
        let t = try #require(r.translator)
        r.rig.machine.guardedStoresAlwaysCallOut = false
        r.rig.machine.startHart(0, privilege: .machine, pc: Layout.main, a0: 0, a1: 0)
        #expect(r.rig.run(100_000) == .poweredOff(code: 0))
        #expect(t.callouts.count == 51)
        // Installing a translator clears it.
        r.rig.machine.guardedStoresAlwaysCallOut = true
        r.rig.machine.translator = t
        #expect(!r.rig.machine.guardedStoresAlwaysCallOut)
    }

    /// A callout that retires the store does its work: the hart never stores, so the soft TLB
    /// never learns the page and every execution calls out; one retirement and one
    /// instruction's cycles each, as the store itself counted.
    @Test(arguments: engines)
    func aRetiredCalloutIsTheStore(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.loop, engine: engine, nil)
        let r = try Self.run(Self.loop, engine: engine) { $0.outcome = .retired }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(12) == 1275 + 50 * 1000)
        #expect(r.calls == 50)
        #expect(r.counters.instructions == plain.counters.instructions)
        #expect(r.counters.cycles == plain.counters.cycles)
        #expect(r.counters.exceptions == plain.counters.exceptions)
    }

    /// An abandoned store retires nothing and takes no exception; the hart goes on where the
    /// callout sent it.
    @Test(arguments: engines)
    func anAbandonedCalloutRetiresNothing(_ engine: ExecutionEngine) throws {
        let plain = try Self.run(Self.loop, engine: engine, nil)
        let r = try Self.run(Self.loop, engine: engine) { $0.outcome = .abandoned }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(12) == 0, "nothing stored")
        #expect(r.rig.x(10) == 99)
        #expect(r.calls == 50)
        #expect(r.counters.instructions == plain.counters.instructions - 50)
        #expect(r.counters.cycles == plain.counters.cycles - 50 * r.rig.machine.costs.instruction)
        #expect(r.counters.exceptions == plain.counters.exceptions)
    }

    /// A guarded store's slow path is the hart's: a store to a page holding decoded code never
    /// hits (such pages stay out of the soft TLB), so it calls out every time, and `.native` then
    /// writes the code and drops what was decoded there, as the plain store does.
    @Test(arguments: engines)
    func aStoreToCodeCallsOutEveryTime(_ engine: ExecutionEngine) throws {
        let body = """
            li s1, 3
            la s2, slot
            li a2, 0
        again:
            sd s1, 8(s2)
            ld t1, 8(s2)
            add a2, a2, t1
            addi s1, s1, -1
            bnez s1, again
            j mtrap
        .balign 8
        slot:
            .dword 0, 0
        """
        let plain = try Self.run(body, engine: engine, nil)
        let r = try Self.run(body, engine: engine) { _ in }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(12) == 6)
        #expect(r.calls == 3)
        #expect(Lockstep.snapshot(r.rig.machine) == Lockstep.snapshot(plain.rig.machine))
    }

    /// Not a plain integer store (a CSR read), or an id that does not fit the slot: a callout at
    /// every execution, as `.callout(id)`.
    @Test(arguments: engines)
    func otherwiseItIsACallout(_ engine: ExecutionEngine) throws {
        let csr = """
            li s1, 4
            li a2, 0
        again:
            csrr a0, mscratch
            add a2, a2, a0
            addi s1, s1, -1
            bnez s1, again
            j mtrap
        """
        let r = try Self.run(csr, engine: engine) { $0.outcome = .retired }
        #expect(r.stop == .poweredOff(code: 0))
        #expect(r.rig.x(12) == 4 * 42)
        #expect(r.calls == 4)
        let wide = try Self.run(Self.loop, engine: engine) { $0.id = 0x1_0000 }
        #expect(wide.stop == .poweredOff(code: 0))
        #expect(wide.rig.x(12) == 1275)
        #expect(wide.calls == 50)
        #expect(wide.translator?.callouts.allSatisfy { $0.id == 0x1_0000 } == true)
    }

    /// A guarded store executed outside the cache (a 32-bit store crossing a page end) calls out
    /// at every execution: its slot is not in the fetch page for the slow path to find.
    @Test(arguments: engines)
    func aStoreOutsideTheCacheCallsOutEveryTime(_ engine: ExecutionEngine) throws {
        let image = try Guest.assemble("""
        .globl _start
        _start:
            li s1, 2
            la s2, data
            li a2, 0
            j cross
        .org 0xFFE
        .option push
        .option norvc
        cross:
            sd s1, 0(s2)
        .option pop
            ld t1, 0(s2)
            add a2, a2, t1
            addi s1, s1, -1
            bnez s1, cross
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        1:  j 1b
        .balign 4096
        data:
            .dword 0
        """)
        let rig = JitLockstep.rig(engine, threshold: 1) { _ in }
        let t = GuardingTranslator(rig.machine)
        rig.machine.translator = t
        rig.boot(image)
        #expect(rig.run(100_000) == .poweredOff(code: 0))
        #expect(rig.machine.register(12) == 3)
        #expect(t.callouts.count == 2)
        #expect(t.callouts.allSatisfy { $0.pc == 0x8000_0FFE && $0.instruction.opcode == .sd })
    }

    /// Hits and misses mixed (two data pages and a store to code each round, the soft TLB filled
    /// and refilled), under each outcome: every engine ends in the same state with the same counts
    /// and the same callouts.
    @Test(arguments: [CalloutOutcome.retired, .abandoned, .native])
    func everyEngineAgrees(_ outcome: CalloutOutcome) throws {
        let body = """
            li s1, 40
            la s3, data
            li t0, 4096
            add s4, s3, t0
            li a2, 0
        loop:
            mv s2, s3
            sd s1, 0(s2)
            mv s2, s4
            sw s1, 4(s2)
            la s2, code
            sh s1, 0(s2)
            ld t1, 0(s3)
            add a2, a2, t1
            lw t1, 4(s4)
            add a2, a2, t1
            addi s1, s1, -1
            bnez s1, loop
            j mtrap
        .balign 8
        code:
            .dword 0
        .balign 4096
        data:
            .zero 8192
        """
        var snapshots: [[String]] = []
        var calls: [[UInt64]] = []
        for engine in Self.engines {
            let r = try Self.run(body, engine: engine) { $0.outcome = outcome }
            #expect(r.stop == .poweredOff(code: 0))
            snapshots.append(Lockstep.snapshot(r.rig.machine))
            calls.append(r.translator?.callouts.map(\.pc) ?? [])
        }
        #expect(snapshots[0] == snapshots[1])
        #expect(snapshots[0] == snapshots[2])
        #expect(calls[0] == calls[1])
        #expect(calls[0] == calls[2])
        // The store to code misses every time; the others only while the soft TLB is cold
        // (natively) or always (a store the callout completes never fills it).
        #expect(calls[0].count == (outcome == .native ? 40 + 2 : 120))
    }
}

extension TranslatedRun where Translator == GuardingTranslator {
    /// How many callouts the guarding translator saw.
    var calls: Int { translator?.callouts.count ?? 0 }
}
