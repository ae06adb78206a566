// A virtio driver written in Swift for tests: it initialises a virtio-mmio device the way Linux's
// virtio_mmio + virtio_ring do (§3.1.1), builds split virtqueues in fake RAM and submits chains.
import Machine
@testable import Devices

final class VirtioTestDriver {
    struct Queue {
        var size: UInt16
        var desc: UInt64
        var avail: UInt64
        var used: UInt64
        var nextDesc: UInt16 = 0
        var availIdx: UInt16 = 0
        var lastUsed: UInt16 = 0
    }

    let dev: VirtioMMIO
    let ram: FakeRAM
    var queues: [Int: Queue] = [:]
    private var heap: UInt64

    init(_ dev: VirtioMMIO, ram: FakeRAM) {
        self.dev = dev
        self.ram = ram
        heap = ram.base + 0x1_0000
    }

    func r32(_ off: UInt64) -> UInt32 { UInt32(dev.mmioRead(offset: off, size: 4) ?? 0xDEAD_BEEF) }
    func w32(_ off: UInt64, _ v: UInt32) { _ = dev.mmioWrite(offset: off, size: 4, value: UInt64(v)) }
    func config(_ off: UInt64, _ size: Int) -> UInt64 { dev.mmioRead(offset: 0x100 + off, size: size) ?? 0 }

    func allocate(_ n: Int, align: UInt64 = 16) -> UInt64 {
        heap = (heap + align - 1) & ~(align - 1)
        let a = heap
        heap += UInt64(n)
        return a
    }

    var deviceFeatures: UInt64 {
        w32(0x14, 0); let lo = UInt64(r32(0x10))
        w32(0x14, 1); let hi = UInt64(r32(0x10))
        return hi << 32 | lo
    }

    /// The §3.1.1 sequence; `accept` picks the driver features from the offered ones. Returns the
    /// final status (FEATURES_OK clear means the device refused).
    @discardableResult
    func initialize(queueSizes: [UInt16], accept: (UInt64) -> UInt64 = { $0 }) -> UInt32 {
        w32(0x70, 0)
        w32(0x70, VirtioStatus.acknowledge)
        w32(0x70, VirtioStatus.acknowledge | VirtioStatus.driver)
        let wanted = accept(deviceFeatures)
        w32(0x24, 0); w32(0x20, UInt32(truncatingIfNeeded: wanted))
        w32(0x24, 1); w32(0x20, UInt32(truncatingIfNeeded: wanted >> 32))
        var s = VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK
        w32(0x70, s)
        guard r32(0x70) & VirtioStatus.featuresOK != 0 else { return r32(0x70) }
        for (i, size) in queueSizes.enumerated() { setUpQueue(i, size: size) }
        s |= VirtioStatus.driverOK
        w32(0x70, s)
        return r32(0x70)
    }

    func setUpQueue(_ i: Int, size: UInt16) {
        w32(0x30, UInt32(i))
        precondition(r32(0x44) == 0 && r32(0x34) >= UInt32(size))
        w32(0x38, UInt32(size))
        let q = Queue(size: size, desc: allocate(16 * Int(size)), avail: allocate(6 + 2 * Int(size), align: 2),
                      used: allocate(6 + 8 * Int(size), align: 4))
        w32(0x80, UInt32(truncatingIfNeeded: q.desc)); w32(0x84, UInt32(q.desc >> 32))
        w32(0x90, UInt32(truncatingIfNeeded: q.avail)); w32(0x94, UInt32(q.avail >> 32))
        w32(0xA0, UInt32(truncatingIfNeeded: q.used)); w32(0xA4, UInt32(q.used >> 32))
        w32(0x44, 1)
        queues[i] = q
    }

    /// Writes a raw descriptor into queue `i`'s table.
    func putDescriptor(_ i: Int, index: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        let at = queues[i]!.desc + 16 * UInt64(index)
        putDescriptor(at: at, address: address, length: length, flags: flags, next: next)
    }

    func putDescriptor(at: UInt64, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        ram.store(at, le: address, 8)
        ram.store(at + 8, le: UInt64(length), 4)
        ram.store(at + 12, le: UInt64(flags), 2)
        ram.store(at + 14, le: UInt64(next), 2)
    }

    /// Publishes `head` in the available ring (without notifying).
    func publish(_ i: Int, head: UInt16) {
        var q = queues[i]!
        ram.store(q.avail + 4 + 2 * UInt64(q.availIdx % q.size), le: UInt64(head), 2)
        q.availIdx &+= 1
        ram.store(q.avail + 2, le: UInt64(q.availIdx), 2)
        queues[i] = q
    }

    /// Submits a chain of readable buffers then writable ones of the given lengths; returns the
    /// head and the writable buffers' addresses. With `indirect`, the chain lives in an indirect table.
    @discardableResult
    func submit(_ i: Int, out: [[UInt8]], inLengths: [Int], indirect: Bool = false) -> (head: UInt16, buffers: [UInt64]) {
        var segs: [(UInt64, UInt32, Bool)] = []
        for o in out {
            let a = allocate(max(o.count, 1))
            ram.store(a, o)
            segs.append((a, UInt32(o.count), false))
        }
        var buffers: [UInt64] = []
        for n in inLengths {
            let a = allocate(n)
            buffers.append(a)
            segs.append((a, UInt32(n), true))
        }
        var q = queues[i]!
        let head = q.nextDesc
        if indirect {
            let table = allocate(16 * segs.count)
            for (k, s) in segs.enumerated() {
                let last = k == segs.count - 1
                putDescriptor(at: table + 16 * UInt64(k), address: s.0, length: s.1,
                              flags: (last ? 0 : 1) | (s.2 ? 2 : 0), next: UInt16(k + 1))
            }
            putDescriptor(i, index: head, address: table, length: UInt32(16 * segs.count), flags: 4, next: 0)
            q.nextDesc = (q.nextDesc + 1) % q.size
        } else {
            for (k, s) in segs.enumerated() {
                let index = q.nextDesc
                let last = k == segs.count - 1
                q.nextDesc = (q.nextDesc + 1) % q.size
                putDescriptor(i, index: index, address: s.0, length: s.1,
                              flags: (last ? 0 : 1) | (s.2 ? 2 : 0), next: q.nextDesc)
            }
        }
        queues[i] = q
        publish(i, head: head)
        return (head, buffers)
    }

    func notify(_ i: Int) { w32(0x50, UInt32(i)) }

    /// New used-ring entries since the last call.
    func takeUsed(_ i: Int) -> [(id: UInt32, length: UInt32)] {
        var q = queues[i]!
        let idx = UInt16(ram.loadLE(q.used + 2, 2))
        var out: [(UInt32, UInt32)] = []
        while q.lastUsed != idx {
            let e = q.used + 4 + 8 * UInt64(q.lastUsed % q.size)
            out.append((UInt32(ram.loadLE(e, 4)), UInt32(ram.loadLE(e + 4, 4))))
            q.lastUsed &+= 1
        }
        queues[i] = q
        return out
    }

    /// Reads and acknowledges InterruptStatus.
    func acknowledgeInterrupt() -> UInt32 {
        let s = r32(0x60)
        w32(0x64, s)
        return s
    }
}
