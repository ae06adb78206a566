import Devices
import Machine
import Testing

/// The IOMMU's second-stage translation (RISC-V IOMMU specification, "Address translation", with
/// the privileged specification's Sv39x4 rules), its IOTLB and its faults, on G-stage tables
/// written entry by entry into a bare machine's RAM.
@Suite struct IOMMUTests {
    static let ram: UInt64 = 0x8000_0000
    let machine: Machine = {
        var c = MachineConfiguration()
        c.ramSize = 4 << 20
        return Machine(c)
    }()
    /// Root (16 KiB) at RAM + 1 MiB, a level-1 table after it, a level-0 table after that.
    let root = ram + (1 << 20), level1 = ram + (1 << 20) + 0x4000, level0 = ram + (1 << 20) + 0x5000
    static let v: UInt64 = 1, r: UInt64 = 2, w: UInt64 = 4, x: UInt64 = 8, u: UInt64 = 0x10, a: UInt64 = 0x40, d: UInt64 = 0x80
    static let leaf = v | r | w | u | a | d

    func pte(_ address: UInt64, _ flags: UInt64) -> UInt64 { (address >> 12) << 10 | flags }
    func store(_ value: UInt64, at address: UInt64) { #expect(machine.loadPhysical(littleEndian: value, count: 8, at: address)) }

    /// Guest-physical 0x8000_0000 + n pages → machine RAM + 2 MiB + n pages, for the 4 KiB pages
    /// whose flags are given (index n), through root[2] → level1[0] → level0[n].
    func map4K(_ flags: [UInt64]) {
        store(pte(level1, Self.v), at: root + 2 * 8)
        store(pte(level0, Self.v), at: level1)
        for (n, f) in flags.enumerated() { store(pte(Self.ram + (2 << 20) + UInt64(n) * 4096, f), at: level0 + UInt64(n) * 8) }
    }

    func iommu(entries: Int = 4) -> IOMMU {
        let iommu = IOMMU(machine: machine, iotlbEntries: entries)
        iommu.setContext(.secondStage(root: root, gscid: 7), device: 0)
        return iommu
    }

    @Test func aFourKiBPageTranslatesAfterAThreeReferenceWalkThenHitsTheIOTLB() {
        map4K([Self.leaf, Self.leaf])
        let m = iommu()
        #expect(m.translate(device: 0, address: 0x8000_0123, isWrite: false) == Self.ram + (2 << 20) + 0x123)
        #expect(m.counters.walkReferences == 3 && m.counters.iotlbMisses == 1)
        #expect(m.translate(device: 0, address: 0x8000_0FF8, isWrite: true) == Self.ram + (2 << 20) + 0xFF8)
        #expect(m.counters.iotlbHits == 1 && m.counters.walkReferences == 3)
        #expect(m.translate(device: 0, address: 0x8000_1000, isWrite: false) == Self.ram + (2 << 20) + 0x1000)
        #expect(m.counters.iotlbMisses == 2 && m.counters.walkReferences == 6 && m.counters.translations == 3)
        #expect(m.iotlb.map(\.level) == [0, 0] && m.iotlb.allSatisfy { $0.gscid == 7 })
    }

    @Test func aMegapageIsOneEntryAndMustBeAligned() {
        store(pte(level1, Self.v), at: root + 2 * 8)
        store(pte(Self.ram + (2 << 20), Self.leaf), at: level1)                 // 2 MiB at GPA 0x8000_0000
        store(pte(Self.ram + (2 << 20) + 0x1000, Self.leaf), at: level1 + 8)    // misaligned, at 0x8020_0000
        let m = iommu()
        #expect(m.translate(device: 0, address: 0x801F_FFFF, isWrite: true) == Self.ram + (2 << 20) + 0x1F_FFFF)
        #expect(m.translate(device: 0, address: 0x8000_0000, isWrite: false) == Self.ram + (2 << 20))
        #expect(m.counters.iotlbHits == 1 && m.counters.walkReferences == 2 && m.iotlb.first?.level == 1)
        #expect(m.translate(device: 0, address: 0x8020_0000, isWrite: false) == nil)
        #expect(m.faultLog.last == IOMMUFault(cause: .readGuestPageFault, device: 0, address: 0x8020_0000, isWrite: false))
    }

    /// Every leaf the hart's G stage would refuse, the IOMMU refuses, with the guest-page fault of
    /// the access (21 read, 23 write), and caches nothing for it.
    @Test(arguments: [
        (Self.leaf & ~Self.v, false), (Self.leaf & ~Self.u, false), (Self.leaf & ~Self.a, false),
        (Self.leaf & ~Self.d, true), (Self.v | Self.r | Self.u | Self.a | Self.d, true), (Self.v | Self.w | Self.u | Self.a | Self.d, false),
        (Self.v | Self.x | Self.u | Self.a, false), (Self.leaf | 1 << 60, false),
    ])
    func aLeafTheGStageRefusesIsAGuestPageFault(_ flags: UInt64, _ isWrite: Bool) {
        map4K([flags])
        let m = iommu()
        #expect(m.translate(device: 0, address: 0x8000_0010, isWrite: isWrite) == nil)
        let fault = m.faultLog.last
        #expect(fault?.cause == (isWrite ? .writeGuestPageFault : .readGuestPageFault))
        #expect(fault?.cause.rawValue == (isWrite ? 23 : 21) && fault?.address == 0x8000_0010 && fault?.device == 0)
        #expect(m.counters.faults == 1 && m.iotlb.isEmpty)
    }

    @Test func aReadOnlyPageCachedForAReadStillRefusesAWrite() {
        map4K([Self.v | Self.r | Self.u | Self.a])
        let m = iommu()
        #expect(m.translate(device: 0, address: 0x8000_0000, isWrite: false) != nil)
        #expect(m.translate(device: 0, address: 0x8000_0008, isWrite: true) == nil)
        #expect(m.counters.iotlbHits == 1 && m.faultLog.last?.cause == .writeGuestPageFault)
    }

    @Test func addressesBeyondFortyOneBitsAndTablesOutsideRAMFault() {
        map4K([Self.leaf])
        let m = iommu()
        #expect(m.translate(device: 0, address: 1 << 41 | 0x8000_0000, isWrite: false) == nil)
        #expect(m.faultLog.last?.cause == .readGuestPageFault && m.counters.walkReferences == 0)
        // A non-leaf entry pointing outside RAM: the next read is an access fault.
        store(pte(0x1000_0000, Self.v), at: root + 3 * 8)
        #expect(m.translate(device: 0, address: 0xC000_0000, isWrite: true) == nil)
        #expect(m.faultLog.last?.cause == .writeAccessFault)
        // A non-leaf entry at the last level.
        store(pte(level0, Self.v), at: level0 + 8)
        #expect(m.translate(device: 0, address: 0x8000_1000, isWrite: false) == nil)
        #expect(m.faultLog.last?.cause == .readGuestPageFault)
    }

    @Test func aDeviceWithoutAContextMayNotDMAAndABareOneIsUntranslated() {
        let m = iommu()
        #expect(m.translate(device: 3, address: Self.ram, isWrite: false) == nil)
        #expect(m.faultLog.last == IOMMUFault(cause: .deviceContextNotValid, device: 3, address: Self.ram, isWrite: false))
        m.setContext(.bare, device: 3)
        #expect(m.translate(device: 3, address: Self.ram + 5, isWrite: true) == Self.ram + 5)
    }

    @Test func theIOTLBReplacesInOrderOfArrivalAndInvalidatesByGSCID() {
        map4K([Self.leaf, Self.leaf, Self.leaf])
        let m = iommu(entries: 2)
        for page: UInt64 in [0, 1, 2, 0] { _ = m.translate(device: 0, address: 0x8000_0000 + page * 4096, isWrite: false) }
        #expect(m.counters.iotlbMisses == 4, "page 0 was the first in, so the first out")
        #expect(m.iotlbByArrival.map(\.tag) == [0x80002, 0x80000], "page 2, then page 0 again")
        m.setContext(.secondStage(root: root, gscid: 9), device: 1)
        _ = m.translate(device: 1, address: 0x8000_2000, isWrite: false)
        #expect(m.counters.iotlbMisses == 5, "another GSCID's entry does not serve it")
        m.invalidate(gscid: 9)
        #expect(m.iotlbByArrival.map(\.tag) == [0x80000], "page 0 stays, the oldest now")
        m.invalidate()
        #expect(m.iotlb.isEmpty && m.counters.invalidations == 2)
    }

    /// Through its port, a transfer crossing pages lands on each page's own machine frame; one
    /// that the IOMMU refuses in part moves nothing.
    @Test func aPortTranslatesPageByPageAndAllOrNothing() throws {
        map4K([Self.leaf, Self.leaf & ~Self.w])
        // Guest pages 0 and 1 on machine frames in the opposite order.
        store(pte(Self.ram + (2 << 20) + 0x5000, Self.leaf), at: level0)
        store(pte(Self.ram + (2 << 20) + 0x3000, Self.v | Self.r | Self.u | Self.a), at: level0 + 8)
        let m = iommu()
        let port = m.port(device: 0)
        let bytes: [UInt8] = Array(1...16)
        // Eight bytes at the end of page 0, eight at the start of page 1 (read-only).
        #expect(!bytes.withUnsafeBytes { port.dmaWrite(0x8000_0FF8, from: $0) })
        #expect(machine.readPhysical(at: Self.ram + (2 << 20) + 0x5FF8, count: 8) == [UInt8](repeating: 0, count: 8),
                "nothing written before the refused page")
        store(pte(Self.ram + (2 << 20) + 0x3000, Self.leaf), at: level0 + 8)
        m.invalidate()
        #expect(bytes.withUnsafeBytes { port.dmaWrite(0x8000_0FF8, from: $0) })
        #expect(machine.readPhysical(at: Self.ram + (2 << 20) + 0x5FF8, count: 8) == Array(1...8))
        #expect(machine.readPhysical(at: Self.ram + (2 << 20) + 0x3000, count: 8) == Array(9...16))
        var back = [UInt8](repeating: 0, count: 16)
        #expect(back.withUnsafeMutableBytes { port.dmaRead(0x8000_0FF8, into: $0) })
        #expect(back == bytes)
        #expect(machine.observationCounters.dmaWrites == 2, "one DMA per page piece")
    }

