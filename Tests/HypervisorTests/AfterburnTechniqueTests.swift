import Boot
import Foundation
import GuestTestSupport
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// `bt` with `afterburn`: the kernel patched at load time, patch words emulated as runtime BT's
/// callouts, nothing translated, unpatched code trapping as in `trap`, patch words illegal
/// everywhere the afterburner did not put them for the guest kernel.
@Suite struct AfterburnTechniqueTests {
    static let textBase: UInt64 = 0x8020_0000
    /// Where the test kernels keep "late" code: a segment the ELF does not mark executable, so the
    /// afterburner does not scan it (the kernel runs bare, so it can still execute it).
    static let lateBase: UInt64 = 0x8028_0000
    static let data: UInt64 = 0x8030_0000

    /// A minimal ELF64 kernel: `text` assembled at 0x80200000 (R+X), `late` at 0x80280000 (R+W).
    static func elf(_ text: String, late: String? = nil) throws -> [UInt8] {
        var elf = ELFBuilder(segments: [.init(physicalAddress: textBase,
                                              data: try Assembler.bytes(TestKernels.macros + "\n" + text), flags: 5)],
                             entry: textBase)
        if let late { elf.segments.append(.init(physicalAddress: lateBase, data: try Assembler.bytes(late), flags: 6)) }
        return elf.build()
    }

    static func configuration(_ kernel: [UInt8], mode: ExecutionMode, afterburn: Bool = true) -> GuestConfiguration {
        var board = VirtBoardConfiguration()
        board.memory = 4 << 20
        board.kernel = .bytes(kernel, name: "afterburn-test-kernel")
        return GuestConfiguration(mode: mode, board: board,
                                  binaryTranslationPolicy: BinaryTranslationPolicy(afterburn: afterburn))
    }

    /// Patched csrr in a loop (callouts), the same csrr in late code (traps), and the kernel
    /// reading one of its own sensitive instructions into DATA.
    static let kernel = """
        _start:
            la t0, trap
            csrw stvec, t0
            li s0, 100
        1:  csrr t1, sscratch
            addi s0, s0, -1
            bnez s0, 1b
            li s0, 10
            li s1, 0x80280000
        2:  jalr s1
            addi s0, s0, -1
            bnez s0, 2b
            la t0, probe
            lwu t1, 0(t0)
            li t2, DATA
            sw t1, 0(t2)
        \(TestKernels.print("ok\n"))
        \(TestKernels.shutdown(0))
        probe:
            csrr a0, sscratch
        .align 2
        trap:
        \(TestKernels.shutdown(1))
        """
    static let late = """
            csrr t1, sscratch
            ret
        """

    static func run(_ kernel: [UInt8], mode: ExecutionMode, afterburn: Bool = true) throws -> Guest {
        let g = try Guest(configuration(kernel, mode: mode, afterburn: afterburn))
        _ = g.run(maxInstructions: 5_000_000)
        return g
    }

