// The `hw` VMM's dirty log: which guest pages were written since the last look, as a VMM needs for
// pre-copy live migration (KVM's KVM_GET_DIRTY_LOG on EPT with accessed/dirty bits). The G stage's
// leaves are built with D set (NestedPageTables.swift); harvesting reads every leaf over the
// guest's RAM, reports the pages whose D is set and, with `clear`, clears it and flushes every
// vCPU's TLB (the hfence.gvma a hypervisor issues), so that the next store to such a page walks
// the G stage again and the hart sets D (hardware A/D updates, privileged spec "Guest Physical
// Address Translation"). A clear splits the G stage's 2 MiB leaves (`gstage_page_size`) into
// 4 KiB ones, so that the log tells pages apart from then on, as KVM splits huge pages for dirty
// logging; the guest pays with longer G walks. The hart never sees a page written by the VMM
// itself — an emulated device's DMA, a tool's `vm:write_memory` — so those are noted in software
// as they happen (as KVM marks its own writes) and reported with the rest.
//
// The scan is the migration thread's work on another host CPU, not the guest's: it is counted
// (`dirty_log` in the technique's statistics), not charged to a vCPU's clock. What the guest pays
// is what it does after: the TLB misses of the flush and the walks that set D again.

import Machine

/// Why a VM keeps no dirty log.
public struct DirtyLogError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// What the dirty log has done.
public struct DirtyLogCounters: Sendable, Equatable, Codable {
    /// Harvests (`dirtyPages`), and how many of them cleared the log.
    public var harvests: UInt64 = 0
    public var clears: UInt64 = 0
    /// G-stage leaves read, and pages reported dirty, over all harvests.
    public var leavesScanned: UInt64 = 0
    public var pagesReported: UInt64 = 0
    /// Pages the VMM noted in software: written by DMA or a tool, which the hart's D bits do
    /// not see.
    public var pagesWrittenByVMM: UInt64 = 0
    /// 2 MiB G-stage leaves split into 4 KiB ones by a clear (`gstage_page_size = 2 MiB`).
    public var hugePagesSplit: UInt64 = 0

    public init() {}

    public var dictionary: [String: UInt64] {
        ["harvests": harvests, "clears": clears, "leaves_scanned": leavesScanned, "pages_reported": pagesReported,
         "pages_written_by_vmm": pagesWrittenByVMM, "huge_pages_split": hugePagesSplit]
    }

    // The name snapshot files of the first version (DMA only) gave the last count.
    enum CodingKeys: String, CodingKey {
        case harvests, clears, leavesScanned, pagesReported
        case pagesWrittenByVMM = "pagesWrittenByDMA"
        case hugePagesSplit
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        harvests = try c.decode(UInt64.self, forKey: .harvests)
        clears = try c.decode(UInt64.self, forKey: .clears)
        leavesScanned = try c.decode(UInt64.self, forKey: .leavesScanned)
        pagesReported = try c.decode(UInt64.self, forKey: .pagesReported)
        pagesWrittenByVMM = try c.decode(UInt64.self, forKey: .pagesWrittenByVMM)
        // Absent from files written before the log split 2 MiB leaves.
        hugePagesSplit = try c.decodeIfPresent(UInt64.self, forKey: .hugePagesSplit) ?? 0
    }
}

extension HardwareAssistedTechnique {
    /// The guest-physical addresses of the pages written since the log was last cleared (at
    /// first: since the VM was built, so every page), in ascending order; with `clear`, the log
    /// starts again from here. Nested paging with the hardware's A/D updates only.
    public func dirtyPages(clear: Bool) throws(DirtyLogError) -> [UInt64] {
        guard let vmm, var gStage else {
            throw DirtyLogError(description: "no G-stage dirty log under hw with paging = \"shadow\": shadow paging has no G stage (the shadow pager keeps the log: ShadowPageTables.dirtyPages)")
        }
        let machine = vmm.machine
        guard machine.configuration.adBits == .hardwareUpdate else {
            throw DirtyLogError(description: "no dirty log with ad_bits = \"fault\": the hart does not set the G stage's D bits itself (Svade)")
        }
        let (pages, scanned, split) = gStage.dirtyPages(guestPhysical: guestRAM.base, size: guestRAM.size, clear: clear)
        self.gStage = gStage
        var all = Set(pages)
        all.formUnion(writtenByVMM)
        let sorted = all.sorted()
        dirtyLog.harvests &+= 1
        dirtyLog.leavesScanned &+= scanned
        dirtyLog.pagesReported &+= UInt64(sorted.count)
        if clear {
            dirtyLog.clears &+= 1
            writtenByVMM = []
            dirtyLog.hugePagesSplit &+= split
            // Translations cached with D set would let stores go by without setting it again
            // (and a split leaf's may not outlive it, in the TLBs and the IOMMU's IOTLB).
            for hart in 0..<machine.hartCount { machine.flushTLB(hart: hart) }
            if split > 0 { iommu?.invalidate() }
        }
        return sorted
    }

    /// A device's DMA or a tool wrote `[address, address + count)` (guest-physical): the pages
    /// it touched are dirty.
    func noteVMMWrite(_ address: UInt64, _ count: Int) {
        guard count > 0 else { return }
        let (base, size) = guestRAM
        var page = address & ~0xFFF
        while page < address &+ UInt64(count) {
            if page >= base && page < base + size && writtenByVMM.insert(page).inserted { dirtyLog.pagesWrittenByVMM &+= 1 }
            page += 4096
        }
    }
}
