// Guest RAM as a byte array behind the machine's DMA contract, so loaders can be tested without the
// hart. It refuses any access that is not wholly inside RAM, as the real bus does.
import Machine
@testable import Boot

final class FakeRAM: DMAMemory {
    let region: RAMRegion
    var bytes: [UInt8]
    var writes = 0

    init(base: UInt64 = 0x8000_0000, size: UInt64 = 1 << 20, fill: UInt8 = 0) {
        region = RAMRegion(base: base, size: size)
        bytes = [UInt8](repeating: fill, count: Int(size))
    }

    func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard region.contains(address, length: UInt64(buffer.count)) else { return false }
        let start = Int(address - region.base)
        for index in 0..<buffer.count { buffer[index] = bytes[start + index] }
        return true
    }

    func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        guard region.contains(address, length: UInt64(buffer.count)) else { return false }
        let start = Int(address - region.base)
        for index in 0..<buffer.count { bytes[start + index] = buffer[index] }
        writes += 1
        return true
    }

    func read(_ address: UInt64, count: Int) -> [UInt8] {
        let start = Int(address - region.base)
        return Array(bytes[start..<(start + count)])
    }

    func u64(_ address: UInt64) -> UInt64 {
        read(address, count: 8).reversed().reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
