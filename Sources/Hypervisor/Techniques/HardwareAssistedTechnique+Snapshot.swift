// What a VM under `hw` keeps besides its machine, for snapshots (Guest+Snapshot.swift): the VMM's
// counters and its SBI's timers. Everything else a `hw` VM runs on is the machine's: the
// hypervisor and VS CSRs, V, the VMID-tagged TLB entries, and the G-stage tables in the machine's
// hidden RAM, which the machine's snapshot keeps.

import Boot

struct HardwareAssistedTechniqueState {
    var work: [HardwareExitCounters]
    var sbi: BuiltinSBIState
}

extension HardwareAssistedTechnique: SnapshottingTechnique {
    func saveTechniqueState() -> Any {
        HardwareAssistedTechniqueState(work: vmm!.work, sbi: sbi!.saveState())
    }

    func fits(_ state: Any) -> Bool {
        guard let s = state as? HardwareAssistedTechniqueState, let vmm else { return false }
        return s.work.count == vmm.work.count
    }

    func restoreTechniqueState(_ state: Any) {
        let s = state as! HardwareAssistedTechniqueState
        vmm!.work = s.work
        sbi!.restoreState(s.sbi)   // which tells the machine of its timer's deadline
    }
}