    static func word(_ g: Guest, at address: UInt64) -> UInt32 {
        let b = g.machine.readPhysical(at: address, count: 4) ?? [0, 0, 0, 0]
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    @Test func patchedCodeCallsOutUnpatchedCodeTraps() throws {
        let image = try Self.elf(Self.kernel, late: Self.late)
        let native = try Self.run(image, mode: .native)
        defer { native.close() }
        let burnt = try Self.run(image, mode: .bt)
        defer { burnt.close() }
        #expect(native.finalStop == .poweredOff(code: 0))
        #expect(burnt.consoleText == native.consoleText && burnt.consoleText == "ok\n")
        #expect(burnt.finalStop == .poweredOff(code: 0), "\(burnt.consoleText)")

        let counters = burnt.technique.counters(burnt)
        let afterburn = try #require(counters["afterburn"])
        // stvec write, csrr in the loop, the probe, and the ecalls of print and of both shutdowns.
        #expect(afterburn["sites_patched"] == 3 + 3 + 1 + 1)
        #expect(afterburn["patched_calls"] == 1 + 100 + 3 + 1)
        #expect(afterburn["scanned_instructions"] ?? 0 > 20)
        #expect(counters["afterburn_sites_by_kind"]?.values.reduce(0, +) == afterburn["sites_patched"])
        #expect(counters["afterburn_calls_by_kind"]?.values.reduce(0, +) == afterburn["patched_calls"])

        let account = burnt.technique.account(burnt)
        // Nothing is translated; the ten csrr of the late code trap and are emulated as in `trap`.
        #expect(account.count(.translation) == 0)
        #expect(account.count(.privilegedEmulated) == 10)
        #expect(account.count(.btCallout) + account.count(.btInline) + account.count(.btInlineCSR) > 0)
        #expect(account.waitedCycles == 0)
        #expect(account.total == burnt.machine.cycles)
        #expect(burnt.statistics().cycles.total == account.total)

        // The guest reading its own text sees the patch word; natively, the instruction.
        let probeNative = Self.word(native, at: Self.data)
        #expect(Decoder.decode(probeNative).opcode == .csrrs)
        let probeBurnt = Self.word(burnt, at: Self.data)
        #expect(AfterburnerPatchWord.index(of: probeBurnt) != nil)
        #expect(probeBurnt != probeNative)
    }

    @Test func runtimeTranslationLeavesMemoryAlone() throws {
        let image = try Self.elf(Self.kernel, late: Self.late)
        let bt = try Self.run(image, mode: .bt, afterburn: false)
        defer { bt.close() }
        #expect(bt.finalStop == .poweredOff(code: 0))
        #expect(Decoder.decode(Self.word(bt, at: Self.data)).opcode == .csrrs)
        #expect(bt.technique.counters(bt)["afterburn"] == nil)
        #expect(bt.technique.account(bt).count(.translation) > 0)
    }

    /// Hooks see the patched instructions as they see them natively: one `privileged` event each.
    @Test func patchCallsReachHooksAsPrivilegedEvents() throws {
        let image = try Self.elf(Self.kernel, late: Self.late)
        var counts: [String: Int] = [:]
        for (label, mode) in [("native", ExecutionMode.native), ("afterburn", .bt)] {
            let g = try Guest(Self.configuration(image, mode: mode))
            defer { g.close() }
            var n = 0
            g.events.add(.privileged) { _ in n += 1; return .proceed }
            #expect(g.run(maxInstructions: 5_000_000) == .poweredOff(code: 0))
            counts[label] = n
        }
        #expect(counts["native"] ?? 0 > 110)
        #expect(counts["afterburn"] == counts["native"])
    }

    /// The kernel writes the original instruction back over one of its patch sites: code written
    /// after load time is not patched, so it traps and is emulated as under `trap`, five times.
    @Test func codeWrittenLaterTraps() throws {
        let original = Encoder.encode(Instruction(opcode: .csrrs, rd: 6, rs1: 0, imm: Int32(CSR.sscratch)))
        let source = """
            _start:
                la t0, trap
                csrw stvec, t0
                la t0, site
                li t1, \(original)
                sw t1, 0(t0)
                fence.i
                li s0, 5
            site:
                csrr t1, sscratch
                addi s0, s0, -1
                bnez s0, site
            \(TestKernels.shutdown(0))
            .align 2
            trap:
            \(TestKernels.shutdown(1))
            """
        let image = try Self.elf(source)
        let burnt = try Self.run(image, mode: .bt)
        defer { burnt.close() }
        #expect(burnt.finalStop == .poweredOff(code: 0))
        let afterburn = try #require(burnt.technique.counters(burnt)["afterburn"])
        #expect(afterburn["sites_patched"] == 4)           // csrw stvec, the site, both shutdowns' ecalls
        #expect(afterburn["patched_calls"] == 2)           // csrw stvec, the final ecall
        let account = burnt.technique.account(burnt)
        #expect(account.count(.privilegedEmulated) == 5)
        #expect(account.total == burnt.machine.cycles)
    }

    /// The kernel drops to U-mode on one of its patched instructions: there it is an illegal
    /// instruction for the guest, as the csrr it replaced is natively (the handler powers off
    /// with 0 on scause 2, with 1 on anything else).
    static let userKernel = """
        _start:
            la t0, trap
            csrw stvec, t0
            la t0, user
            csrw sepc, t0
            li t0, 0x100
            csrc sstatus, t0
            sret
        user:
            csrr t1, sscratch
        \(TestKernels.shutdown(1))
        .align 2
        trap:
            csrr t0, scause
            li t2, DATA
            sd t0, 0(t2)
            li t1, 2
            bne t0, t1, bad
        \(TestKernels.shutdown(0))
        bad:
        \(TestKernels.shutdown(1))
        """

    @Test func aPatchWordInUserModeIsAnIllegalInstruction() throws {
        let image = try Self.elf(Self.userKernel)
        let native = try Self.run(image, mode: .native)
        defer { native.close() }
        let burnt = try Self.run(image, mode: .bt)
        defer { burnt.close() }
        #expect(native.finalStop == .poweredOff(code: 0), "scause \(Self.word(native, at: Self.data))")
        #expect(burnt.finalStop == .poweredOff(code: 0), "scause \(Self.word(burnt, at: Self.data))")
        #expect(burnt.technique.counters(burnt)["afterburn"]?["user_mode_patch_words"] == 1)
        #expect(burnt.technique.account(burnt).count(.exceptionReflected) == 1)
    }

    /// Custom-0 words the afterburner did not write: one naming no site, one naming site 0 away
    /// from it. Both are illegal instructions, counted by the kernel's handler, as natively.
    static let hostileKernel = """
        _start:
            la t0, trap
            csrw stvec, t0
            li s1, 0
            .word 0xffffff8b
            .word 0x0000000b
            .word 0x0000008b
            li t0, 3
            bne s1, t0, bad
        \(TestKernels.shutdown(0))
        bad:
        \(TestKernels.shutdown(1))
        .align 2
        trap:
            csrr t0, scause
            li t1, 2
            bne t0, t1, bad
            addi s1, s1, 1
            csrr t0, sepc
            addi t0, t0, 4
            csrw sepc, t0
            sret
        """

    @Test func hostilePatchIndicesAreHarmless() throws {
        let image = try Self.elf(Self.hostileKernel)
        let native = try Self.run(image, mode: .native)
        defer { native.close() }
        let burnt = try Self.run(image, mode: .bt)
        defer { burnt.close() }
        #expect(native.finalStop == .poweredOff(code: 0))
        #expect(burnt.finalStop == .poweredOff(code: 0))
        let afterburn = try #require(burnt.technique.counters(burnt)["afterburn"])
        #expect(afterburn["foreign_patch_words"] == 3)
        #expect(burnt.technique.account(burnt).count(.exceptionReflected) == 3)
    }

    /// Seeded, so that a failing case can be run again.
    @Test(arguments: 0..<8)
    func randomCustom0WordsNeverCrashTheHost(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0xAF7E &+ seed)
        var words = ""
        for _ in 0..<64 { words += "    .word \(UInt32(truncatingIfNeeded: rng.next()) & ~0x7f | 0x0b)\n" }
        let source = """
            _start:
                la t0, trap
                csrw stvec, t0
            \(words)
            \(TestKernels.shutdown(0))
            .align 2
            trap:
                csrr t0, sepc
                addi t0, t0, 4
                csrw sepc, t0
                sret
            """
        let burnt = try Self.run(try Self.elf(source), mode: .bt)
        defer { burnt.close() }
        #expect(burnt.finalStop == .poweredOff(code: 0))
        #expect(burnt.technique.account(burnt).count(.exceptionReflected) == 64)
    }

