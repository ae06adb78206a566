import Foundation
import Testing
import Machine
import RISCV
@testable import Hypervisor

// Shadow paging for a guest that translates with Sv48 or Sv57 (privileged spec, "Sv48:
// Page-Based 48-bit Virtual-Memory System" and "Sv57"): the shadow trees take the guest's mode,
// so an address beyond Sv39's reach works under trap, bt and hw with shadow paging as natively.
@Suite struct ShadowTranslationModesTests {
    static let root: UInt64 = 0x8031_0000      // the Sv48 root (level 3)
    static let lowL2: UInt64 = 0x8031_1000     // VA [0, 512 GiB): a gigapage over RAM
    static let highL2: UInt64 = 0x8031_2000    // VA [512 GiB, 1 TiB): down to one 4 KiB page
    static let highL1: UInt64 = 0x8031_3000
    static let highL0: UInt64 = 0x8031_4000
    static let root57: UInt64 = 0x8031_5000    // an Sv57 root whose entry 0 is the Sv48 root
    static let pageA: UInt64 = 0x8032_0000
    static let pageB: UInt64 = 0x8032_1000
    /// 2^39: root entry 1 of an Sv48 table, which Sv39 cannot name (not canonical there).
    static let high: UInt64 = 0x80_0000_0000
    /// Canonical under Sv48 and mapped by nothing: root entry 255.
    static let unmapped: UInt64 = 0x7FFF_FFFF_F000

    static func pointer(_ table: UInt64) -> UInt64 { Sv39.entry(table, Sv39.v) }
    static func leaf(_ page: UInt64, _ flags: UInt64) -> UInt64 { Sv39.entry(page, Sv39.v | Sv39.a | Sv39.d | flags) }

    /// Builds the tables bare, turns Sv48 on and reaches page A at `high`; remaps `high` to page B
    /// by a store to the guest's leaf table (a traced write under shadows); reads it again under
    /// Sv57 and back under Sv48, then takes a fault at `unmapped`. Powers off with 0, or with the
    /// number of the step that went wrong; s1 keeps satp as Sv48 read it, s3 as Sv57 read it.
    static var kernel: String {
        func store(_ value: UInt64, at address: UInt64) -> String { "    li t0, \(value)\n    li t1, \(address)\n    sd t0, 0(t1)\n" }
        func fail(_ step: Int) -> String { "    li t2, \(step)\n    bne t3, t4, fail\n" }
        return """
            _start:
                la t0, trap
                csrw stvec, t0
                li s5, 0
            \(store(pointer(lowL2), at: root))
            \(store(leaf(0x8000_0000, Sv39.r | Sv39.w | Sv39.x), at: lowL2 + 2 * 8))
            \(store(pointer(highL2), at: root + 8))
            \(store(pointer(highL1), at: highL2))
            \(store(pointer(highL0), at: highL1))
            \(store(leaf(pageA, Sv39.r | Sv39.w), at: highL0))
            \(store(pointer(root), at: root57))
                li t0, \((9 << 60) | (root >> 12))
                csrw satp, t0
                sfence.vma
                csrr s1, satp
                srli t3, s1, 60
                li t4, 9
            \(fail(1))
                li s2, \(high)
                li t0, 0x1234
                sd t0, 0(s2)
                li t1, \(pageA)
                ld t3, 0(t1)
                li t4, 0x1234
            \(fail(2))
            \(store(leaf(pageB, Sv39.r | Sv39.w), at: highL0))
                sfence.vma
            \(store(0x5678, at: pageB))
                ld t3, 0(s2)
                li t4, 0x5678
            \(fail(3))
                li t0, \((10 << 60) | (root57 >> 12))
                csrw satp, t0
                sfence.vma
                csrr s3, satp
                ld t3, 0(s2)
            \(fail(4))
                csrw satp, s1
                sfence.vma
                li t0, \(unmapped)
                ld t3, 0(t0)
                mv t3, s5
                li t4, 13
            \(fail(5))
            \(TestKernels.shutdown(0))
            fail:
                mv a1, t2
                li a7, SRST
                li a6, 0
                li a0, 0
                ecall
            .align 2
            trap:
                csrr s5, scause
                csrr s6, stval
                csrr t0, sepc
                addi t0, t0, 4
                csrw sepc, t0
                sret
            """
    }

    static func configuration(_ mode: ExecutionMode, shadowOnHW: Bool = false) throws -> GuestConfiguration {
        var c = try TestKernels.configuration(kernel, mode: mode)
        if shadowOnHW { c.hardwarePolicy.paging = .shadow }
        return c
    }

