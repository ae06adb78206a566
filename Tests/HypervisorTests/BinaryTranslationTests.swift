import Boot
import Foundation
import GuestTestSupport
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// The `bt` technique on small kernels: what it costs against native and trap, adaptation of
/// traced stores, learnt device accesses, and its account.
@Suite struct BinaryTranslationTests {
    /// A kernel that runs `body` `iterations` times after `setup`, then powers off with code 0; a
    /// trap it does not expect prints "T" and powers off with code 1.
    static func loop(_ body: String, iterations: Int, setup: String = "") -> String {
        """
        _start:
            la t0, trap
            csrw stvec, t0
        \(setup)
            li s0, \(iterations)
        1:
        \(body)
            addi s0, s0, -1
            bnez s0, 1b
        \(TestKernels.shutdown(0))
        .align 2
        trap:
        \(TestKernels.print("T"))
        \(TestKernels.shutdown(1))
        """
    }

    static func run(_ source: String, mode: ExecutionMode, policy: BinaryTranslationPolicy = BinaryTranslationPolicy(),
                    shadow: ShadowPolicy = ShadowPolicy(), profile: CostProfile = .standard) throws -> Guest {
        var c = try TestKernels.configuration(source, mode: mode, profile: profile)
        c.binaryTranslationPolicy = policy
        c.shadowPolicy = shadow
        let g = try Guest(c)
        #expect(g.run(maxInstructions: 10_000_000) == .poweredOff(code: 0), "\(mode): \(g.consoleText)")
        return g
    }

    /// Modelled cycles one more iteration of `body` costs under `mode` (the difference between
    /// 2000 and 1000 iterations, over 1000: translation and set-up cancel).
    static func perIteration(_ body: String, mode: ExecutionMode, setup: String = "",
                             policy: BinaryTranslationPolicy = BinaryTranslationPolicy(),
                             shadow: ShadowPolicy = ShadowPolicy()) throws -> Double {
        let a = try run(loop(body, iterations: 1000, setup: setup), mode: mode, policy: policy, shadow: shadow, profile: .classic2006)
        defer { a.close() }
        let b = try run(loop(body, iterations: 2000, setup: setup), mode: mode, policy: policy, shadow: shadow, profile: .classic2006)
        defer { b.close() }
        return Double(b.cycles - a.cycles) / 1000
    }

    /// bt's translation cache is the block cache, which the block engine and the native-code
    /// engine keep: bt runs on the one configured, and on the block engine where the interpreter was.
    @Test func availableOnTheEnginesThatBuildBlocks() throws {
        #expect(ExecutionMode.available.contains(.bt))
        #expect(ExecutionMode.bt.engine(given: .interpreter) == .blocks)
        #expect(ExecutionMode.bt.engine(given: .blocks) == .blocks)
        #expect(ExecutionMode.bt.engine(given: .jit) == .jit)
        #expect(ExecutionMode.trap.engine(given: .interpreter) == .interpreter)
        let g = try Self.run(TestKernels.hello(), mode: .bt)
        defer { g.close() }
        #expect(g.machine.configuration.engine == ExecutionMode.bt.engine(given: .standard))
        #expect(g.consoleText == "hello\n")
        let t = try #require(g.technique as? BinaryTranslationTechnique)
        #expect(g.machine.translator === t.translator)
        // The VMM's shadow pool comes out of the guest's carve-out, as for trap.
        #expect(g.carveout?.size == (4 << 20) + TrapTechnique.shadowPoolSize)
    }

