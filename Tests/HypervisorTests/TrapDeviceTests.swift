import Boot
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// Trap-and-emulate of device registers: under `trap` the guest is denied the board's devices, so
/// each load or store to a device register traps into the monitor, which performs it on the
/// device model (TrapMonitor+Devices.swift).
@Suite struct TrapDeviceTests {
    static let uart = "    li s1, 0x10000000"

    static func monitor(_ g: Guest) throws -> TrapMonitor {
        try #require((g.technique as? TrapTechnique)?.monitor)
    }

    @Test func everyDeviceAccessTrapsAndIsEmulated() throws {
        let g = try BinaryTranslationTests.run(BinaryTranslationTests.loop("    lbu t1, 5(s1)", iterations: 100, setup: Self.uart),
                                               mode: .trap, profile: .classic2006)
        defer { g.close() }
        let m = try Self.monitor(g)
        #expect(m.counters.deviceEmulated == 100)
        #expect(m.counters.trapCounts.byName["load_access_fault"] == 100)
        #expect(m.counters.exceptionsReflected == 0, "the guest never sees the access fault")
        #expect(g.machine.counters().mmioAccesses == 0, "the hardware performs none of them")
        let account = g.technique.account(g)
        #expect(account.count(.deviceEmulated) == 100)
        #expect(account.chargedCycles == g.machine.cycles)
        #expect(g.technique.counters(g)["trap"]?["device_emulated"] == 100)
        #expect(g.statistics().mmio == 100, "the guest's accesses, however performed")
    }

    /// One more access costs a trap and the emulation, where natively it costs `mmio_access`
    /// ([AA06]'s `in`: 3209 natively; the device model's work 11486).
    @Test func anAccessCostsATrapAndItsEmulation() throws {
        let p = CostProfile.classic2006
        let native = try BinaryTranslationTests.perIteration("    lbu t1, 5(s1)", mode: .native, setup: Self.uart)
        let trap = try BinaryTranslationTests.perIteration("    lbu t1, 5(s1)", mode: .trap, setup: Self.uart)
        #expect(native == Double(2 + 1 + p.cycles(.mmioAccess)))
        #expect(trap == Double(2 + 1 + p.cycles(.trap) + p.cycles(.deviceEmulated)))
        #expect(native < trap)
    }

    /// The emulated access does what the hardware's would: the store reaches the register, loads
    /// sign- or zero-extend, the instruction retires (instret counts it), and the guest goes on
    /// from the next instruction, compressed or not.
    @Test func theEmulatedAccessIsTheHardwares() throws {
        let source = BinaryTranslationTests.loop("""
                li t0, 0xA5
                rdinstret t2
                sb t0, 7(s1)            # the UART's scratch register
                rdinstret t3
                sub t3, t3, t2
                add s2, s2, t3
                lb s3, 7(s1)
                lbu s4, 7(s1)
                li a4, 5
                c.sw a4, 4(a5)          # the PLIC's priority of source 1, by compressed instructions
                c.lw a3, 4(a5)
            """, iterations: 3, setup: Self.uart + "\n    li s2, 0\n    li a5, 0x0C000000")
        let native = try BinaryTranslationTests.run(source, mode: .native)
        defer { native.close() }
        let trap = try BinaryTranslationTests.run(source, mode: .trap)
        defer { trap.close() }
        #expect(native.machine.register(18) == 6, "two rdinstret apart per iteration")
        for r in [13, 18, 19, 20] {
            #expect(trap.machine.register(r) == native.machine.register(r), "x\(r)")
        }
        #expect(trap.machine.register(19) == 0xFFFF_FFFF_FFFF_FFA5)
        #expect(trap.machine.register(20) == 0xA5)
        #expect(trap.machine.register(13) == 5)
        #expect(trap.machine.counters().instructions == native.machine.counters().instructions)
        #expect(try Self.monitor(trap).counters.deviceEmulated == 3 * 5)
    }

