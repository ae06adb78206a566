// The techniques that run the guest kernel deprivileged on shadow page tables, under a trap
// monitor (`trap`, and `bt`, which adds a translator to the same machinery). Tools ask them the
// same questions: the walk through the guest's tables or the shadow, the coherence of the shadows,
// and the vCPU state the hardware does not hold.

import Machine

/// A technique whose hart may walk shadow page tables: `trap` and `bt`, and `hw` with shadow paging.
public protocol ShadowPagingTechnique: Technique {
    /// The shadow pager, once the guest has started; nil when the technique keeps none (`hw`
    /// with nested paging).
    var shadowPageTables: ShadowPageTables? { get }
}

/// A technique whose guest kernel runs under a `TrapMonitor`, on shadow page tables.
public protocol ShadowingTechnique: ShadowPagingTechnique {
    /// The monitor, once the guest has started.
    var monitor: TrapMonitor? { get }
}

extension ShadowingTechnique {
    public var shadowPageTables: ShadowPageTables? { monitor?.shadow }
}

extension HardwareAssistedTechnique: ShadowPagingTechnique {
    public var shadowPageTables: ShadowPageTables? { vmm?.shadow }
}

extension ShadowPagingTechnique {
    /// Every shadow entry that disagrees with the guest's tables now (empty when coherent).
    public func checkCoherence() -> [ShadowIncoherence] {
        shadowPageTables?.checkCoherence() ?? []
    }
}

extension Guest {
    /// The trap monitor of a guest under `trap` or `bt`: the keeper of its vCPU's privilege and
    /// supervisor CSRs. Nil in the other modes, where the hart holds the guest's whole state.
    public var monitor: TrapMonitor? { (technique as? ShadowingTechnique)?.monitor }
    /// The VMM of a `hw` VM (nil in other modes).
    public var hardwareVMM: HardwareAssistedVMM? { (technique as? HardwareAssistedTechnique)?.vmm }
    /// The shadow pager of a VM whose hart walks shadow page tables (`trap`, `bt`, `hw` with
    /// shadow paging); nil in the other modes.
    public var shadowPageTables: ShadowPageTables? { (technique as? ShadowPagingTechnique)?.shadowPageTables }

    /// The walk of `va` for `access` through the guest's own tables as vCPU `vcpu` sees them now
    /// (its privilege, SUM and MXR), when its hart walks shadows, which hold only what has been
    /// filled so far; nil when the machine's own walk is the guest's.
    func guestTableWalk(_ va: UInt64, vcpu: Int, access: GuestAccess) -> PageTableWalk? {
        if let monitor, monitor.hart == vcpu { return monitor.shadow.guestTranslation(va, access) }
        if let vmm = hardwareVMM, let shadow = vmm.shadow {
            vmm.prepareGuestWalk(shadow, privilege: machine.privilege(hart: vcpu), hart: vcpu)
            return shadow.guestTranslation(va, access)
        }
        return nil
    }
}