    // MARK: tinyos

    static func tinyos(_ bootargs: String, mode: ExecutionMode) throws -> GuestConfiguration? {
        guard let board = try TinyosBoards.configuration(bootargs, tag: "afterburn", memory: 32 << 20) else { return nil }
        return GuestConfiguration(mode: mode, board: board, binaryTranslationPolicy: BinaryTranslationPolicy(afterburn: true))
    }

    /// The patch report on tinyos: the sites are exactly the sensitive instructions decoded from
    /// the ELF file (AfterburnScanTests.sensitiveInFile), classified by the translator.
    @Test func tinyosPatchReport() throws {
        guard let c = try Self.tinyos("bench=syscall n=1", mode: .bt), case .file(let path)? = c.board.kernel else { return }
        let g = try Guest(c)
        defer { g.close() }
        let expected = try AfterburnScanTests.sensitiveInFile(path)
        let afterburn = try #require(g.technique.counters(g)["afterburn"])
        #expect(afterburn["sites_patched"] == UInt64(expected.count))
        #expect(afterburn["patched_calls"] == 0)
        for (address, _) in expected {
            #expect(AfterburnerPatchWord.index(of: Self.word(g, at: address)) != nil)
        }
    }

    @Test(arguments: ["bench=syscall n=10", "bench=csr n=10", "bench=pagefault n=4", "bench=pte n=4",
                      "bench=fork n=2", "bench=mmio n=10", "init=faulttest"])
    func tinyosLikeNative(_ bootargs: String) throws {
        var outputs: [ExecutionMode: String] = [:]
        for mode in [ExecutionMode.native, .bt] {
            guard let c = try Self.tinyos(bootargs, mode: mode) else { return }
            let g = try Guest(c)
            defer { g.close() }
            #expect(g.run(maxInstructions: 300_000_000) == .poweredOff(code: 0), "\(mode): \(g.consoleText)")
            outputs[mode] = TinyosGuest.comparable(g.consoleText)
            let account = g.technique.account(g)
            #expect(account.total == g.statistics().cycles.total)
            if mode == .bt {
                #expect(account.count(.translation) == 0)
                #expect(account.waitedCycles == 0 && account.total == g.machine.cycles)
                let counters = g.technique.counters(g)
                let afterburn = try #require(counters["afterburn"])
                #expect(afterburn["patched_calls"] ?? 0 > 0)
                #expect(counters["bt"]?["translated_instructions"] == 0 && counters["bt"]?["blocks_translated"] == 0)
                // No adaptive translation: a store to a traced page-table page always traps.
                #expect(counters["bt"]?["adaptations"] == 0 && account.count(.tracedWriteInline) == 0)
                if bootargs.contains("pte") { #expect(account.count(.tracedWrite) > 20) }
            }
        }
        #expect(outputs[.native]?.isEmpty == false)
        #expect(outputs[.native] == outputs[.bt])
    }

    static func total(_ bootargs: String, _ mode: ExecutionMode, afterburn: Bool) throws -> CycleAccount? {
        guard var c = try Self.tinyos(bootargs, mode: mode) else { return nil }
        c.binaryTranslationPolicy.afterburn = afterburn
        let g = try Guest(c)
        defer { g.close() }
        #expect(g.run(maxInstructions: 300_000_000) == .poweredOff(code: 0))
        return g.technique.account(g)
    }

    /// What load-time patching buys and loses against runtime translation: a system-call loop
    /// (kernel code run once per call, sensitive instructions on every path) is cheaper afterburnt
    /// (no translation) than translated, and cheaper than trap-and-emulate (callouts instead of
    /// traps); an iteration of the page-table benchmark is dearer afterburnt than translated,
    /// because runtime BT adapts the traced stores and the afterburner does not (the runs are too
    /// short to pay runtime BT's translation back: the totals say the opposite).
    @Test func afterburningAgainstRuntimeTranslation() throws {
        guard let syscallBT = try Self.total("bench=syscall n=20", .bt, afterburn: false),
              let syscallAB = try Self.total("bench=syscall n=20", .bt, afterburn: true),
              let syscallTrap = try Self.total("bench=syscall n=20", .trap, afterburn: false),
              let pteBT = try Self.total("bench=pte n=8", .bt, afterburn: false),
              let pteAB = try Self.total("bench=pte n=8", .bt, afterburn: true),
              let pteBT2 = try Self.total("bench=pte n=16", .bt, afterburn: false),
              let pteAB2 = try Self.total("bench=pte n=16", .bt, afterburn: true) else { return }
        #expect(syscallAB.total < syscallBT.total && syscallAB.total < syscallTrap.total)
        #expect(syscallAB.count(.translation) == 0 && syscallBT.count(.translation) > 0)
        #expect(syscallAB.count(.trap) < syscallTrap.count(.trap))
        #expect(pteBT2.total - pteBT.total < pteAB2.total - pteAB.total, "8 more iterations")
        #expect(pteAB.count(.tracedWrite) > pteBT.count(.tracedWrite) && pteAB.count(.tracedWriteInline) == 0)
    }
}