    /// Floating-point loads and stores reach devices too, natively: emulated, a single NaN-boxed,
    /// the FPU state made Dirty as the hardware makes it (the guest's sstatus shows it).
    @Test(arguments: [ExecutionMode.trap, .bt])
    func floatingPointAccessesAreEmulatedToo(_ mode: ExecutionMode) throws {
        let source = BinaryTranslationTests.loop("""
                li t0, 3
                sw t0, 4(a5)            # the PLIC's priority of source 1
                csrw sstatus, zero      # FS Off...
                li t0, 0x2000
                csrs sstatus, t0        # ...then Clean
                flw ft0, 4(a5)
                fsw ft0, 8(a5)          # the priority of source 2
                lw s3, 8(a5)
                fmv.x.d s4, ft0
                csrr s5, sstatus
            """, iterations: 3, setup: "    li a5, 0x0C000000")
        let native = try BinaryTranslationTests.run(source, mode: .native)
        defer { native.close() }
        let vm = try BinaryTranslationTests.run(source, mode: mode)
        defer { vm.close() }
        #expect(native.machine.register(19) == 3)
        #expect(native.machine.register(20) == 0xFFFF_FFFF_0000_0003)
        #expect(native.machine.register(21) & 0x6000 == 0x6000, "FS Dirty")
        for r in 19...21 {
            #expect(vm.machine.register(r) == native.machine.register(r), "x\(r)")
        }
        #expect(vm.machine.counters().instructions == native.machine.counters().instructions)
        #expect(vm.machine.counters().mmioAccesses == 0)
    }

    /// What reaches no device (a hole below RAM) or is no load or store (an AMO, which the board's
    /// devices refuse) is the guest's own access fault, delivered to its kernel as natively.
    @Test(arguments: ["    ld t1, 0(zero)", "    li t0, 0x10000000\n    amoadd.w t1, t1, (t0)"])
    func whatReachesNoDeviceFaultsAsNatively(_ access: String) throws {
        let source = """
            _start:
                la t0, trap
                csrw stvec, t0
            \(access)
            \(TestKernels.shutdown(0))
            .align 2
            trap:
                csrr a2, scause
                csrr a3, stval
            \(TestKernels.shutdown(1))
            """
        var results: [(UInt64, UInt64)] = []
        for mode in [ExecutionMode.native, .trap] {
            let g = try Guest(TestKernels.configuration(source, mode: mode))
            defer { g.close() }
            #expect(g.run(maxInstructions: 100_000) == .poweredOff(code: 1), "\(mode)")
            results.append((g.machine.register(12), g.machine.register(13)))
            if mode == .trap { #expect(try Self.monitor(g).counters.deviceEmulated == 0) }
        }
        #expect(results[0] == results[1])
        #expect([ExceptionCause.loadAccessFault.rawValue, ExceptionCause.storeAccessFault.rawValue].contains(results[0].0))
    }

    /// `bt` afterburnt leaves the devices to the hardware; `bt` at run time counts the monitor's
    /// emulations in both groups.
    @Test func btSharesTheMonitorsEmulation() throws {
        let source = BinaryTranslationTests.loop("    lbu t1, 5(s1)", iterations: 10, setup: Self.uart)
        let bt = try BinaryTranslationTests.run(source, mode: .bt)
        defer { bt.close() }
        let groups = bt.technique.counters(bt)
        #expect(groups["trap"]?["device_emulated"] == 1 && groups["bt"]?["device_emulated"] == 1)
        #expect(bt.technique.account(bt).count(.deviceEmulated) == 1)
        var policy = BinaryTranslationPolicy()
        policy.afterburn = true
        let burnt = try BinaryTranslationTests.run(source, mode: .bt, policy: policy)
        defer { burnt.close() }
        #expect(burnt.technique.counters(burnt)["trap"]?["device_emulated"] == 0)
        #expect(burnt.machine.counters().mmioAccesses == 10)
    }

    /// `vm:stats().mmio` counts the guest's device accesses in every mode, whoever performs them:
    /// the hardware, the monitor after a trap, or translated code (inline or by callout).
    @Test func statisticsCountEveryAccessInEveryMode() throws {
        let source = BinaryTranslationTests.loop("    lbu t1, 5(s1)", iterations: 10, setup: Self.uart)
        var noInline = BinaryTranslationPolicy()
        noInline.inlineEmulation = false
        var burnt = BinaryTranslationPolicy()
        burnt.afterburn = true
        let runs: [(ExecutionMode, BinaryTranslationPolicy)] = [(.native, .init()), (.interpret, .init()), (.trap, .init()),
                                                               (.bt, .init()), (.bt, noInline), (.bt, burnt)]
        for (mode, policy) in runs {
            let g = try BinaryTranslationTests.run(source, mode: mode, policy: policy)
            defer { g.close() }
            #expect(g.statistics().mmio == 10, "\(mode) \(policy)")
        }
    }
}
