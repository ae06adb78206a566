// Guest misbehaviour is never a host crash: each malformed ring sets DEVICE_NEEDS_RESET, logs a guest
// error, raises a configuration-change interrupt, and a reset brings the device back.
import Testing
import Machine
@testable import Devices

@Suite struct VirtioMalformedRingTests {
    let ram = FakeRAM()
    let log = GuestErrorLog()
    let controller = FakeController()

    func start() -> VirtioTestDriver {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram, irq: InterruptLine(controller, source: 5), errors: log)
        let d = VirtioTestDriver(t, ram: ram)
        d.initialize(queueSizes: [8])
        return d
    }

    func expectNeedsReset(_ d: VirtioTestDriver, _ why: String) {
        #expect(d.r32(0x70) & VirtioStatus.deviceNeedsReset != 0, "\(why)")
        #expect(d.r32(0x60) & 2 != 0, "\(why): configuration change interrupt")
        #expect(controller.levels[5] == true)
        #expect(!log.messages.isEmpty)
        // After a reset and re-initialisation the device works again.
        d.initialize(queueSizes: [8])
        #expect(d.r32(0x70) & VirtioStatus.deviceNeedsReset == 0)
    }

    @Test func loopingChain() {
        let d = start()
        d.putDescriptor(0, index: 0, address: ram.base + 0x8000, length: 8, flags: 1 | 2, next: 1)
        d.putDescriptor(0, index: 1, address: ram.base + 0x8000, length: 8, flags: 1 | 2, next: 0)
        d.publish(0, head: 0)
        d.notify(0)
        expectNeedsReset(d, "loop")
    }

    @Test func descriptorIndexOutOfRange() {
        let d = start()
        d.publish(0, head: 200)
        d.notify(0)
        expectNeedsReset(d, "head index")
    }

    @Test func bufferOutsideRAM() {
        let d = start()
        d.putDescriptor(0, index: 0, address: 0x1000, length: 64, flags: 2, next: 0)
        d.publish(0, head: 0)
        d.notify(0)
        expectNeedsReset(d, "buffer outside RAM")
    }

    @Test func ringOutsideRAM() {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram, irq: InterruptLine(controller, source: 5), errors: log)
        let d = VirtioTestDriver(t, ram: ram)
        d.initialize(queueSizes: [8])
        d.w32(0x70, 0)
        d.w32(0x70, 1); d.w32(0x70, 3); d.w32(0x24, 1); d.w32(0x20, 1); d.w32(0x70, 11)
        d.w32(0x30, 0); d.w32(0x38, 8)
        d.w32(0x90, 0x10); d.w32(0x94, 0)                  // avail ring at 0x10: not RAM
        d.w32(0x44, 1)
        d.w32(0x70, 15)
        d.notify(0)
        expectNeedsReset(d, "ring outside RAM")
    }

    @Test func oversizedAndBadIndirect() {
        let d = start()
        d.putDescriptor(0, index: 0, address: ram.base, length: UInt32.max, flags: 2, next: 0)
        d.publish(0, head: 0)
        d.notify(0)
        expectNeedsReset(d, "oversized")
        log.clear()
        d.putDescriptor(0, index: 0, address: ram.base + 0x9000, length: 24, flags: 4, next: 0)   // not ×16
        d.publish(0, head: 0)
        d.notify(0)
        expectNeedsReset(d, "indirect length")
        log.clear()
        let table = ram.base + 0x9000
        d.putDescriptor(at: table, address: table, length: 16, flags: 4, next: 0)                // nested
        d.putDescriptor(0, index: 0, address: table, length: 16, flags: 4, next: 0)
        d.publish(0, head: 0)
        d.notify(0)
        expectNeedsReset(d, "nested indirect")
    }

    @Test func availIndexRunsAhead() {
        let d = start()
        ram.store(d.queues[0]!.avail + 2, le: 100, 2)
        d.notify(0)
        expectNeedsReset(d, "avail idx")
    }

    @Test func blockRequestWithoutStatusByte() {
        let t = VirtioMMIO(backend: VirtioBlock(image: BlockImage(bytes: [UInt8](repeating: 0, count: 4096), mode: .readOnly)),
                           memory: ram, irq: InterruptLine(controller, source: 5), errors: log)
        let d = VirtioTestDriver(t, ram: ram)
        d.initialize(queueSizes: [8])
        d.submit(0, out: [[UInt8](repeating: 0, count: 16)], inLengths: [])
        d.notify(0)
        expectNeedsReset(d, "no status byte")
    }
}
