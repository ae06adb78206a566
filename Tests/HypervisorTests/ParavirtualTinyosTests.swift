// tinyos's para-virtual flavour (tinyos-pv.elf, kernel/arch_pv.c) under the para-virtual VMM:
// its benchmarks print what the native kernel prints (expected/NAME.out, pinned under QEMU), and
// the VMM's counters show the kernel cooperating (validated updates, no emulated privileged
// instruction: nothing was forgotten).
import Boot
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

@Suite(.serialized) struct ParavirtualTinyosTests {
    /// The bootargs of pinned case `name` and whether it needs the disk.
    static func bootargs(_ name: String) -> (String, Bool)? {
        TinyosGuest.cases.first(where: { $0.name == name }).map { ($0.bootargs, $0.disk) }
    }

    /// `TinyosGuest.comparable` without surrounding blank lines.
    static func comparable(_ console: String) -> String {
        TinyosGuest.comparable(console).trimmingCharacters(in: .newlines)
    }

    /// The board of case `name` running `kernel`, with the PV VMM installed on it when `pv`.
    static func board(_ name: String, kernel: String, pv: Bool) throws -> (VirtBoard, ParavirtualDomain?)? {
        guard let (args, needsDisk) = bootargs(name),
              let configuration = try TinyosBoards.configuration(args, disk: needsDisk, tag: "pv", kernel: kernel) else { return nil }
        let board = try VirtBoard(configuration)
        guard pv else { return (board, nil) }
        let domain = ParavirtualDomain(id: 1, machine: board.machine, firmware: board.firmware?.sbi, console: board.console)
        if let disk = board.disks.first { domain.blockBackend = BlockBackend(image: disk.image) }
        board.machine.trapHandler = ParavirtualTrapHandler(domain: domain, firmware: board.firmware)
        ParavirtualTechnique.deprivilege(board.machine, hart: 0, policy: domain.policy)
        return (board, domain)
    }

    @Test(arguments: ["syscall", "pagefault", "fork", "ctxsw", "pte", "csr", "compute", "disk", "disk-absent"])
    func benchmarkOutputMatchesNative(name: String) throws {
        guard let (board, domain) = try Self.board(name, kernel: "tinyos-pv.elf", pv: true), let domain else {
            Issue.record("no tinyos-pv board for \(name)")
            return
        }
        let stop = board.run(maxInstructions: 2_000_000_000)
        let expected = TinyosGuest.expected(name)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
        #expect(Self.comparable(board.console.text) == expected.trimmingCharacters(in: .newlines), "console:\n\(board.console.text)")
        #expect(board.console.text.contains("# tinyos: arch pv"), "the banner names the arch layer")
        // The PV kernel forgot nothing, and every update it made was valid.
        #expect(domain.emulated.isEmpty, "\(domain.emulated)")
        // Without a disk, the front-end's probe (block_connect) is the one refusal.
        #expect(domain.errors == (name == "disk-absent" ? ["block_connect.not_supported": 1] : [:]), "\(domain.errors)")
        #expect(domain.updatesApplied > 0)
        #expect((domain.calls["set_satp"] ?? 0) > 0)
        if name == "disk" {
            // The disk is served by the split driver's back-end, not the emulated device.
            let backend = try #require(domain.blockBackend)
            #expect(backend.requestsServed > 0 && backend.requestsFailed == 0)
            #expect(backend.batches == backend.requestsServed)   // one request per notification
            #expect(domain.grantRefusals == 0)
        }
        if name == "fork" {
            // vm_fork batches its leaf writes: fewer hypercalls than updates.
            #expect((domain.calls["mmu_update"] ?? 0) < domain.updatesApplied)
        }
        if ProcessInfo.processInfo.environment["VMLAB_PV_VERBOSE"] != nil {
            print("\(name): \(domain.calls) updates \(domain.updatesApplied) pins \(domain.implicitPins) tables \(domain.frames.pageTableFrames) cycles \(board.machine.cycles)")
        }
    }