    @Test(arguments: ["native", "trap", "bt", "hw", "hw-shadow"])
    func anSv48AndSv57GuestRunsAsNatively(_ name: String) throws {
        let mode = try #require(ExecutionMode(rawValue: name.replacingOccurrences(of: "-shadow", with: "")))
        let g = try Guest(Self.configuration(mode, shadowOnHW: name == "hw-shadow"))
        defer { g.close() }
        let stop = g.run(maxInstructions: 100_000)
        // Code n: step n went wrong (the SRST reason is the exit code).
        #expect(stop == .poweredOff(code: 0))
        #expect(g.machine.register(9, hart: 0) >> 60 == 9, "satp read back as Sv48")
        #expect(g.machine.register(19, hart: 0) >> 60 == 10, "satp read back as Sv57")
        #expect(g.machine.register(22, hart: 0) == Self.unmapped, "stval of the fault")
        guard let shadow = g.shadowPageTables else {
            #expect(mode == .native || name == "hw")
            return
        }
        #expect(shadow.checkCoherence() == [])
        // The guest's last address space is Sv48: its shadow is a four-level tree, and the
        // high page is page B through it, as through the guest's own tables.
        let guest = shadow.walk(.guest, va: Self.high)
        let walk = shadow.walk(.shadow, va: Self.high)
        #expect(guest.mode == "sv48" && walk.mode == "sv48")
        #expect(guest.steps.count == 4 && walk.steps.count == 4)
        #expect(guest.physical == Self.pageB)
        #expect(walk.physical == shadow.map.machineAddress(Self.pageB)?.address)
        #expect(shadow.counters.tracedWrites >= 1, "the remap was a store to a shadowed table")
    }

    /// An address space's key names its mode; a file written when every shadow was Sv39 has no
    /// mode in its keys, and they decode as Sv39. A key no satp makes is refused at restore.
    @Test func addressSpaceKeysKeepTheirMode() throws {
        let key = ShadowPageTables.ContextKey(satp: (9 << 60) | (5 << 44) | (Self.root >> 12))
        #expect(key.levels == 4 && key.guestSATP == (9 << 60) | (5 << 44) | (Self.root >> 12) && key.isWellFormed)
        #expect(ShadowPageTables.ContextKey(satp: 0).levels == 3)
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(key)) as! [String: Any]
        json["levels"] = nil
        let old = try JSONDecoder().decode(ShadowPageTables.ContextKey.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.levels == 3 && old.root == Self.root)
        json["levels"] = 6
        let bogus = try JSONDecoder().decode(ShadowPageTables.ContextKey.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(!bogus.isWellFormed)
    }

    /// A snapshot file taken in the middle (Sv48 on, Sv57 on, back to Sv48) restores onto a VM
    /// built alike, which ends as the run it was taken from: the shadows' address spaces keep
    /// their modes through the file.
    @Test(arguments: ["trap", "bt", "hw-shadow"])
    func aSnapshotFileKeepsTheShadowsModes(_ name: String) throws {
        let mode = try #require(ExecutionMode(rawValue: name.replacingOccurrences(of: "-shadow", with: "")))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-sv48-\(name)-\(getpid()).snap").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = try Guest(Self.configuration(mode, shadowOnHW: name == "hw-shadow"))
        defer { whole.close() }
        #expect(whole.run(maxInstructions: 100_000) == .poweredOff(code: 0))
        let end = (whole.instructions, (9...22).map { whole.machine.register($0, hart: 0) })
        // Every seventh instruction: while the tables are built, and under each mode.
        for at in stride(from: 1, to: whole.instructions, by: 7) {
            let first = try Guest(Self.configuration(mode, shadowOnHW: name == "hw-shadow"))
            defer { first.close() }
            #expect(first.run(maxInstructions: at) == .budgetExhausted)
            try first.snapshot().write(to: path, vm: name)
            let second = try Guest(Self.configuration(mode, shadowOnHW: name == "hw-shadow"))
            defer { second.close() }
            try second.restore(GuestSnapshot.read(from: path).snapshot)
            #expect(second.run(maxInstructions: 100_000) == .poweredOff(code: 0), "snapshot after \(at) instructions")
            #expect(second.instructions == end.0 && (9...22).map { second.machine.register($0, hart: 0) } == end.1)
            #expect(second.shadowPageTables?.checkCoherence() == [])
        }
    }
}
