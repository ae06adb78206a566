// Device register accesses made by a VMM on a hart's behalf. A binary translator that has learnt
// that a guest kernel instruction touches a device replaces it by a callout that performs the
// access on the device model itself (VMware's emulated `in`/`out` and MMIO in translated code
// [AA06]): the device sees exactly the access the instruction would have made, but the hardware
// price of a device register access (`CostTable.mmioAccess`) is not charged and the access is not
// counted among the hart's `mmioAccesses` — the VMM charges its own emulation instead. Observers
// and watchpoints see the access as they would see the hart's own.

extension Machine {
    /// Whether the `size` bytes at physical `address` are the registers of one device (what an
    /// access must hit to reach a device: privileged spec, "Physical Memory Attributes").
    public func isDevice(physical address: UInt64, size: Int) -> Bool {
        size > 0 && bus.region(address, size: UInt64(size)) != nil
    }

    /// Reads `size` bytes (1, 2, 4, 8; naturally aligned) of a device register at physical
    /// `address` for `hart`, zero-extended; nil when no device holds it or the device rejects the
    /// access (the instruction would raise a load access fault).
    public func deviceRead(physical address: UInt64, size: Int, hart h: Int) -> UInt64? {
        let width = UInt64(size)
        guard [1, 2, 4, 8].contains(size), address & (width - 1) == 0,
              let r = bus.region(address, size: width), harts.indices.contains(h) else { return nil }
        let t = harts[h]
        // A device access may change an interrupt line: the hart looks at its interrupts next
        // (a stop already requested stays requested).
        if t.state.pointee.exitSlice == .none { t.state.pointee.exitSlice = .checkInterrupts }
        let v = r.device.mmioRead(offset: address - r.base, size: size)
        if let timed = r.timed { refreshDeadline(of: timed) }
        if let v {
            if observes(.mmio) {
                deliver(.mmio(hart: h, address: address, size: size, value: v, isWrite: false, pc: t.state.pointee.pc), hart: h)
            }
            if hasWatchpoints { checkWatchpoints(address, count: width, isWrite: false, hart: t) }
        }
        return v
    }

    /// Writes the low `size` bytes (1, 2, 4, 8; naturally aligned) of `value` to a device register
    /// at physical `address` for `hart`; false when no device holds it or the device rejects the
    /// access (the instruction would raise a store access fault).
    public func deviceWrite(physical address: UInt64, size: Int, value: UInt64, hart h: Int) -> Bool {
        let width = UInt64(size)
        guard [1, 2, 4, 8].contains(size), address & (width - 1) == 0,
              let r = bus.region(address, size: width), harts.indices.contains(h) else { return false }
        let t = harts[h]
        if t.state.pointee.exitSlice == .none { t.state.pointee.exitSlice = .checkInterrupts }
        let ok = r.device.mmioWrite(offset: address - r.base, size: size, value: value)
        if let timed = r.timed { refreshDeadline(of: timed) }
        if ok {
            if observes(.mmio) {
                let v = size == 8 ? value : value & ((1 << (8 * width)) - 1)
                deliver(.mmio(hart: h, address: address, size: size, value: v, isWrite: true, pc: t.state.pointee.pc), hart: h)
            }
            if hasWatchpoints { checkWatchpoints(address, count: width, isWrite: true, hart: t) }
        }
        return ok
    }
}
