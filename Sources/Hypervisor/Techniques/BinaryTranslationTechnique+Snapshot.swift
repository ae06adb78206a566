// What a VM under `bt` keeps besides its machine, for snapshots (Guest+Snapshot.swift): all that
// `trap` keeps (TrapTechnique+Snapshot.swift: the monitor's virtual CPU, the shadow pager, the
// virtual SBI), since `bt` runs on the same monitor, and the translator's state with its
// translation cache (BinaryTranslator+Snapshot.swift).

import Machine

struct BinaryTranslationTechniqueState: Codable {
    var trap: TrapTechniqueState
    var translator: BinaryTranslatorState
}

extension BinaryTranslationTechnique: SnapshottingTechnique {
    func saveTechniqueState() -> Any {
        BinaryTranslationTechniqueState(trap: base.saveTechniqueState() as! TrapTechniqueState,
                                        translator: translator!.saveState())
    }

    func fits(_ state: Any) -> Bool { refusal(state) == nil }

    func refusal(_ state: Any) -> String? {
        guard let s = state as? BinaryTranslationTechniqueState, let translator else { return SnapshotRefusal.generic }
        if let refusal = translator.refusal(s.translator) { return refusal }
        return base.fits(s.trap) ? nil : SnapshotRefusal.generic
    }

    func restoreTechniqueState(_ state: Any) { restoreTechniqueState(state, translationCache: true) }

    /// `translationCache: false` leaves the translation cache empty (`Guest.restore`).
    func restoreTechniqueState(_ state: Any, translationCache: Bool) {
        let s = state as! BinaryTranslationTechniqueState
        base.restoreTechniqueState(s.trap)
        translator!.restoreState(s.translator, translationCache: translationCache)
    }
}
