import Testing
import Machine
@testable import Devices

@Suite struct UARTTests {
    let controller = FakeController()
    let console = ConsoleCapture()

    func make() -> UART16550 {
        UART16550(irq: InterruptLine(controller, source: VirtPlatform.uart0IRQ), sink: console)
    }
    func r(_ u: UART16550, _ off: UInt64) -> UInt8 { UInt8(u.mmioRead(offset: off, size: 1) ?? 0xEE) }
    func w(_ u: UART16550, _ off: UInt64, _ v: UInt8) { #expect(u.mmioWrite(offset: off, size: 1, value: UInt64(v))) }
    var irq: Bool { controller.levels[10] ?? false }

    @Test func resetStateAndTransmit() {
        let u = make()
        #expect(r(u, 2) == 0x01)                    // no interrupt, FIFOs off
        #expect(r(u, 5) == 0x60)                    // THRE | TEMT, no data
        #expect(r(u, 6) == 0xB0)                    // DCD DSR CTS
        #expect(r(u, 4) == 0x08)                    // OUT2 after reset, as QEMU
        for c in "hi\n".utf8 { w(u, 0, c) }
        #expect(console.text == "hi\n")
        #expect(console.drain() == Array("hi\n".utf8) && console.bytes.isEmpty)
        #expect(u.counters.bytesFromGuest == 3)
        #expect(!irq)
    }

    @Test func divisorLatchAndScratch() {
        let u = make()
        w(u, 3, 0x83)                               // DLAB, 8N1
        w(u, 0, 0x01); w(u, 1, 0x02)
        #expect(r(u, 0) == 0x01 && r(u, 1) == 0x02)
        w(u, 3, 0x03)
        #expect(r(u, 1) == 0x00)                    // IER, not DLM
        #expect(console.bytes.isEmpty)              // the DLL write was not transmitted
        w(u, 7, 0x5A)
        #expect(r(u, 7) == 0x5A)
        #expect(r(u, 3) == 0x03)
    }

    @Test func receiveInterruptNonFIFO() {
        let u = make()
        u.enqueueInput("ab")
        #expect(r(u, 5) & 1 == 1)
        #expect(!irq)                               // IER off
        w(u, 1, 0x01)
        #expect(irq)
        #expect(r(u, 2) == 0x04)                    // received data available
        #expect(r(u, 0) == UInt8(ascii: "a"))
        #expect(irq)                                // 'b' moved into the holding register
        #expect(r(u, 0) == UInt8(ascii: "b"))
        #expect(!irq)
        #expect(r(u, 5) & 1 == 0)
        #expect(r(u, 0) == 0)                       // reading an empty RBR is harmless
    }

    @Test func fifoTriggerLevelAndTimeout() {
        let u = make()
        w(u, 2, 0x81)                               // FIFO on, trigger 8
        w(u, 1, 0x01)
        u.enqueueInput(Array("0123456789ABCDEFGHIJ".utf8))   // 20 bytes: 16 in the FIFO, 4 waiting
        #expect(r(u, 2) == 0xC4)                    // at or above trigger: data available
        var got: [UInt8] = []
        for _ in 0..<9 { got.append(r(u, 0)) }
        // 11 left (16 - 9 + 4 refilled) ≥ 8 → still 0xC4; then drain below trigger → timeout 0xCC
        #expect(r(u, 2) == 0xC4)
        for _ in 0..<5 { got.append(r(u, 0)) }
        #expect(r(u, 2) == 0xCC)
        while r(u, 5) & 1 == 1 { got.append(r(u, 0)) }
        #expect(String(decoding: got, as: UTF8.self) == "0123456789ABCDEFGHIJ")
        #expect(r(u, 2) == 0xC1)
        #expect(u.counters.bytesToGuest == 20)
    }

    @Test func thrEmptyInterruptAndIIRPriority() {
        let u = make()
        w(u, 1, 0x02)                               // enabling ETBEI with THR empty raises it
        #expect(irq)
        #expect(r(u, 2) == 0x02)
        #expect(!irq)                               // reading IIR acknowledged it
        #expect(r(u, 2) == 0x01)
        w(u, 0, UInt8(ascii: "x"))                  // after a write the THR empties again at once
        #expect(irq)
        u.enqueueInput("y")
        w(u, 1, 0x03)
        #expect(r(u, 2) == 0x04)                    // receive data outranks THR empty
        _ = r(u, 0)
        #expect(r(u, 2) == 0x02)
        w(u, 1, 0x00)
        #expect(!irq)
        #expect(u.counters.interrupts >= 2)
    }

    @Test func loopbackAndModemStatus() {
        let u = make()
        w(u, 2, 0x01)
        w(u, 4, 0x10)                               // loopback, all outputs low
        #expect(r(u, 6) == 0x00)                    // lines follow MCR; entering loopback is no delta
        w(u, 4, 0x11)                               // DTR while looped back: DSR rises, a delta
        #expect(r(u, 6) == 0x22)
        #expect(r(u, 6) == 0x20)                    // reading cleared the delta
        w(u, 4, 0x10)
        _ = r(u, 6)
        w(u, 1, 0x08)                               // modem status interrupt
        w(u, 4, 0x13)                               // DTR+RTS
        #expect(irq)
        #expect(r(u, 2) == 0xC0)
        #expect(r(u, 6) == 0x33)                    // CTS DSR + their deltas
        #expect(!irq)
        w(u, 1, 0)
        u.enqueueInput("h")                         // host input waits while in loopback
        w(u, 0, 0x41)
        #expect(console.bytes.isEmpty)
        #expect(r(u, 0) == 0x41)
        for i in 0..<17 { w(u, 0, UInt8(i)) }       // one more than the FIFO holds
        #expect(r(u, 5) & 0x03 == 0x03)             // data ready + overrun
        #expect(r(u, 5) & 0x02 == 0)                // cleared by the read
        w(u, 2, 0x03)                               // clear the receive FIFO
        w(u, 4, 0x00)                               // leave loopback: host input arrives
        #expect(r(u, 0) == UInt8(ascii: "h"))
    }

    @Test func fifoResetKeepsHostInputButDropsLoopbackBytes() {
        let u = make()
        u.enqueueInput("hi")                        // queued before the guest sets up the UART
        w(u, 2, 0x07)                               // FIFO on + reset both FIFOs, as drivers do
        #expect(r(u, 0) == UInt8(ascii: "h"))
        #expect(r(u, 0) == UInt8(ascii: "i"))
        w(u, 4, 0x10)
        w(u, 0, 0x55)                               // a loopback byte...
        w(u, 2, 0x03)                               // ...is discarded by a FIFO reset
        #expect(r(u, 5) & 1 == 0)
    }

    /// Linux's 8250 startup resets the receive FIFO with its interrupts off, then reads LSR, RBR,
    /// IIR and MSR and drops what it read, twice, before it enables the receive interrupt; input
    /// queued before the guest set the UART up must survive that.
    @Test func aResetHoldsTheLineUntilTheReceiveInterruptIsEnabled() {
        let time = FakeTime()
        let u = UART16550(irq: InterruptLine(controller, source: VirtPlatform.uart0IRQ), sink: console, time: time)
        w(u, 3, 0x83); w(u, 0, 24); w(u, 1, 0); w(u, 3, 0x03)   // 9600 baud from 3.6864 MHz
        #expect(u.characterTicks == 10_417)                      // 10 bits of 104.17 us, rounded up
        u.enqueueInput("hi")                                     // typed before the driver starts
        #expect(r(u, 5) & 1 == 1 && u.nextDeadline == nil)       // a line that never reset delivers
        time.mtime = 1_000
        w(u, 2, 0x07)                                            // FIFOs on and reset
        #expect(u.nextDeadline == 1_000 + 16 * 10_417)
        _ = r(u, 5); #expect(r(u, 0) == 0)                       // the reads "for luck" find nothing
        time.mtime = 40_000                                      // (slower than a character time)
        u.advance(to: time.mtime)
        w(u, 1, 0x02)                                            // THR-empty only: still held
        _ = r(u, 5); #expect(r(u, 0) == 0)                       // read again for luck: nothing
        #expect(r(u, 5) & 1 == 0 && u.nextDeadline == 1_000 + 16 * 10_417)
        w(u, 1, 0x05)                                            // receive interrupts on: it listens
        #expect(irq && u.nextDeadline == nil)                    // the line sends again: "hi", whole
        #expect(r(u, 2) & 0x0F == 0x04)                          // received data available
        #expect(r(u, 0) == UInt8(ascii: "h") && r(u, 0) == UInt8(ascii: "i"))
        w(u, 2, 0x03)                                            // a reset while it listens...
        u.enqueueInput("!")
        #expect(r(u, 0) == UInt8(ascii: "!"))                    // ...holds nothing
    }

    /// A driver that polls (OpenSBI's: FIFO on, MCR, then LSR and RBR for luck, then LSR and RBR
    /// for each character) gets the bytes once the pause is over.
    @Test func aResetHoldsTheLineSixteenCharacterTimesForADriverThatPolls() {
        let time = FakeTime()
        let u = UART16550(time: time)
        u.enqueueInput("ok")
        w(u, 2, 0x01); w(u, 4, 0x00)                             // FIFO mode on: a reset
        _ = r(u, 5); #expect(r(u, 0) == 0)
        #expect(u.nextDeadline == 16 * 435)                      // divisor 0: 435 ticks a character
        time.mtime = 16 * 435 - 1
        u.advance(to: time.mtime)                                // one tick early: still held
        #expect(r(u, 5) & 1 == 0)
        time.mtime = 16 * 435
        u.advance(to: time.mtime)
        #expect(u.nextDeadline == nil && r(u, 5) & 1 == 1)
        #expect(r(u, 0) == UInt8(ascii: "o") && r(u, 0) == UInt8(ascii: "k"))
    }

    @Test func theCharacterTimeFollowsTheDivisor() {
        let u = UART16550(time: FakeTime())
        #expect(u.characterTicks == 435)                          // divisor 0 counts as 1 (230400 baud)
        w(u, 3, 0x80); w(u, 0, 2)
        #expect(u.characterTicks == 869)                          // 115200 baud: 86.8 us
        w(u, 1, 0x01)
        #expect(u.characterTicks == 111_980)                      // divisor 258 (DLM 1, DLL 2): 11.2 ms
    }

    @Test func wideAndOutOfRangeAccesses() {
        let u = make()
        #expect(u.mmioWrite(offset: 7, size: 4, value: 0x1234_56AB))
        #expect(u.mmioRead(offset: 7, size: 4) == 0xAB)
        #expect(u.mmioRead(offset: 0x80, size: 1) == nil)      // past the registers: fault, as QEMU
        #expect(!u.mmioWrite(offset: 8, size: 1, value: 1))
        #expect(u.counters.guestErrors == 2)
    }
}
