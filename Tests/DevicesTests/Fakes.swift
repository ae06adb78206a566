// Fakes of the machine-side contracts, so devices are tested without a hart: interrupt pins that
// record levels, a settable clock, RAM that DMA can reach, and a PLIC stand-in that records lines.
import Machine
@testable import Devices

final class FakePins: InterruptPins {
    private(set) var levels: [String: Bool] = [:]
    private(set) var changes = 0
    func setPin(_ pin: InterruptPin, hart: Int, level: Bool) {
        let key = "\(pin)@\(hart)"
        if levels[key] != level { changes += 1 }
        levels[key] = level
    }
    func level(_ pin: InterruptPin, hart: Int = 0) -> Bool { levels["\(pin)@\(hart)"] ?? false }
}

final class FakeTime: TimeSource {
    var mtime: UInt64 = 0
}

final class FakeRAM: DMAMemory {
    let base: UInt64
    var bytes: [UInt8]
    init(base: UInt64 = 0x8000_0000, size: Int = 1 << 20) {
        self.base = base
        bytes = [UInt8](repeating: 0, count: size)
    }
    private func index(_ address: UInt64, _ count: Int) -> Int? {
        guard address >= base else { return nil }
        let off = address - base
        guard off <= UInt64(bytes.count), UInt64(count) <= UInt64(bytes.count) - off else { return nil }
        return Int(off)
    }
    func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let i = index(address, buffer.count) else { return false }
        bytes.withUnsafeBytes { src in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[i..<(i + buffer.count)])) }
        return true
    }
    func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        guard let i = index(address, buffer.count) else { return false }
        bytes.withUnsafeMutableBytes { dst in
            UnsafeMutableRawBufferPointer(rebasing: dst[i..<(i + buffer.count)]).copyMemory(from: buffer)
        }
        return true
    }
    func load(_ address: UInt64, _ count: Int) -> [UInt8] {
        let i = Int(address - base)
        return Array(bytes[i..<(i + count)])
    }
    func store(_ address: UInt64, _ data: [UInt8]) {
        let i = Int(address - base)
        bytes.replaceSubrange(i..<(i + data.count), with: data)
    }
    func store(_ address: UInt64, le value: UInt64, _ count: Int) {
        store(address, (0..<count).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) })
    }
    func loadLE(_ address: UInt64, _ count: Int) -> UInt64 {
        load(address, count).enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
    }
}

final class FakeController: InterruptController {
    private(set) var levels: [Int: Bool] = [:]
    func setIRQ(source: Int, level: Bool) { levels[source] = level }
}
