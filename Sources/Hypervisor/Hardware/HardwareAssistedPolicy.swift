// The `hw` VMM's choices a lab can change (`vmlab.vm{ mode = "hw", hw = { ... } }`).

/// How the `hw` VMM builds its guest's G stage.
public struct HardwareAssistedPolicy: Sendable, Equatable {
    /// The size of the G stage's leaves: 4 KiB (the default, the case [B08] counts: a miss of an
    /// Sv39 guest reads 15 entries) or 2 MiB (megapages: the G walk ends a level sooner, 11
    /// entries, and a guest superpage keeps a 2 MiB TLB entry; where the guest's RAM is not
    /// 2 MiB-aligned at its ends, 4 KiB leaves fill in).
    public var gStagePageSize: UInt64 = 4096

    /// The sizes a G stage may use.
    public static let gStagePageSizes: [UInt64] = [4096, 2 << 20]

    /// What else the guest kernel does that exits, as a VMM's execution controls choose (VT-x's
    /// "CR3-load exiting", "HLT exiting"): `hstatus` VTW, VTSR, VTVM. None by default: the guest
    /// runs them itself. The VMM emulates each one it intercepts.
    public var intercepts: Set<HardwareIntercept> = []

    public init(gStagePageSize: UInt64 = 4096, intercepts: Set<HardwareIntercept> = []) {
        self.gStagePageSize = gStagePageSize
        self.intercepts = intercepts
    }
}

/// An instruction class a `hw` VMM can make exit (privileged spec, "Hypervisor Status Register").
public enum HardwareIntercept: String, CaseIterable, Sendable, Hashable {
    /// `wfi` in VS-mode (hstatus.VTW): the VMM puts the vCPU to sleep itself.
    case wfi
    /// `sret` in VS-mode (hstatus.VTSR): the VMM performs the guest's return.
    case sret
    /// `satp` accesses and `sfence.vma` in VS-mode (hstatus.VTVM): every switch of address space
    /// and every TLB fence of the guest exits, as CR3 loads did under VT-x without EPT.
    case satp

    var hstatusBit: UInt64 {
        switch self {
        case .wfi: 1 << 21
        case .sret: 1 << 22
        case .satp: 1 << 20
        }
    }
}
