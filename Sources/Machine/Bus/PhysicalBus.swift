// The physical address space: RAM plus MMIO regions (privileged spec, "Physical Memory
// Attributes"). An access that hits neither is an access fault. MMIO regions may overlay RAM (the
// HTIF tohost/fromhost words sit inside RAM at the ELF symbol's address); the region wins, and a RAM
// page that intersects any region is marked so that it never takes a hart's fast path for data.

/// One device mapped at a base address.
struct MMIORegion {
    let base: UInt64
    let size: UInt64
    let device: any MMIODevice
    /// The same object, when it is also a timed device (its deadline is re-read after each access).
    let timed: (any TimedDevice)?
}

/// Physical addresses are 56 bits wide in Sv39/Sv48/Sv57 (privileged spec, "Sv39"): an address at or
/// above this bound is never valid.
let physicalAddressLimit: UInt64 = 1 << 56

final class PhysicalBus {
    let ram: RAM
    private(set) var regions: [MMIORegion] = []
    /// One byte per RAM page: nonzero when an MMIO region intersects the page.
    let overlay: UnsafeMutablePointer<UInt8>
    let ramPages: Int

    init(ram: RAM) {
        self.ram = ram
        ramPages = Int(ram.size / 4096)
        overlay = ZeroedMapping.allocate(UInt8.self, count: ramPages, purpose: "MMIO page flags")
    }

    deinit { ZeroedMapping.deallocate(overlay, count: ramPages) }

    /// Maps `device` at `base`. Regions must not overlap one another.
    func attach(_ device: any MMIODevice, at base: UInt64) {
        let size = device.mmioSize
        precondition(size > 0 && base &+ size > base && base &+ size <= physicalAddressLimit,
                     "MMIO region out of the physical address space")
        for r in regions {
            precondition(base >= r.base &+ r.size || base &+ size <= r.base,
                         "MMIO region at 0x\(String(base, radix: 16)) overlaps one at 0x\(String(r.base, radix: 16))")
        }
        regions.append(MMIORegion(base: base, size: size, device: device, timed: device as? any TimedDevice))
        regions.sort { $0.base < $1.base }
        markOverlay(base, size, 1)
    }

    /// Sets the overlay flag of every RAM page that `[base, base + size)` touches.
    private func markOverlay(_ base: UInt64, _ size: UInt64, _ flag: UInt8) {
        let lo = max(base, ram.base), hi = min(base &+ size, ram.base &+ ram.size)
        if lo < hi {
            var page = (lo - ram.base) >> 12
            while page <= (hi - 1 - ram.base) >> 12 { overlay[Int(page)] = flag; page += 1 }
        }
    }

    /// Unmaps every region (the machine is being taken apart). Only the regions' own pages are
    /// cleared: the rest of the overlay was never written, and stays uncommitted.
    func detachAll() {
        for r in regions { markOverlay(r.base, r.size, 0) }
        regions = []
    }

    /// The region holding `[address, address + size)`, if one holds it whole.
    @inline(__always)
    func region(_ address: UInt64, size: UInt64) -> MMIORegion? {
        for r in regions where address >= r.base && address &- r.base < r.size {
            return size <= r.size - (address - r.base) ? r : nil
        }
        return nil
    }

    /// True when some MMIO region intersects the RAM page of `address` (only meaningful in RAM).
    @inline(__always)
    func ramPageHasMMIO(_ address: UInt64) -> Bool {
        overlay[Int((address &- ram.base) >> 12)] != 0
    }

    /// True when any region starts below `address + size` and ends after `address`.
    func anyRegionIntersects(_ address: UInt64, size: UInt64) -> Bool {
        regions.contains { $0.base < address &+ size && address < $0.base &+ $0.size }
    }
}
