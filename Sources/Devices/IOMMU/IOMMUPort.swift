// A device's way to memory through the IOMMU: the `DMAMemory` a device model is given in place of
// the machine's own when its DMA must be translated and checked. A transfer is translated page by
// page (the pages of a guest-physical range need not be contiguous in the machine), all of them
// before any byte moves, so a transfer the IOMMU refuses in part moves nothing, as the
// `DMAMemory` contract asks.

import Machine

public final class IOMMUPort: DMAMemory {
    public let iommu: IOMMU
    public let device: Int

    init(iommu: IOMMU, device: Int) {
        self.iommu = iommu
        self.device = device
    }

    public func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        transfer(address, count: buffer.count, isWrite: false) { machineAddress, range in
            _ = iommu.machine.dmaRead(machineAddress, into: UnsafeMutableRawBufferPointer(rebasing: buffer[range]))
        }
    }

    public func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        transfer(address, count: buffer.count, isWrite: true) { machineAddress, range in
            _ = iommu.machine.dmaWrite(machineAddress, from: UnsafeRawBufferPointer(rebasing: buffer[range]))
        }
    }

    /// Translates the whole transfer, checks every piece, then has `move` copy each piece (its
    /// machine address and its bytes' range in the buffer); false, moving nothing, when any page
    /// is refused.
    private func transfer(_ address: UInt64, count: Int, isWrite: Bool, move: (UInt64, Range<Int>) -> Void) -> Bool {
        guard let pieces = translate(address, count: count, isWrite: isWrite), reachable(pieces, isWrite: isWrite) else { return false }
        var offset = 0
        for (machineAddress, length) in pieces {
            move(machineAddress, offset..<offset + length)
            offset += length
        }
        return true
    }

    /// The machine ranges of `count` bytes at device address `address`, page by page, or nil.
    private func translate(_ address: UInt64, count: Int, isWrite: Bool) -> [(UInt64, Int)]? {
        var pieces: [(UInt64, Int)] = []
        var done = 0
        repeat {
            let at = address &+ UInt64(done)
            let inPage = min(count - done, Int(4096 - (at & 4095)))
            guard let machineAddress = iommu.translate(device: device, address: at, isWrite: isWrite) else { return nil }
            pieces.append((machineAddress, inPage))
            done += inPage
        } while done < count
        return pieces
    }

    /// Whether every piece is memory devices may reach; a translation that led elsewhere is an
    /// access fault, as a walk's own.
    private func reachable(_ pieces: [(UInt64, Int)], isWrite: Bool) -> Bool {
        for (machineAddress, count) in pieces where !iommu.machine.isReachableByDMA(machineAddress, count: count) {
            iommu.recordAccessFault(device: device, address: machineAddress, isWrite: isWrite)
            return false
        }
        return true
    }
}
