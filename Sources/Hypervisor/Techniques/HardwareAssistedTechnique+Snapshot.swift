// What a VM under `hw` keeps besides its machine, for snapshots (Guest+Snapshot.swift): the VMM's
// counters and its SBI's timers, with shadow paging the shadow pager's bookkeeping and the guest's
// satp, and with assigned devices the IOMMU's IOTLB, counters and faults. Everything else a `hw`
// VM runs on is the machine's: the hypervisor and VS CSRs, V, the VMID-tagged TLB entries, and the
// G-stage tables in the machine's hidden RAM, which the machine's snapshot keeps.

import Boot
import Devices

struct HardwareAssistedTechniqueState: Codable {
    var work: [HardwareExitCounters]
    var sbi: BuiltinSBIState
    var shadow: ShadowPageTables.State?
    var guestSATPs: [UInt64]
    var iommu: IOMMU.State?
    /// The dirty log's counters and the pages DMA or a tool wrote since it was last cleared (its
    /// D bits are in the G stage, in the machine's hidden RAM); absent from older files. (Named
    /// when DMA was all it held.)
    var dirtyLog: DirtyLogCounters?
    var writtenByDMA: [UInt64]?
    /// Where the G-stage pool's next table goes: the dirty log's splits of 2 MiB leaves take
    /// tables from it (their contents are in the hidden RAM). Absent from older files, written
    /// before any leaf was split: the pool as the tables were built.
    var gStageAllocation: UInt64?
}

extension HardwareAssistedTechnique: SnapshottingTechnique {
    func saveTechniqueState() -> Any {
        HardwareAssistedTechniqueState(work: vmm!.work, sbi: sbi!.saveState(), shadow: vmm!.shadow?.saveState(),
                                       guestSATPs: vmm!.guestSATPs, iommu: iommu?.saveState(),
                                       dirtyLog: dirtyLog, writtenByDMA: writtenByVMM.sorted(),
                                       gStageAllocation: gStage?.allocation)
    }

    func fits(_ state: Any) -> Bool {
        guard let s = state as? HardwareAssistedTechniqueState, let vmm else { return false }
        guard s.work.count == vmm.work.count, (s.shadow == nil) == (vmm.shadow == nil), (s.iommu == nil) == (iommu == nil),
              s.guestSATPs.count == vmm.guestSATPs.count, sbi!.accepts(s.sbi) else { return false }
        if let saved = s.iommu, let iommu, !iommu.fits(saved) { return false }
        // The VMM's record names pages of the guest's RAM, and only with a G stage to log in.
        if let pages = s.writtenByDMA, !pages.isEmpty {
            guard gStage != nil, pages.allSatisfy({ $0 % 4096 == 0 && $0 >= guestRAM.base && $0 - guestRAM.base < guestRAM.size })
            else { return false }
        }
        if let allocation = s.gStageAllocation {
            guard let gStage, gStage.accepts(allocation: allocation) else { return false }
        }
        if let saved = s.shadow, let shadow = vmm.shadow { return shadow.fits(saved) }
        return true
    }

    func restoreTechniqueState(_ state: Any) {
        let s = state as! HardwareAssistedTechniqueState
        vmm!.work = s.work
        if let saved = s.shadow { vmm!.shadow?.restoreState(saved) }
        vmm!.guestSATPs = s.guestSATPs
        if let saved = s.iommu { iommu?.restoreState(saved) }
        dirtyLog = s.dirtyLog ?? DirtyLogCounters()
        writtenByVMM = Set(s.writtenByDMA ?? [])
        if let mapped = gStage?.mapped { gStage!.allocation = s.gStageAllocation ?? mapped }
        sbi!.restoreState(s.sbi)   // which tells the machine of its timer's deadline
    }
}
