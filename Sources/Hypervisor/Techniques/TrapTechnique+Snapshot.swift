// What a VM under `trap` keeps besides its machine, for snapshots (Guest+Snapshot.swift): the
// monitor's virtual CPU (the guest's S-mode CSRs and privilege, its wfi), its counters, the shadow
// pager's bookkeeping (ShadowPageTables+Snapshot.swift) and the virtual SBI's timer. The shadow
// tables are in the machine's hidden RAM, which the machine's snapshot keeps, so nothing is
// rebuilt: the VM runs on exactly as it did, shadow faults and traced writes included.

import Boot
import Machine

/// A technique whose VMM state a snapshot can hold.
protocol SnapshottingTechnique: Technique {
    func saveTechniqueState() -> Any
    /// Whether `state` was saved by a technique of this configuration (checked before anything
    /// is restored).
    func fits(_ state: Any) -> Bool
    /// Why `state` cannot be restored here, when more can be said than that it does not fit
    /// (nil when it fits).
    func refusal(_ state: Any) -> String?
    func restoreTechniqueState(_ state: Any)
}

extension SnapshottingTechnique {
    func refusal(_ state: Any) -> String? { fits(state) ? nil : SnapshotRefusal.generic }
}

enum SnapshotRefusal {
    static let generic = "the snapshot's VMM state does not fit this VM's (another shadow policy or IOTLB size, or a malformed file)"
}

struct TrapTechniqueState: Codable {
    var vcpu: VirtualCPU
    var counters: TrapCounters
    var trapVectorLoop: TrapVectorLoop
    var asleep: Bool
    var shadow: ShadowPageTables.State
    var sbi: BuiltinSBIState
}

extension TrapTechnique: SnapshottingTechnique {
    func saveTechniqueState() -> Any {
        let m = monitor!
        return TrapTechniqueState(vcpu: m.vcpu, counters: m.counters, trapVectorLoop: m.trapVectorLoop,
                                  asleep: m.asleep, shadow: m.shadow.saveState(), sbi: sbi!.saveState())
    }

    func fits(_ state: Any) -> Bool {
        guard let s = state as? TrapTechniqueState, let monitor else { return false }
        return s.vcpu.isWellFormed && monitor.shadow.fits(s.shadow) && sbi!.accepts(s.sbi)
    }

    func restoreTechniqueState(_ state: Any) {
        let s = state as! TrapTechniqueState
        let m = monitor!
        m.vcpu = s.vcpu
        m.counters = s.counters
        m.trapVectorLoop = s.trapVectorLoop
        m.asleep = s.asleep
        m.shadow.restoreState(s.shadow)
        sbi!.restoreState(s.sbi)   // which tells the machine of its timer's deadline
    }
}
