// The `hw` VMM's choices a lab can change (`vmlab.vm{ mode = "hw", hw = { ... } }`).

import Machine

/// How the `hw` VMM translates its guest's addresses.
public struct HardwareAssistedPolicy: Sendable, Equatable, Codable {
    /// Nested paging (the default: the G stage, the guest's tables its own) or shadow paging
    /// (the G stage off, the VMM's shadow tables in `vsatp`, as VT-x before EPT).
    public var paging: HardwarePaging = .nested

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
    @SortedSetCoding public var intercepts: Set<HardwareIntercept> = []

    /// How the guest reaches its virtio devices: emulated by the VMM (the default: every register
    /// access exits) or assigned to it (the G stage maps their registers, an IOMMU translates their
    /// DMA through the guest's G-stage table). Assignment needs nested paging.
    public var io: HardwareIO = .emulated

    /// The IOMMU's IOTLB entries, with assigned devices.
    public var iotlbEntries = 32

    /// With assigned devices: whether an IOMMU stands between them and memory (the default). Without
    /// one, their DMA reaches every byte of the machine's RAM, the VMM's hidden memory included, at
    /// the addresses the guest's driver wrote: unsafe, and there to show why an IOMMU is needed.
    public var iommu = true

    public init(paging: HardwarePaging = .nested, gStagePageSize: UInt64 = 4096, intercepts: Set<HardwareIntercept> = [],
                io: HardwareIO = .emulated, iotlbEntries: Int = 32, iommu: Bool = true) {
        self.paging = paging
        self.gStagePageSize = gStagePageSize
        self.intercepts = intercepts
        self.io = io
        self.iotlbEntries = iotlbEntries
        self.iommu = iommu
    }

    /// How the guest's devices are reached, in words (for messages).
    public var devicesDescription: String {
        switch io {
        case .emulated: "emulated devices"
        case .assigned: iommu ? "assigned devices" : "assigned devices without an IOMMU"
        }
    }

    /// The intercepts in force: shadow paging needs every satp access and fence of the guest.
    public var effectiveIntercepts: Set<HardwareIntercept> {
        paging == .shadow ? intercepts.union([.satp]) : intercepts
    }
}

/// How a `hw` VM's guest-virtual addresses reach the machine ([B08]; [AA06] for shadow paging
/// under VT-x).
public enum HardwarePaging: String, CaseIterable, Sendable, Codable {
    /// The G stage (two-stage translation): the guest's page tables are its own, and a TLB miss
    /// walks both stages (15 references for Sv39 on Sv39x4).
    case nested
    /// Shadow-on-hw: the G stage is Bare and `vsatp` holds the VMM's shadow tables, which map the
    /// guest's virtual addresses straight to machine ones (a TLB miss reads 3 entries). The
    /// guest's satp accesses and fences exit (hstatus.VTVM), and so do its page faults (hidden
    /// fills, true faults reflected) and its stores to its own page tables (traced writes).
    case shadow
}

/// How a `hw` VM's virtio devices are virtualised (the I/O half of [B08]'s and the IOMMU
/// literature's comparison: an emulated device against direct assignment).
public enum HardwareIO: String, CaseIterable, Sendable, Codable {
    /// The VMM emulates the device: each register access is a guest-page fault, an exit, decoded
    /// and performed by the VMM; the device's DMA is confined to the guest's RAM by the VMM.
    case emulated
    /// Direct assignment (pass-through, VFIO/VT-d style): the G stage maps the virtio registers
    /// into the guest, which drives the device without exits; the device's DMA goes through an
    /// IOMMU whose device contexts use the guest's G-stage table, so the guest's driver programs
    /// guest-physical addresses and the device can reach nothing else. The device's interrupts
    /// still exit (the PLIC is the VMM's to emulate; AIA's guest interrupt files are not modelled).
    case assigned
}

/// An instruction class a `hw` VMM can make exit (privileged spec, "Hypervisor Status Register").
public enum HardwareIntercept: String, CaseIterable, Sendable, Hashable, Codable, Comparable {
    /// By name, so that a set of them codes in one order.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

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