    /// A guest of case `name` in `mode` running `kernel`.
    static func guest(_ name: String, kernel: String, mode: ExecutionMode) throws -> Guest? {
        guard let (args, needsDisk) = bootargs(name),
              let board = try TinyosBoards.configuration(args, disk: needsDisk, tag: "pv", kernel: kernel) else { return nil }
        return try Guest(GuestConfiguration(mode: mode, board: board))
    }

    /// `pv` is an available mode: a `Guest` in it runs tinyos-pv (on a carve-out of its host's
    /// RAM) and prints the same result lines as tinyos under `native`; the PV account charges
    /// hypercalls and validated updates, which native has none of.
    @Test(arguments: ["syscall", "pagefault", "fork", "disk"])
    func pvGuestMatchesNativeGuest(name: String) throws {
        #expect(ExecutionMode.pv.isAvailable)
        guard let native = try Self.guest(name, kernel: "tinyos.elf", mode: .native),
              let pv = try Self.guest(name, kernel: "tinyos-pv.elf", mode: .pv) else {
            Issue.record("no tinyos guests for \(name)")
            return
        }
        defer { native.close(); pv.close() }
        #expect(pv.carveout != nil)
        #expect(native.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
        #expect(pv.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
        let expected = Self.comparable(native.consoleText)
        let pinned = TinyosGuest.expected(name)
        #expect(expected == pinned.trimmingCharacters(in: .newlines), "the native kernel's own output")
        #expect(Self.comparable(pv.consoleText) == expected, "pv console:\n\(pv.consoleText)")
        let account = pv.technique.account(pv)
        #expect(account.count(.hypercall) > 0)
        #expect(account.count(.pvUpdate) > 0)
        #expect(account.count(.privilegedEmulated) == 0)
        #expect(native.technique.account(native).count(.hypercall) == 0)
        let counters = pv.technique.counters(pv)
        #expect((counters["pv"]?["updates_applied"] ?? 0) == account.count(.pvUpdate))
        #expect((counters["hypercalls"]?["mmu_update"] ?? 0) > 0)
        #expect((counters["pv"]?["refusals"] ?? 1) == 0)
        if name == "disk" { #expect((counters["block_backend"]?["requests"] ?? 0) > 0) }
    }

    /// A hostile PV kernel: an endless stream of hypercalls with pseudo-random numbers and
    /// arguments (half of them addresses in its RAM). `block` becomes `yield`: with no interrupt
    /// enabled, a blocked vCPU (rightly) sleeps for good, which would end the stream.
    static let hostile = """
        .equ PV, 0x0A564D4C
    _start:
        li s0, 0x9E3779B97F4A7C15
    1:  slli t0, s0, 13
        xor s0, s0, t0
        srli t0, s0, 7
        xor s0, s0, t0
        slli t0, s0, 17
        xor s0, s0, t0
        andi a6, s0, 31
        li t2, 16
        bne a6, t2, 3f
        li a6, 15
    3:
        mv a0, s0
        srli a1, s0, 40
        andi t1, s0, 0x100
        beqz t1, 2f
        li t2, 0x3FFFF8
        and a0, s0, t2
        li t2, 0x80000000
        add a0, a0, t2
        andi a1, a1, 15
    2:  li a7, PV
        ecall
        j 1b
    """

    /// Two PV VMs on one host: a hostile kernel fuzzing the hypercall interface from inside its
    /// VM changes nothing for tinyos-pv next to it, whose output stays the native kernel's; the
    /// hostile VM's refusals are counted in its own domain.
    @Test func aHostilePVNeighbourChangesNothing() throws {
        guard let (args, needsDisk) = Self.bootargs("syscall"),
              var board = try TinyosBoards.configuration(args, disk: needsDisk, tag: "pv", kernel: "tinyos-pv.elf"),
              let nativePath = Guests.path("tinyos", "tinyos.elf") else {
            Issue.record("no tinyos")
            return
        }
        let host = Host(HostConfiguration(memory: 256 << 20, slice: 10_000))
        defer { host.close() }
        let good = try host.createGuest(GuestConfiguration(mode: .pv, board: board))
        let bad = try host.createGuest(try TestKernels.configuration(Self.hostile, mode: .pv))
        _ = host.run(maxInstructions: 4_000_000)
        #expect(good.finalStop == .poweredOff(code: 0), "console:\n\(good.consoleText)")
        board.kernel = .file(nativePath)
        let native = try Guest(GuestConfiguration(mode: .native, board: board))
        defer { native.close() }
        native.run(maxInstructions: 2_000_000_000)
        #expect(Self.comparable(good.consoleText) == Self.comparable(native.consoleText))
        let hostile = (bad.technique as! ParavirtualTechnique).domain!
        #expect(hostile.refusals > 100, "\(hostile.errors)")
        let calm = (good.technique as! ParavirtualTechnique).domain!
        #expect(calm.refusals == 0)
    }

    /// The unmodified kernel under `pv`: its satp accesses trap (TVM) and are emulated — the
    /// ASID probe in Bare mode works — until it switches to a root the VMM never validated (it
    /// wrote its tables directly): refused and reflected as the illegal instruction it is. The
    /// kernel never runs a benchmark, and the VMM's counters show the forgotten paths.
    @Test func anUnmodifiedKernelShowsWhatItForgot() throws {
        guard let guest = try Self.guest("syscall", kernel: "tinyos.elf", mode: .pv) else {
            Issue.record("no tinyos guest")
            return
        }
        defer { guest.close() }
        guest.run(maxInstructions: 3_000_000)
        #expect(!guest.consoleText.contains("bench=syscall end"), "console:\n\(guest.consoleText)")
        let domain = (guest.technique as! ParavirtualTechnique).domain!
        #expect((domain.emulated["satp_write"] ?? 0) >= 3, "\(domain.emulated)")
        #expect((domain.emulated["satp_read"] ?? 0) >= 2, "\(domain.emulated)")
        #expect(domain.emulated["satp_refused"] == 1, "\(domain.emulated)")
        #expect(domain.reflected >= 1)
        #expect(domain.updatesApplied == 0)
        #expect(guest.technique.counters(guest)["emulated"]?["satp_write"] != nil)
    }

    /// Modelled cost of the benchmarks, native vs pv: the system call path is the same delegated
    /// code (the same traps); with VMLAB_PV_VERBOSE the guests' own measurements are printed.
    @Test(arguments: ["syscall", "pagefault", "fork", "ctxsw", "pte"])
    func benchmarkCostsAgainstNative(name: String) throws {
        guard let native = try Self.guest(name, kernel: "tinyos.elf", mode: .native),
              let pv = try Self.guest(name, kernel: "tinyos-pv.elf", mode: .pv) else {
            Issue.record("no tinyos guests")
            return
        }
        defer { native.close(); pv.close() }
        native.run(maxInstructions: 2_000_000_000)
        pv.run(maxInstructions: 2_000_000_000)
        let n = native.technique.account(native), p = pv.technique.account(pv)
        if name == "syscall" { #expect(p.count(.trap) == n.count(.trap)) }
        #expect(p.count(.hypercall) > 0 && n.count(.hypercall) == 0)
        if ProcessInfo.processInfo.environment["VMLAB_PV_VERBOSE"] != nil {
            let measured = { (g: Guest) in g.consoleText.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("# bench=") }.joined(separator: " ") }
            print("\(name) native: \(measured(native)) account \(n.total)")
            print("\(name) pv:     \(measured(pv)) account \(p.total) \(p.byEvent.map { "\($0.event)=\($0.count)" })")
        }
    }

    /// The same PV run twice: the same clock, account and VMM counters, to the cycle.
    @Test func pvRunsAreDeterministic() throws {
        var results: [(UInt64, CycleAccount, [String: [String: UInt64]])] = []
        for _ in 0..<2 {
            guard let pv = try Self.guest("fork", kernel: "tinyos-pv.elf", mode: .pv) else {
                Issue.record("no tinyos guest")
                return
            }
            #expect(pv.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
            results.append((pv.cycles, pv.technique.account(pv), pv.technique.counters(pv)))
            pv.close()
        }
        #expect(results[0].0 == results[1].0)
        #expect(results[0].1 == results[1].1)
        #expect(results[0].2 == results[1].2)
    }
}

