// The techniques that run the guest kernel deprivileged on shadow page tables, under a trap
// monitor (`trap`, and `bt`, which adds a translator to the same machinery). Tools ask them the
// same questions: the walk through the guest's tables or the shadow, the coherence of the shadows,
// and the vCPU state the hardware does not hold.

import Machine

/// A technique whose guest kernel runs under a `TrapMonitor`, on shadow page tables.
public protocol ShadowingTechnique: Technique {
    /// The monitor, once the guest has started.
    var monitor: TrapMonitor? { get }
}

extension ShadowingTechnique {
    /// The walk of `va` through the guest's own tables or through the shadow the hart walks, in
    /// the vCPU's current view (or `view`), as data: what `vm:page_tables{which=, va=}` returns.
    public func pageTables(_ source: PageTableSource, va: UInt64, view: ShadowView? = nil) -> PageTableWalk? {
        monitor?.shadow.walk(source, va: va, view: view)
    }

    /// Every shadow entry that disagrees with the guest's tables now (empty when coherent).
    public func checkCoherence() -> [ShadowIncoherence] {
        monitor?.shadow.checkCoherence() ?? []
    }
}

extension Guest {
    /// The trap monitor of a guest under `trap` or `bt`: the keeper of its vCPU's privilege and
    /// supervisor CSRs. Nil in the other modes, where the hart holds the guest's whole state.
    public var monitor: TrapMonitor? { (technique as? ShadowingTechnique)?.monitor }
    /// The VMM of a `hw` VM (nil in other modes).
    public var hardwareVMM: HardwareAssistedVMM? { (technique as? HardwareAssistedTechnique)?.vmm }
}