    /// A G-stage leaf onto a device's registers translates, but a device cannot DMA there.
    @Test func aTranslationOutsideRAMIsAnAccessFault() {
        map4K([Self.leaf])
        store(pte(0x1000_1000, Self.leaf), at: level0)
        let m = iommu()
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(!buffer.withUnsafeMutableBytes { m.port(device: 0).dmaRead(0x8000_0000, into: $0) })
        #expect(m.faultLog.last == IOMMUFault(cause: .readAccessFault, device: 0, address: 0x1000_1000, isWrite: false))
    }

    @Test func aSavedStateRestoresTheIOTLBAndCounters() {
        map4K([Self.leaf, Self.leaf])
        let m = iommu()
        _ = m.translate(device: 0, address: 0x8000_0000, isWrite: false)
        let saved = m.saveState()
        _ = m.translate(device: 0, address: 0x8000_1000, isWrite: false)
        _ = m.translate(device: 5, address: 0, isWrite: false)
        m.restoreState(saved)
        #expect(m.counters.translations == 1 && m.counters.faults == 0 && m.faultLog.isEmpty && m.iotlb.count == 1)
        _ = m.translate(device: 0, address: 0x8000_1000, isWrite: false)
        #expect(IOMMU(machine: machine, iotlbEntries: 2).fits(m.saveState()))
        #expect(!IOMMU(machine: machine, iotlbEntries: 1).fits(m.saveState()), "two entries in an IOTLB of one")
    }
}
