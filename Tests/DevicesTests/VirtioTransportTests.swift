import Testing
import Machine
@testable import Devices

@Suite struct VirtioTransportTests {
    let ram = FakeRAM()
    let controller = FakeController()

    @Test func identityRegistersOfAnEmptySlot() {
        let t = VirtioMMIO(backend: nil, memory: ram, irq: InterruptLine(controller, source: 1))
        #expect(t.mmioRead(offset: 0, size: 4) == 0x7472_6976)
        #expect(t.mmioRead(offset: 4, size: 4) == 2)
        #expect(t.mmioRead(offset: 8, size: 4) == 0)
        #expect(t.mmioRead(offset: 0xC, size: 4) == 0x554D_4551)
        #expect(t.mmioRead(offset: 0x34, size: 4) == 0)
        #expect(t.mmioRead(offset: 0, size: 1) == 0x76)          // any width, as QEMU's empty slot
        #expect(t.mmioRead(offset: 1, size: 2) == 0x7269)
        #expect(t.mmioRead(offset: 0xB0, size: 4) == 0)
        #expect(t.mmioWrite(offset: 0x70, size: 4, value: 1))
        #expect(t.mmioRead(offset: 0x70, size: 4) == 0)
    }

    @Test func featureNegotiationAndQueueRegisters() {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram, irq: InterruptLine(controller, source: 2))
        let d = VirtioTestDriver(t, ram: ram)
        #expect(d.r32(8) == 4)
        let f = d.deviceFeatures
        #expect(f & (1 << 32) != 0)                       // VERSION_1
        #expect(f & (1 << 28) != 0)                       // INDIRECT_DESC
        #expect(f & (1 << 29) != 0)                       // EVENT_IDX
        d.w32(0x30, 0)
        #expect(d.r32(0x34) == 1024)
        d.w32(0x30, 1)
        #expect(d.r32(0x34) == 0)                         // no queue 1
        // Accepting an unoffered feature: FEATURES_OK refused.
        let refused = d.initialize(queueSizes: [8], accept: { $0 | (1 << 40) })
        #expect(refused & VirtioStatus.featuresOK == 0)
        // A proper negotiation.
        let ok = d.initialize(queueSizes: [8])
        #expect(ok == VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK | VirtioStatus.driverOK)
        d.w32(0x30, 0)
        #expect(t.queues[0].size == 8 && d.r32(0x44) == 1)
        #expect(d.r32(0x38) == 0)                         // QueueNum is write-only
        #expect(t.mmioRead(offset: 0, size: 8) == 0x2_7472_6976)   // split like QEMU: magic, version
        #expect(UInt64(d.r32(0x80)) | UInt64(d.r32(0x84)) << 32 == d.queues[0]!.desc)
        // Reset by writing 0 clears queues and status.
        d.w32(0x70, 0)
        #expect(d.r32(0x70) == 0 && d.r32(0x44) == 0 && t.queues[0].size == 0)
        #expect(t.mmioRead(offset: 0x70, size: 2) == 0)   // non-32-bit register access: 0, logged
        #expect(t.counters.guestErrors >= 2)
    }

    @Test func driverWithoutVersion1IsAccepted() {
        let t = VirtioMMIO(backend: VirtioRNG(seed: 1), memory: ram)
        let d = VirtioTestDriver(t, ram: ram)
        let s = d.initialize(queueSizes: [8], accept: { $0 & 0xFFFF_FFFF })
        #expect(s & VirtioStatus.driverOK != 0)
        let (_, bufs) = d.submit(0, out: [], inLengths: [16])
        d.notify(0)
        #expect(d.takeUsed(0).map(\.length) == [16])
        #expect(ram.load(bufs[0], 16) == VirtioRNG(seed: 1).nextBytes(16))
    }

    @Test func interruptSuppressionAndEventIdx() {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram, irq: InterruptLine(controller, source: 3))
        let d = VirtioTestDriver(t, ram: ram)
        d.initialize(queueSizes: [8], accept: { $0 & ~(1 << 29) })   // no EVENT_IDX
        ram.store(d.queues[0]!.avail, le: 1, 2)                          // VIRTQ_AVAIL_F_NO_INTERRUPT
        d.submit(0, out: [], inLengths: [4]); d.notify(0)
        #expect(d.takeUsed(0).count == 1)
        #expect(controller.levels[3] != true)
        ram.store(d.queues[0]!.avail, le: 0, 2)
        d.submit(0, out: [], inLengths: [4]); d.notify(0)
        #expect(controller.levels[3] == true)
        #expect(d.acknowledgeInterrupt() == 1)
        #expect(controller.levels[3] == false)

        // With EVENT_IDX the driver asks for an interrupt only once used_idx passes used_event.
        let ram2 = FakeRAM()
        let t2 = VirtioMMIO(backend: VirtioRNG(), memory: ram2, irq: InterruptLine(controller, source: 4))
        let d2 = VirtioTestDriver(t2, ram: ram2)
        d2.initialize(queueSizes: [8])
        let q = d2.queues[0]!
        ram2.store(q.avail + 4 + 2 * 8, le: 1, 2)                         // used_event = 1
        d2.submit(0, out: [], inLengths: [4]); d2.notify(0)              // used_idx 0 → 1: no
        #expect(controller.levels[4] != true)
        #expect(ram2.loadLE(q.used + 4 + 8 * 8, 2) == 1)                 // avail_event published
        d2.submit(0, out: [], inLengths: [4]); d2.notify(0)              // 1 → 2 passes 1: yes
        #expect(controller.levels[4] == true)
    }

    @Test func nothingIsConsumedBeforeDriverOK() {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram)
        let d = VirtioTestDriver(t, ram: ram)
        d.w32(0x70, 1); d.w32(0x70, 3)
        d.w32(0x24, 1); d.w32(0x20, 1)
        d.w32(0x70, 11)
        d.setUpQueue(0, size: 8)
        d.submit(0, out: [], inLengths: [8])
        d.notify(0)
        #expect(d.takeUsed(0).isEmpty)
        d.w32(0x70, 15)                                                  // DRIVER_OK processes it
        #expect(d.takeUsed(0).count == 1)
    }

    @Test func queueSizeMustBeAPowerOfTwo() {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram)
        let d = VirtioTestDriver(t, ram: ram)
        d.w32(0x30, 0)
        d.w32(0x38, 6)
        #expect(t.queues[0].size == 0)
        d.w32(0x38, 2048)                                                // above QueueNumMax
        #expect(t.queues[0].size == 0)
        d.w32(0x38, 16)
        #expect(t.queues[0].size == 16)
    }

    @Test func ringIndicesWrapAt65536() {
        let t = VirtioMMIO(backend: VirtioRNG(), memory: ram)
        let d = VirtioTestDriver(t, ram: ram)
        d.initialize(queueSizes: [8])
        let buffer = d.allocate(4)
        d.putDescriptor(0, index: 3, address: buffer, length: 4, flags: 2, next: 0)
        var completed = 0
        for _ in 0..<65_540 {
            d.publish(0, head: 3)
            d.notify(0)
            completed += d.takeUsed(0).filter { $0.id == 3 && $0.length == 4 }.count
        }
        #expect(completed == 65_540)
        #expect(d.r32(0x70) & VirtioStatus.deviceNeedsReset == 0)
        #expect(t.queues[0].usedIndex == UInt16(65_540 % 65_536))
    }
}
