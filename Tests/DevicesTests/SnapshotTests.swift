// Save, change, restore: the guest must see exactly what it saw at the save.
import Testing
import Machine
@testable import Devices

@Suite struct SnapshotTests {
    @Test func clintAndPLICRestoreRegistersAndPins() {
        let pins = FakePins(), time = FakeTime()
        let clint = CLINT(hartCount: 1, pins: pins, time: time)
        let plic = PLIC(hartCount: 1, pins: pins)
        _ = clint.mmioWrite(offset: 0x4000, size: 8, value: 100)
        _ = clint.mmioWrite(offset: 0, size: 4, value: 1)
        _ = plic.mmioWrite(offset: 4 * 5, size: 4, value: 3)
        _ = plic.mmioWrite(offset: 0x2000, size: 4, value: 1 << 5)
        plic.setIRQ(source: 5, level: true)
        let c = clint.saveState(), p = plic.saveState()
        #expect(pins.level(.meip) && pins.level(.msip) && !pins.level(.mtip))

        _ = clint.mmioWrite(offset: 0, size: 4, value: 0)
        time.mtime = 200
        clint.advance(to: 200)
        #expect(plic.claim(context: 0) == 5)
        _ = plic.mmioWrite(offset: 4 * 5, size: 4, value: 0)
        #expect(!pins.level(.meip) && !pins.level(.msip) && pins.level(.mtip))

        time.mtime = 0
        #expect(clint.restoreState(c) && plic.restoreState(p))
        #expect(pins.level(.meip) && pins.level(.msip) && !pins.level(.mtip))
        #expect(clint.mmioRead(offset: 0x4000, size: 8) == 100)
        #expect(plic.mmioRead(offset: 4 * 5, size: 4) == 3)
        #expect(plic.claim(context: 0) == 5)
        #expect(!clint.restoreState(p))                    // another device's state changes nothing
        #expect(!CLINT(hartCount: 2, pins: pins, time: time).restoreState(c))   // another configuration
    }

    @Test func uartRestoresFIFOsQueuedInputAndInterrupt() {
        let ctl = FakeController()
        let u = UART16550(irq: InterruptLine(ctl, source: 10), sink: ConsoleCapture())
        _ = u.mmioWrite(offset: 2, size: 1, value: 0x01)
        _ = u.mmioWrite(offset: 1, size: 1, value: 0x01)
        u.enqueueInput(Array(repeating: UInt8(ascii: "x"), count: 20) + Array("yz".utf8))
        let saved = u.saveState()
        var first: [UInt8] = []
        while u.mmioRead(offset: 5, size: 1)! & 1 == 1 { first.append(UInt8(u.mmioRead(offset: 0, size: 1)!)) }
        #expect(ctl.levels[10] == false)
        #expect(u.restoreState(saved))
        #expect(u.mmioRead(offset: 2, size: 1) == 0xC4)
        var second: [UInt8] = []
        while u.mmioRead(offset: 5, size: 1)! & 1 == 1 { second.append(UInt8(u.mmioRead(offset: 0, size: 1)!)) }
        #expect(first == second && first.count == 22)
    }

    @Test func uartPauseAfterAFIFOResetSurvivesRestore() {
        let time = FakeTime()
        let u = UART16550(time: time)
        u.enqueueInput("q")
        _ = u.mmioWrite(offset: 2, size: 1, value: 0x07)               // reset: held 16 * 435 ticks
        let saved = u.saveState()
        u.advance(to: 16 * 435)
        #expect(u.nextDeadline == nil && u.mmioRead(offset: 5, size: 1)! & 1 == 1)
        #expect(u.restoreState(saved))
        #expect(u.nextDeadline == 16 * 435 && u.mmioRead(offset: 5, size: 1)! & 1 == 0)
    }

    @Test func rtcAlarmSurvivesRestore() {
        let time = FakeTime(), ctl = FakeController()
        let rtc = GoldfishRTC(time: time, irq: InterruptLine(ctl, source: 11), epochNs: 0)
        _ = rtc.mmioWrite(offset: 0x10, size: 4, value: 1)
        _ = rtc.mmioWrite(offset: 0x08, size: 4, value: 5_000)
        let saved = rtc.saveState()
        _ = rtc.mmioWrite(offset: 0x14, size: 4, value: 1)             // disarm
        #expect(rtc.nextDeadline == nil)
        #expect(rtc.restoreState(saved))
        #expect(rtc.nextDeadline == 50)
    }

    @Test func virtioQueuesDiskOverlayAndEntropyRestore() {
        let ram = FakeRAM()
        let image = BlockImage(bytes: [UInt8](repeating: 0, count: 4096), mode: .copyOnWrite)
        let t = VirtioMMIO(backend: VirtioBlock(image: image), memory: ram)
        let d = VirtioTestDriver(t, ram: ram)
        d.initialize(queueSizes: [8])
        func write(_ byte: UInt8) {
            d.submit(0, out: [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [UInt8](repeating: byte, count: 512)], inLengths: [1])
            d.notify(0)
            _ = d.takeUsed(0)
        }
        write(0xAA)
        let saved = t.saveState()
        let ramSaved = ram.bytes
        let driverSaved = d.queues
        write(0xBB)
        #expect(image.read(sector: 0, count: 1)! == [UInt8](repeating: 0xBB, count: 512))
        #expect(t.restoreState(saved))
        ram.bytes = ramSaved                                       // the machine restores RAM
        d.queues = driverSaved
        #expect(image.read(sector: 0, count: 1)! == [UInt8](repeating: 0xAA, count: 512))
        write(0xCC)                                                // the rings carry on from the save
        #expect(image.read(sector: 0, count: 1)! == [UInt8](repeating: 0xCC, count: 512))
        #expect(t.mmioRead(offset: 0x70, size: 4)! & UInt64(VirtioStatus.deviceNeedsReset) == 0)

        let rng = VirtioRNG(seed: 3)
        _ = rng.nextBytes(5)
        let r = rng.saveBackendState()
        let a = rng.nextBytes(16)
        #expect(rng.restoreBackendState(r))
        #expect(rng.nextBytes(16) == a)
        #expect(!rng.restoreBackendState(VirtioNetState(backlog: [], linkUp: true)))
    }
}
