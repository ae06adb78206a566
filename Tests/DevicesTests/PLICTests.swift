import Testing
import Machine
@testable import Devices

@Suite struct PLICTests {
    let pins = FakePins()

    func make(harts: Int = 2, gateway: PLICGateway = .qemu) -> PLIC { PLIC(hartCount: harts, pins: pins, gateway: gateway) }
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
        let p = make(gateway: .level)
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

    /// QEMU's gateway: a completion does not look at the line, so a source its handler left
    /// asserted stays quiet until its device raises it again (xv6's UART, whose THR-empty
    /// interrupt nobody acknowledges); a re-raise during service is delivered after completion.
    @Test func claimCompleteWithQEMUGateway() {
        let p = make()
        #expect(p.gateway == .qemu, "the default")
        w(p, 4 * 10, 1)
        w(p, 0x2000 + 0x80 * 1, 1 << 10)
        p.setIRQ(source: 10, level: true)
        #expect(r(p, 0x20_1004) == 10)                     // claim
        w(p, 0x20_1004, 10)                                // complete, the line still high
        #expect(!p.isPending(10))
        #expect(!pins.level(.seip, hart: 0))
        p.setIRQ(source: 10, level: true)                  // the device re-raises it: a new request
        #expect(p.isPending(10))
        #expect(pins.level(.seip, hart: 0))
        #expect(r(p, 0x20_1004) == 10)
        p.setIRQ(source: 10, level: true)                  // again, while in service
        #expect(p.isPending(10))
        #expect(!pins.level(.seip, hart: 0), "not delivered while in service")
        #expect(r(p, 0x20_1004) == 0)
        w(p, 0x20_1004, 10)
        #expect(pins.level(.seip, hart: 0), "delivered once completed")
        #expect(r(p, 0x20_1004) == 10)
        w(p, 0x20_1004, 10)
        p.setIRQ(source: 10, level: false)
        p.setIRQ(source: 10, level: true)                  // a new edge
        #expect(p.isPending(10))
    }

    /// xv6's UART handler reads LSR and RBR, never IIR, so THR-empty stays raised. Under QEMU's
    /// gateway it interrupts once per transmitted byte; under the level-triggered one it is pending
    /// again after every completion (the interrupt storm that livelocked xv6 on one hart).
    @Test(arguments: [PLICGateway.qemu, .level])
    func aUARTHandlerThatNeverReadsIIR(gateway: PLICGateway) {
        let p = make(gateway: gateway)
        w(p, 4 * 10, 1)
        w(p, 0x2000 + 0x80 * 1, 1 << 10)
        let uart = UART16550(irq: InterruptLine(p, source: 10))
        #expect(uart.mmioWrite(offset: 1, size: 1, value: 0x03))      // IER: RX data and THR empty
        var delivered = 0
        for round in 0..<5 {
            if round == 2 { #expect(uart.mmioWrite(offset: 0, size: 1, value: 0x41)) }   // send a byte
            guard r(p, 0x20_1004) == 10 else { continue }
            delivered += 1
            _ = uart.mmioRead(offset: 5, size: 1)                        // LSR: no received data
            _ = uart.mmioRead(offset: 5, size: 1)                        // LSR again (uartstart)
            w(p, 0x20_1004, 10)
        }
        #expect(delivered == (gateway == .qemu ? 2 : 5), "enabling THR empty, then the byte sent")
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