    @Test func needsTheBuiltInFirmware() throws {
        var c = try TestKernels.configuration(TestKernels.hello(), mode: .bt)
        c.board.firmware = .none
        #expect {
            _ = try Guest(c)
        } throws: { error in
            "\(error)".contains("bt mode runs the guest kernel under its own virtual SBI")
        }
    }

    /// The monitor keeps one vCPU: a VM of several harts is refused, not run with all but one
    /// parked behind the guest's back (whose device tree names them all).
    @Test(arguments: [ExecutionMode.trap, .bt])
    func refusesSeveralHarts(_ mode: ExecutionMode) throws {
        var c = try TestKernels.configuration(TestKernels.hello(), mode: mode)
        c.board.harts = 2
        #expect {
            _ = try Guest(c)
        } throws: { error in
            "\(error)" == "\(mode.rawValue) mode runs one vCPU (got 2 harts): interpret, pv and hw run several, as native does"
        }
        c.board.harts = 1
        let g = try Guest(c)
        g.close()
    }

    @Test func twoGuestsShareAHost() throws {
        let host = Host(HostConfiguration(memory: 32 << 20))
        defer { host.close() }
        let a = try host.createGuest(TestKernels.configuration(TestKernels.hello("one"), mode: .bt))
        let b = try host.createGuest(TestKernels.configuration(TestKernels.hello("two"), mode: .bt))
        _ = host.run(maxInstructions: 10_000_000)
        #expect(a.finalStop == .poweredOff(code: 0) && b.finalStop == .poweredOff(code: 0))
        #expect(a.consoleText == "one\n" && b.consoleText == "two\n")
        #expect(a.technique.account(a).total == a.machine.cycles && b.technique.account(b).total == b.machine.cycles)
    }

    @Test func runsTheTestKernelLikeNative() throws {
        let native = try Self.run(TestKernels.hello(), mode: .native)
        defer { native.close() }
        let bt = try Self.run(TestKernels.hello(), mode: .bt)
        defer { bt.close() }
        #expect(bt.consoleText == native.consoleText)
        let account = bt.technique.account(bt)
        // The 1000 csrr sscratch are inline, the stvec write too; sret (from the ebreak's
        // handler) and the putchar SBI calls are callouts; the ebreak itself traps and is reflected.
        #expect(account.count(.btInlineCSR) >= 1002)
        #expect(account.count(.btCallout) == 8)
        #expect(account.count(.privilegedEmulated) == 0 && account.count(.firmwareCall) == 0)
        #expect(account.count(.exceptionReflected) == 1)
        #expect(account.count(.translation) > 0)
        // The UART read: trapped once (the device region is protected) and emulated.
        #expect(account.count(.deviceEmulated) == 1)
        #expect(account.waitedCycles == 0)
        #expect(account.chargedCycles == bt.machine.cycles)
        #expect(bt.statistics().cycles.total == account.total)
        let counters = bt.technique.counters(bt)
        #expect(counters["bt"]?["callouts"] == 8)
        #expect(counters["callouts_by_kind"]?["csr_inline"] == account.count(.btInlineCSR))
        #expect(counters["callouts_by_kind"]?["ecall"] == 7)
        #expect(bt.statistics().exits["illegal_instruction"] == nil, "no kernel CSR access traps")
        // The 1000-iteration loop runs from the cache: its blocks are built once, entered again and again.
        let cache = try #require(counters["block_cache"])
        let built = try #require(cache["built"]), entries = try #require(cache["entries"])
        #expect(built >= counters["bt"]?["blocks_translated"] ?? .max)
        #expect(entries > 1000 && cache["hits"] == entries - built)
    }

    /// [AA06]: a cr8 write costs 150 cycles natively, 35 under BT, 177 under VT (and a trap-and-emulate
    /// VMM far more): "CSR write not intercepted: bt < native".
    @Test func aCSRWriteCostsLessUnderBTThanNativeAndTrap() throws {
        let body = "    csrw sscratch, s0"
        let native = try Self.perIteration(body, mode: .native)
        let trap = try Self.perIteration(body, mode: .trap)
        let bt = try Self.perIteration(body, mode: .bt)
        #expect(bt < native && native < trap, "bt \(bt), native \(native), trap \(trap)")
        // addi and bnez, then the write: 1 (its instruction) + 34 (bt_inline_csr) = [AA06]'s 35.
        #expect(bt == 2 + 35)
        // Without inline emulation the write is a callout: dearer than native, cheaper than a trap.
        let callout = try Self.perIteration(body, mode: .bt, policy: BinaryTranslationPolicy(inlineEmulation: false))
        #expect(callout == 2 + 1 + 1254 && callout < trap)
    }

    /// [AA06]: a call/ret pair costs 11 cycles natively and 51 under BT. The call, a direct jump,
    /// is translated in place; the return, an indirect jump, looks up its target's translation
    /// (`bt_indirect_jump`, 40). Under trap the same code runs natively; afterburnt code is the
    /// kernel's own, with no translation cache to look targets up in.
    @Test(arguments: [
        // jal, ret, j, addi, bnez
        ("    jal ra, 3f\n    j 4f\n3:  ret\n4:", "", 5.0, 1.0),
        // `call` beyond jal's reach is auipc + jalr: still a direct call, its target known
        ("    call 3f\n    j 4f\n3:  ret\n4:", "", 6.0, 1.0),
        // a call through a register (a function pointer) is indirect too: two lookups
        ("    jalr s1", "    la s1, 5f\n    j 6f\n5:  ret\n6:", 4.0, 2.0),
    ])
    func indirectJumpsCostFortyMoreUnderBT(body: String, setup: String, instructions: Double, lookups: Double) throws {
        let native = try Self.perIteration(body, mode: .native, setup: setup)
        #expect(native == instructions)
        #expect(try Self.perIteration(body, mode: .trap, setup: setup) == native)
        #expect(try Self.perIteration(body, mode: .bt, setup: setup) == native + 40 * lookups)
        #expect(try Self.perIteration(body, mode: .bt, setup: setup, policy: BinaryTranslationPolicy(afterburn: true)) == native)
    }

    /// Each return is counted (`indirect_jumps`) and priced in the account, which still reproduces
    /// the clock.
    @Test func indirectJumpsAreCountedAndAccounted() throws {
        let body = """
            jal ra, 3f
            j 4f
        3:  ret
        4:
        """
        let g = try Self.run(Self.loop(body, iterations: 1000), mode: .bt, profile: .classic2006)
        defer { g.close() }
        let t = try #require(g.technique as? BinaryTranslationTechnique)
        let jumps = try #require(t.translator?.counters.indirectJumps)
        #expect(jumps >= 1000 && jumps < 1100, "\(jumps)")
        let account = g.technique.account(g)
        #expect(account.count(.btIndirectJump) == jumps)
        #expect(account.chargedCycles == g.machine.cycles)
    }

    /// [AA06]: `in` from an emulated port costs 216 cycles under BT, 3209 natively: "device register
    /// access: bt (inline emulation) < native".
    @Test func aDeviceAccessIsCheaperUnderBTThanNative() throws {
        let setup = "    li s1, 0x10000000"
        let body = "    lbu t1, 5(s1)"
        let native = try Self.perIteration(body, mode: .native, setup: setup)
        let bt = try Self.perIteration(body, mode: .bt, setup: setup)
        #expect(bt < native, "bt \(bt), native \(native)")
        #expect(bt == 2 + 1 + 216)
        let g = try Self.run(Self.loop(body, iterations: 100, setup: setup), mode: .bt)
        defer { g.close() }
        let c = try #require((g.technique as? BinaryTranslationTechnique)?.translator?.counters)
        // The first access traps and is emulated; the instruction is retranslated; the rest are inline.
        #expect(c.deviceEmulated == 1 && c.devicesLearnt == 1 && c.deviceInline == 99)
        #expect(g.machine.counters().mmioAccesses == 0, "no access reaches the device as the hardware's")
        #expect(g.technique.account(g).total == g.machine.cycles)
    }

    /// The device access the translator emulates after its access fault retires, as natively and
    /// as its later inline accesses do: instret, and the count of instructions, do not depend on
    /// how the VMM performed it (a random S-mode kernel printing through the UART found bt one
    /// instruction short per learnt access).
    @Test func aLearntDeviceAccessRetiresLikeNative() throws {
        let source = Self.loop("""
                rdinstret t2
                sb zero, 7(s1)
                rdinstret t3
                sub t3, t3, t2
                add s2, s2, t3
            """, iterations: 10, setup: "    li s1, 0x10000000\n    li s2, 0")
        let native = try Self.run(source, mode: .native)
        defer { native.close() }
        let bt = try Self.run(source, mode: .bt)
        defer { bt.close() }
        let c = try #require((bt.technique as? BinaryTranslationTechnique)?.translator?.counters)
        #expect(c.deviceEmulated == 1 && c.deviceInline == 9)
        // Each iteration's two rdinstret are two instructions apart: the store and the first read.
        #expect(native.machine.register(18) == 20)
        #expect(bt.machine.register(18) == native.machine.register(18))
        #expect(bt.machine.counters().instructions == native.machine.counters().instructions)
        #expect(bt.technique.account(bt).total == bt.machine.cycles)
    }

    /// Sv39 with the kernel identity-mapped by a gigapage and VA 0x1000 by a 4 KiB leaf (as
    /// FaultKernels.paged), then a load through VA 0x1000 so the shadow mirrors (and traces) the
    /// leaf table at 0x80312000.
    static let pagedSetup = """
        li t0, 0x80310000
        li t1, 0x200000CF
        sd t1, 16(t0)
        li t1, 0x200C4401
        sd t1, 0(t0)
        li t0, 0x80311000
        li t1, 0x200C4801
        sd t1, 0(t0)
        li t0, 0x80312000
        li t1, 0x200C00C7
        sd t1, 8(t0)
        li t1, 0x8000000000080310
        csrw satp, t1
        sfence.vma
        li s2, 0x1000
        ld t1, 0(s2)
        li s1, 0x80312000
    """

    /// One store writing a table again and again, with no access through the table in between,
    /// is a write flood: the shadow pager stops tracing the table after three writes
    /// (ShadowUnshadowingTests). The adaptation tests keep it traced, to see adaptation alone.
    static let alwaysTraced = ShadowPolicy(unshadowAfter: 0)

    @Test(arguments: [1, 4, 7])
    func aTracedStoreAdaptsAtTheThreshold(threshold: Int) throws {
        // One store instruction writing an unused entry of the traced leaf table, 20 times.
        let source = Self.loop("    sd s0, 16(s1)", iterations: 20, setup: Self.pagedSetup)
        let g = try Self.run(source, mode: .bt, policy: BinaryTranslationPolicy(adaptThreshold: threshold), shadow: Self.alwaysTraced)
        defer { g.close() }
        let t = try #require(g.technique as? BinaryTranslationTechnique)
        let c = try #require(t.translator?.counters)
        let m = try #require(t.monitor?.counters)
        // The set-up's own stores to the tables happen before any table is traced.
        #expect(m.tracedWrites == UInt64(threshold), "trapped until the threshold")
        #expect(c.adaptations == 1)
        #expect(c.tracedWriteInline == UInt64(20 - threshold), "then emulated with no trap")
        #expect(g.machine.readPhysical(at: 0x80312010, count: 1) == [1], "the last store (s0 = 1) landed")
        #expect(t.checkCoherence() == [])
        let a = g.technique.account(g)
        #expect(a.count(.tracedWriteInline) == UInt64(20 - threshold) && a.count(.tracedWrite) == UInt64(threshold))
        #expect(a.total == g.machine.cycles)
    }

    @Test func adaptationOff() throws {
        let source = Self.loop("    sd s0, 16(s1)", iterations: 20, setup: Self.pagedSetup)
        let g = try Self.run(source, mode: .bt, policy: BinaryTranslationPolicy(adaptThreshold: 0), shadow: Self.alwaysTraced)
        defer { g.close() }
        let t = try #require(g.technique as? BinaryTranslationTechnique)
        #expect(t.monitor?.counters.tracedWrites == 20 && t.translator?.counters.adaptations == 0)
    }

    /// With the default policies the same loop is a write flood before it is a hot store: three
    /// traced writes (below the adaptation threshold, 4), then the table is unshadowed and the
    /// store runs natively, with nothing to adapt.
    @Test func aWriteFloodUnshadowsBeforeTheStoreAdapts() throws {
        let source = Self.loop("    sd s0, 16(s1)", iterations: 20, setup: Self.pagedSetup)
        let g = try Self.run(source, mode: .bt)
        defer { g.close() }
        let t = try #require(g.technique as? BinaryTranslationTechnique)
        #expect(t.monitor?.counters.tracedWrites == 3)
        #expect(t.translator?.counters.adaptations == 0)
        #expect(t.monitor?.shadow.counters.unshadowed == 1)
        #expect(g.machine.readPhysical(at: 0x80312010, count: 1) == [1], "the last store (s0 = 1) landed")
        #expect(t.checkCoherence() == [])
    }

    /// A traced PTE store after adaptation costs `traced_write_inline` (+ the instruction),
    /// far less than under trap ([AA06]: 391 under BT against 12733 under VT).
    @Test func anAdaptedStoreCostsTracedWriteInline() throws {
        let body = "    sd s0, 16(s1)"
        let bt = try Self.perIteration(body, mode: .bt, setup: Self.pagedSetup, shadow: Self.alwaysTraced)
        let trap = try Self.perIteration(body, mode: .trap, setup: Self.pagedSetup, shadow: Self.alwaysTraced)
        #expect(bt == 2 + 1 + 390, "bt \(bt)")
        #expect(bt < trap)
    }

    /// A kernel that rewrites one of its own translated instructions: the translation is dropped
    /// (an invalidation) and the new instruction is translated and runs.
    @Test func writingTranslatedCodeInvalidatesIt() throws {
        let source = """
        _start:
            la t0, trap
            csrw stvec, t0
            call f
            li t3, 1
            bne a0, t3, fail
            la t1, f
            li t2, 0x00200513        # addi a0, x0, 2
            sw t2, 0(t1)
            fence.i
            call f
            li t3, 2
            bne a0, t3, fail
        \(TestKernels.shutdown(0))
        fail:
        \(TestKernels.shutdown(1))
        .align 2
        f:
            .word 0x00100513         # addi a0, x0, 1
            ret
        .align 2
        trap:
        \(TestKernels.shutdown(1))
        """
        let g = try Self.run(source, mode: .bt)
        defer { g.close() }
        let c = try #require((g.technique as? BinaryTranslationTechnique)?.translator?.counters)
        #expect(c.invalidations >= 1)
        #expect(g.technique.counters(g)["bt"]?["invalidations"] == c.invalidations)
    }

    @Test func aNewProfilePricesTheTranslatorToo() throws {
        let g = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .bt))
        defer { g.close() }
        g.profile = .classic2006
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        let t = try #require((g.technique as? BinaryTranslationTechnique)?.translator)
        #expect(t.prices.inlineCSR == CostProfile.classic2006.cycles(.btInlineCSR))
        #expect(t.prices.translation == CostProfile.classic2006.cycles(.translation))
        #expect(g.technique.account(g).total == g.machine.cycles)
    }

    /// The ticker kernel (wfi, timer interrupts, SBI calls, sret) runs as natively, and each
    /// system instruction is one `privileged` event, as natively, though none of the kernel's trap.
    @Test func timerInterruptsAndPrivilegedEventsLikeNative() throws {
        let native = try Guest(TestKernels.configuration(TrapTechniqueTests.ticker, mode: .native))
        defer { native.close() }
        let bt = try Guest(TestKernels.configuration(TrapTechniqueTests.ticker, mode: .bt))
        defer { bt.close() }
        var counts: [Int] = [0, 0]
        _ = native.events.add(.privileged) { _ in counts[0] += 1; return .proceed }
        _ = bt.events.add(.privileged) { _ in counts[1] += 1; return .proceed }
        var injected = 0
        _ = bt.events.add(.interruptInjected) { _ in injected += 1; return .proceed }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(bt.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(bt.consoleText == "123\n" && native.consoleText == "123\n")
        #expect(counts[0] == counts[1] && counts[1] > 10)
        #expect(injected == 3)
        #expect(bt.technique.counters(bt)["callouts_by_kind"]?["wfi"] == 3)
        #expect(bt.technique.account(bt).total == bt.machine.cycles)
    }

    /// The translator reports the system instructions its callouts emulate only while a hook
    /// watches `privileged`: one added between runs sees those after it, and those alone.
    @Test func aPrivilegedHookAddedBetweenRunsSeesTheCalloutsAfterIt() throws {
        func events(afterRunning first: UInt64) throws -> (seen: [UInt64], addedAt: UInt64) {
            let g = try Guest(TestKernels.configuration(TrapTechniqueTests.ticker, mode: .bt))
            defer { g.close() }
            if first > 0 { _ = g.run(maxInstructions: first) }
            let addedAt = g.instructions
            var seen: [UInt64] = []
            _ = g.events.add(.privileged) { e in seen.append(e.instructions); return .proceed }
            #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
            return (seen, addedAt)
        }
        let whole = try events(afterRunning: 0).seen
        let later = try events(afterRunning: whole[whole.count / 2] + 1)
        #expect(whole.count > 10 && later.seen.count > 5 && later.seen == whole.filter { $0 >= later.addedAt },
                "\(whole); added at \(later.addedAt): \(later.seen)")
    }

    @Test func deterministic() throws {
        guard let c = TinyosGuest.cases.first(where: { $0.name == "fork" }) else { return }
        var results: [(String, UInt64, [String: [String: UInt64]])] = []
        for _ in 0..<2 {
            guard let g = try BinaryTranslationTinyosTests.guest(c) else { return }
            defer { g.close() }
            _ = g.run(maxInstructions: 2_000_000_000)
            results.append((g.consoleText, g.cycles, g.technique.counters(g)))
        }
        #expect(results[0].0 == results[1].0)
        #expect(results[0].1 == results[1].1)
        #expect(results[0].2 == results[1].2)
    }
}
