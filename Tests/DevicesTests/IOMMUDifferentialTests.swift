import Devices
import Machine
import RISCV
import Testing

/// The IOMMU's second stage against the hart's own G stage (Machine's two-stage walk, with vsatp
/// Bare so that only the G stage translates): random Sv39x4 tables — valid and invalid entries,
/// stray and reserved bits, leaves of every level, misaligned superpages, tables outside RAM — and
/// random guest-physical addresses, read and written. With Svade (the hart faults on a clear A or
/// D, as this IOMMU does) and MXR clear (a device has no MXR), both must agree on every access:
/// the same machine address, or the same kind of fault.
@Suite struct IOMMUDifferentialTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var z = state
            z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
            return z ^ (z >> 33)
        }
        mutating func below(_ n: UInt64) -> UInt64 { next() % n }
    }

    static let ram: UInt64 = 0x8000_0000
    /// The tables: a 16 KiB root, then eight pages that entries may point to.
    static let root = ram + (1 << 20)
    static let tables = (0..<8).map { root + 0x4000 + UInt64($0) * 4096 }

    static func randomPTE(_ g: inout Generator, level: Int) -> UInt64 {
        let v: UInt64 = 1, r: UInt64 = 2, w: UInt64 = 4, x: UInt64 = 8, u: UInt64 = 0x10, a: UInt64 = 0x40, d: UInt64 = 0x80
        switch g.below(10) {
        case 0: return g.below(2) == 0 ? 0 : g.next() & ~1                       // invalid
        case 1 where level > 0, 2 where level > 0, 3 where level > 0:            // a pointer
            let table = tables[Int(g.below(UInt64(tables.count)))]
            let stray: UInt64 = g.below(6) == 0 ? [u, a, d][Int(g.below(3))] : 0
            return (table >> 12) << 10 | v | stray
        case 4 where level > 0:                                                    // a pointer outside RAM
            return (0x1000_0000 >> 12) << 10 | v
        default:                                                                   // a leaf
            var flags = v
            for bit in [r, w, x, u, a, d] where g.below(8) != 0 { flags |= bit }
            if g.below(12) == 0 { flags |= 1 << (54 + g.below(10)) }              // a reserved bit
            // A frame in RAM (aligned for the level, or on purpose not), or outside it.
            let pageBits = 12 + 9 * UInt64(level)
            var frame = ram + (g.below(4 << 20) & ~((1 << pageBits) - 1))
            if level > 0 && g.below(4) == 0 { frame |= 0x1000 }
            if g.below(10) == 0 { frame = 0x1000_1000 }
            return (frame >> 12) << 10 | flags
        }
    }

    @Test(arguments: 0..<12)
    func theIOMMUTranslatesAsTheHartsGStage(_ seed: UInt64) throws {
        var c = MachineConfiguration()
        c.ramSize = 4 << 20
        c.hypervisorExtension = true
        c.adBits = .pageFault
        let m = Machine(c)
        var g = Generator(state: seed &+ 0x1F0)
        // Root entries for the first 4 GiB (RAM is in the third), every table's 512 entries.
        for i: UInt64 in 0..<4 { m.loadPhysical(littleEndian: Self.randomPTE(&g, level: 2), count: 8, at: Self.root + i * 8) }
        // The third GiB (where a VMM maps RAM) through a table, so that every level is exercised.
        m.loadPhysical(littleEndian: (Self.tables[0] >> 12) << 10 | 1, count: 8, at: Self.root + 2 * 8)
        for (n, table) in Self.tables.enumerated() {
            for i: UInt64 in 0..<512 { m.loadPhysical(littleEndian: Self.randomPTE(&g, level: n < 3 ? 1 : 0), count: 8, at: table + i * 8) }
        }
        // PMP grants everything below M-mode, as firmware leaves it (with no entry, the hart's
        // walk could read nothing).
        m.writeCSR(CSR.pmpaddr(0), UInt64.max >> 10, hart: 0)
        m.writeCSR(CSR.pmpcfg(0), 0x1F, hart: 0)
        m.setPrivilege(.supervisor, hart: 0)
        m.setVirtualized(true, hart: 0)
        m.writeCSR(CSR.hgatp, 8 << 60 | 5 << 44 | Self.root >> 12, hart: 0)
        m.writeCSR(CSR.vsatp, 0, hart: 0)
        let iommu = IOMMU(machine: m, iotlbEntries: 8)
        iommu.setContext(.secondStage(root: Self.root, gscid: 5), device: 0)
        var agreed = (translated: 0, faulted: 0)
        for _ in 0..<400 {
            // Addresses under the tables above, half of them in the third GiB; now and then one
            // beyond 41 bits.
            var gpa = g.below(2) == 0 ? g.below(4 << 30) : 2 << 30 | g.below(1 << 30)
            if g.below(40) == 0 { gpa |= 1 << (41 + g.below(20)) }
            for write in [false, true] {
                let hart = m.translate(gpa, hart: 0, access: write ? .store : .load)
                // Each access on its own walk, as the hart's tool walk is.
                iommu.invalidate()
                let device = iommu.translate(device: 0, address: gpa, isWrite: write)
                switch hart {
                case .physical(let pa):
                    #expect(device == pa, "gpa \(String(gpa, radix: 16)) \(write ? "write" : "read")")
                    agreed.translated += 1
                case .fault(let cause):
                    let expected: IOMMUFault.Cause = switch cause {
                    case .loadGuestPageFault: .readGuestPageFault
                    case .storeGuestPageFault: .writeGuestPageFault
                    case .loadAccessFault: .readAccessFault
                    default: .writeAccessFault
                    }
                    #expect(device == nil && iommu.faultLog.last?.cause == expected,
                            "gpa \(String(gpa, radix: 16)) \(write ? "write" : "read"): the hart's \(cause), the IOMMU's \(device.map { String($0, radix: 16) } ?? "\(iommu.faultLog.last?.cause.name ?? "?")")")
                    agreed.faulted += 1
                }
            }
        }
        // Both outcomes occur, so the agreement means something.
        #expect(agreed.translated > 20 && agreed.faulted > 20, "\(agreed)")
    }
}
