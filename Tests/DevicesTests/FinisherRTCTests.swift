import Testing
import Machine
@testable import Devices

@Suite struct TestFinisherTests {
    @Test func codes() {
        var events: [FinisherEvent] = []
        let f = TestFinisher(onFinish: { events.append($0) })
        #expect(f.mmioWrite(offset: 0, size: 4, value: 0x5555))
        #expect(f.mmioWrite(offset: 0, size: 4, value: (42 << 16) | 0x3333))
        #expect(f.mmioWrite(offset: 0, size: 4, value: 0x7777))
        #expect(f.mmioWrite(offset: 0, size: 4, value: 0x1234))          // ignored
        #expect(f.mmioWrite(offset: 0, size: 2, value: 0x3333))          // 16-bit: code 0
        #expect(!f.mmioWrite(offset: 0, size: 1, value: 0x55))           // rejected width
        #expect(events == [.pass, .fail(code: 42), .reset, .fail(code: 0)])
        #expect(f.lastEvent == .fail(code: 0))
        #expect(f.mmioRead(offset: 0, size: 4) == 0)
        #expect(f.mmioRead(offset: 0, size: 8) == nil)
        #expect(f.counters.requests == 4)
        #expect(f.counters.guestErrors == 3)
    }
}

@Suite struct GoldfishRTCTests {
    let time = FakeTime()
    let controller = FakeController()

    func make() -> GoldfishRTC {
        GoldfishRTC(time: time, irq: InterruptLine(controller, source: 11), epochNs: 1_000_000_000_000)
    }
    func read64(_ rtc: GoldfishRTC) -> UInt64 {
        let low = rtc.mmioRead(offset: 0, size: 4)!
        return rtc.mmioRead(offset: 4, size: 4)! << 32 | low
    }

    @Test func timeIsEpochPlusMtime() {
        let rtc = make()
        #expect(read64(rtc) == 1_000_000_000_000)
        time.mtime = 10_000_000                                       // one second of 10 MHz ticks
        #expect(read64(rtc) == 1_001_000_000_000)
        // Setting the time: TIME_HIGH first, then TIME_LOW.
        #expect(rtc.mmioWrite(offset: 4, size: 4, value: 0x10))
        #expect(rtc.mmioWrite(offset: 0, size: 4, value: 0x20))
        #expect(read64(rtc) == 0x10_0000_0020)
        time.mtime += 5
        #expect(read64(rtc) == 0x10_0000_0020 + 500)
        #expect(rtc.mmioRead(offset: 0, size: 8) == 0x10_0000_0020 + 500)   // split as on QEMU
        #expect(rtc.mmioRead(offset: 0, size: 2) == nil)
    }

    @Test func alarmFiresAtDeadlineAndInterrupts() {
        let rtc = make()
        let at = rtc.nowNs + 1_000                                   // 10 ticks from now
        #expect(rtc.mmioWrite(offset: 0x10, size: 4, value: 1))
        #expect(rtc.mmioWrite(offset: 0x0C, size: 4, value: at >> 32))
        #expect(rtc.mmioWrite(offset: 0x08, size: 4, value: at & 0xFFFF_FFFF))
        #expect(rtc.mmioRead(offset: 0x18, size: 4) == 1)
        #expect(rtc.nextDeadline == 10)
        time.mtime = 9
        rtc.advance(to: 9)
        #expect(controller.levels[11] != true)
        time.mtime = 10
        rtc.advance(to: 10)
        #expect(controller.levels[11] == true)
        #expect(rtc.mmioRead(offset: 0x18, size: 4) == 0)
        #expect(rtc.nextDeadline == nil)
        #expect(rtc.mmioWrite(offset: 0x1C, size: 4, value: 1))      // clear interrupt
        #expect(controller.levels[11] == false)
        #expect(rtc.counters.interrupts == 1)
    }

    @Test func pastAlarmFiresAtOnceAndClearAlarmDisarms() {
        let rtc = make()
        time.mtime = 100
        #expect(rtc.mmioWrite(offset: 0x08, size: 4, value: 0))     // alarm in the past, IRQ masked
        #expect(rtc.mmioRead(offset: 0x18, size: 4) == 0)
        #expect(controller.levels[11] != true)
        #expect(rtc.mmioWrite(offset: 0x10, size: 4, value: 1))     // unmasking shows the pending alarm
        #expect(controller.levels[11] == true)
        #expect(rtc.mmioWrite(offset: 0x1C, size: 4, value: 1))
        #expect(rtc.mmioWrite(offset: 0x0C, size: 4, value: 0xFFFF))
        #expect(rtc.mmioWrite(offset: 0x08, size: 4, value: 0))
        #expect(rtc.nextDeadline != nil)
        #expect(rtc.mmioWrite(offset: 0x14, size: 4, value: 1))
        #expect(rtc.nextDeadline == nil)
    }
}
