import Testing
import Machine
@testable import Devices

@Suite struct PLICTests {
    let pins = FakePins()

    func make(harts: Int = 2) -> PLIC { PLIC(hartCount: harts, pins: pins) }
    func w(_ p: PLIC, _ off: UInt64, _ v: UInt64) { #expect(p.mmioWrite(offset: off, size: 4, value: v)) }
    func r(_ p: PLIC, _ off: UInt64) -> UInt64 { p.mmioRead(offset: off, size: 4) ?? 0xDEAD }

    @Test func registerMap() {
        let p = make()
        w(p, 4 * 10, 0xFF)
        #expect(r(p, 4 * 10) == 7)                         // 3 priority bits
        #expect(r(p, 0) == 0)                              // source 0 has no priority
        w(p, 0x2000, 0xFFFF_FFFF)
        #expect(r(p, 0x2000) == 0xFFFF_FFFF)               // bit 0 is stored (QEMU), source 0 never fires
        w(p, 0x2000 + 0x80 * 3 + 8, 0xFFFF_FFFF)           // context 3, sources 64...95
        #expect(r(p, 0x2000 + 0x80 * 3 + 8) == 0xFFFF_FFFF)
        w(p, 0x2000 + 0x80 * 3 + 12, 0xFFFF_FFFF)
        #expect(r(p, 0x2000 + 0x80 * 3 + 12) == 1)         // only source 96 exists there
        w(p, 0x20_0000 + 0x1000, 9)
        #expect(r(p, 0x20_0000 + 0x1000) == 1)             // threshold masked to 3 bits
        #expect(p.mmioRead(offset: 0x2000, size: 8) == nil)
        #expect(p.mmioRead(offset: 0x2002, size: 4) == nil)
    }

    @Test func claimCompleteWithLevelGateway() {
        let p = make()
        w(p, 4 * 10, 1)
        w(p, 0x2000 + 0x80 * 1, 1 << 10)                   // enable source 10 for hart 0 S-mode
        p.setIRQ(source: 10, level: true)
        #expect(r(p, 0x1000) == 1 << 10)
        #expect(pins.level(.seip, hart: 0))
        #expect(!pins.level(.meip, hart: 0))
        #expect(r(p, 0x20_1004) == 10)                     // claim
        #expect(!pins.level(.seip, hart: 0))
        #expect(r(p, 0x1000) == 0)
        #expect(r(p, 0x20_1004) == 0)                      // nothing else
        // Still asserted but in service: not pending again until completed.
        #expect(!p.isPending(10))
        w(p, 0x20_1004, 10)                                // complete
        #expect(p.isPending(10))                           // the level is still high
        #expect(pins.level(.seip, hart: 0))
        p.setIRQ(source: 10, level: false)                 // the device drops it: the request stays latched
        #expect(p.isPending(10))
        #expect(r(p, 0x20_1004) == 10)
        w(p, 0x20_1004, 10)                                // completed with the line low: not pending again
        #expect(!p.isPending(10))
        #expect(!pins.level(.seip, hart: 0))
        p.setIRQ(source: 10, level: true)                  // a new assertion is a new request
        #expect(p.isPending(10))
    }

    @Test func priorityOrderAndThresholdPerContext() {
        let p = make()
        for (s, prio) in [(3, 2), (5, 6), (7, 6)] { w(p, UInt64(4 * s), UInt64(prio)) }
        w(p, 0x2000 + 0x80 * 2, (1 << 3) | (1 << 5) | (1 << 7))   // hart 1 M-mode
        for s in [3, 5, 7] { p.setIRQ(source: s, level: true) }
        #expect(pins.level(.meip, hart: 1))
        #expect(!pins.level(.meip, hart: 0))
        w(p, 0x20_2000, 6)                                 // threshold 6 masks everything
        #expect(!pins.level(.meip, hart: 1))
        #expect(r(p, 0x20_2004) == 0)
        w(p, 0x20_2000, 2)                                 // priority must exceed the threshold
        #expect(r(p, 0x20_2004) == 5)                      // tie 5/7 at 6: lowest id first
        #expect(r(p, 0x20_2004) == 7)
        #expect(r(p, 0x20_2004) == 0)                      // source 3 (priority 2) is not above 2
        #expect(!pins.level(.meip, hart: 1))
        w(p, 0x20_2000, 0)
        #expect(r(p, 0x20_2004) == 3)
    }

    @Test func priorityZeroNeverInterruptsAndDisabledCompletionIsIgnored() {
        let p = make(harts: 1)
        w(p, 0x2000, 1 << 4)
        p.setIRQ(source: 4, level: true)
        #expect(p.isPending(4))
        #expect(!pins.level(.meip, hart: 0))               // priority 0
        w(p, 16, 1)
        #expect(pins.level(.meip, hart: 0))
        #expect(r(p, 0x20_0004) == 4)
        w(p, 0x2000, 0)                                    // disable, then complete: ignored (§9)
        w(p, 0x20_0004, 4)
        #expect(p.isInService(4))
        w(p, 0x2000, 1 << 4)
        w(p, 0x20_0004, 4)
        #expect(!p.isInService(4))
        #expect(p.counters.guestErrors == 1)
    }

    @Test func outOfRangeSourcesAreHarmless() {
        let p = make(harts: 1)
        p.setIRQ(source: 0, level: true)
        p.setIRQ(source: 1000, level: true)
        w(p, 0x20_0004, 5000)
        #expect(r(p, 0x20_0004) == 0)
        w(p, 0x1000, 0xFF)                                 // pending is read-only
        #expect(r(p, 0x1000) == 0)
    }
}
