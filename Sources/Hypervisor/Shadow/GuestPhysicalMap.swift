// Where a VM's guest-physical address space lives in the machine's physical address space. A
// trap-and-emulate VM's guest kernel names guest-physical addresses in its page tables; the shadow
// tables the MMU walks must hold machine addresses, and only those of the VM's own memory and
// devices: anything else the guest names never reaches a shadow entry (the guest gets an access
// fault, as it would on hardware with nothing at that address).

/// The guest-physical → machine-physical map of one VM.
public struct GuestPhysicalMap: Sendable, Equatable {
    /// One contiguous range of the guest's physical address space.
    public struct Region: Sendable, Equatable {
        public var guestBase: UInt64
        public var size: UInt64
        public var machineBase: UInt64
        /// RAM (page tables may live here) or a device (MMIO: mapped, never walked).
        public var isRAM: Bool

        public init(guestBase: UInt64, size: UInt64, machineBase: UInt64, isRAM: Bool) {
            self.guestBase = guestBase
            self.size = size
            self.machineBase = machineBase
            self.isRAM = isRAM
        }

        func contains(_ gpa: UInt64) -> Bool { gpa >= guestBase && gpa - guestBase < size }
    }

    public var regions: [Region]

    public init(_ regions: [Region]) { self.regions = regions }

    /// The map a VMM of this project gives its guest: guest-physical = machine-physical for the
    /// guest's `memory` bytes of RAM at `ramBase` and for its devices (everything below RAM); the
    /// VMM's hidden memory behind the guest's RAM is in neither.
    public static func identity(ramBase: UInt64, memory: UInt64) -> GuestPhysicalMap {
        GuestPhysicalMap([
            .init(guestBase: 0, size: ramBase, machineBase: 0, isRAM: false),
            .init(guestBase: ramBase, size: memory, machineBase: ramBase, isRAM: true),
        ])
    }

    /// The machine address of guest-physical `gpa` and whether it is RAM; nil outside the VM.
    public func machineAddress(_ gpa: UInt64) -> (address: UInt64, isRAM: Bool)? {
        for r in regions where r.contains(gpa) { return (r.machineBase &+ (gpa - r.guestBase), r.isRAM) }
        return nil
    }

    /// The guest-physical address that maps to machine address `ma`, if any region does.
    public func guestAddress(ofMachine ma: UInt64) -> UInt64? {
        for r in regions where ma >= r.machineBase && ma - r.machineBase < r.size { return r.guestBase &+ (ma - r.machineBase) }
        return nil
    }

    /// The guest page numbers from the lowest to the highest RAM page (empty without RAM): the
    /// span every table the guest walker can read lies in, which per-page records cover.
    var ramPages: Range<UInt64> {
        let ram = regions.filter { $0.isRAM && $0.size > 0 }
        let first = ram.map { $0.guestBase >> 12 }.min() ?? 0
        let end = ram.map { ($0.guestBase &+ $0.size &+ 0xFFF) >> 12 }.max() ?? 0
        return end > first ? first..<end : first..<first
    }

    /// Whether a machine-physical range overlaps any region (the VMM's own pool must not).
    public func overlapsMachine(_ base: UInt64, _ size: UInt64) -> Bool {
        regions.contains { base < $0.machineBase &+ $0.size && $0.machineBase < base &+ size }
    }
}
