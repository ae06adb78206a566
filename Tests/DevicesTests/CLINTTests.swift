import Testing
import Machine
@testable import Devices

@Suite struct CLINTTests {
    let pins = FakePins()
    let time = FakeTime()

    @Test func msipDrivesSoftwareInterruptPerHart() {
        let clint = CLINT(hartCount: 2, pins: pins, time: time)
        #expect(clint.mmioWrite(offset: 4, size: 4, value: 1))
        #expect(pins.level(.msip, hart: 1))
        #expect(!pins.level(.msip, hart: 0))
        #expect(clint.mmioRead(offset: 4, size: 4) == 1)
        #expect(clint.mmioWrite(offset: 4, size: 4, value: 0xFFFF_FFFE))   // only bit 0 counts
        #expect(!pins.level(.msip, hart: 1))
        #expect(clint.mmioRead(offset: 0, size: 8) == nil)                 // msip is 32-bit only
    }

    @Test func mtimeFollowsTimeSourceAndIsWritable() {
        let clint = CLINT(hartCount: 1, pins: pins, time: time)
        time.mtime = 1234
        #expect(clint.mmioRead(offset: 0xBFF8, size: 8) == 1234)
        #expect(clint.mmioWrite(offset: 0xBFF8, size: 8, value: 0x1_0000_0000))
        #expect(clint.mtime == 0x1_0000_0000)
        time.mtime += 10
        #expect(clint.mmioRead(offset: 0xBFF8, size: 4) == 10)            // low half
        #expect(clint.mmioRead(offset: 0xBFFC, size: 4) == 1)             // high half
        #expect(clint.mmioWrite(offset: 0xBFFC, size: 4, value: 2))       // 32-bit write of the high half
        #expect(clint.mtime == 0x2_0000_000A)
        #expect(time.mtime &+ clint.mtimeOffset == clint.mtime)
    }

    @Test func timerInterruptAndDeadline() {
        let clint = CLINT(hartCount: 2, pins: pins, time: time)
        #expect(clint.nextDeadline == nil)                                 // mtimecmp resets to all-ones
        #expect(clint.mmioWrite(offset: 0x4000, size: 8, value: 500))
        #expect(clint.mmioWrite(offset: 0x4008, size: 4, value: 300))     // hart 1 via 32-bit halves
        #expect(clint.mmioWrite(offset: 0x400C, size: 4, value: 0))
        #expect(clint.mtimecmp(hart: 1) == 300)
        #expect(clint.nextDeadline == 300)
        time.mtime = 299
        clint.advance(to: 299)
        #expect(!pins.level(.mtip, hart: 1))
        time.mtime = 300
        clint.advance(to: 300)
        #expect(pins.level(.mtip, hart: 1))
        #expect(!pins.level(.mtip, hart: 0))
        #expect(clint.nextDeadline == 500)
        time.mtime = 600
        clint.advance(to: 600)
        #expect(pins.level(.mtip, hart: 0))
        #expect(clint.nextDeadline == nil)
        // Writing a later compare value clears the interrupt at once.
        #expect(clint.mmioWrite(offset: 0x4000, size: 8, value: 1000))
        #expect(!pins.level(.mtip, hart: 0))
        #expect(clint.nextDeadline == 1000)
        #expect(clint.counters.interrupts == 2)
    }

    @Test func deadlineAccountsForMtimeOffset() {
        let clint = CLINT(hartCount: 1, pins: pins, time: time)
        time.mtime = 100
        #expect(clint.mmioWrite(offset: 0xBFF8, size: 8, value: 10_000))   // mtime jumps ahead by 9900
        #expect(clint.mmioWrite(offset: 0x4000, size: 8, value: 10_050))
        #expect(clint.nextDeadline == 150)                                   // in TimeSource ticks
        #expect(clint.mmioWrite(offset: 0x4000, size: 8, value: 50))         // already past: fires now
        #expect(pins.level(.mtip))
    }

    /// A deadline that time passed before the machine advanced the CLINT stays due: with several
    /// harts, one whose clock ran past another's mtimecmp within its slice may write msip (an
    /// IPI) first. Losing that deadline left Linux under OpenSBI on two harts without its tick.
    @Test func aPassedDeadlineIsDueUntilAdvanced() {
        let clint = CLINT(hartCount: 2, pins: pins, time: time)
        time.mtime = 100
        #expect(clint.mmioWrite(offset: 0x4000, size: 8, value: 200))
        #expect(clint.nextDeadline == 200)
        time.mtime = 250                                                     // hart 1's clock, ahead
        #expect(clint.mmioWrite(offset: 0x0004, size: 4, value: 1))          // its IPI
        #expect(clint.nextDeadline == 250)                                   // due now, not lost
        #expect(!pins.level(.mtip, hart: 0))
        clint.advance(to: 250)
        #expect(pins.level(.mtip, hart: 0))
        #expect(clint.nextDeadline == nil)
        // A compare value the timebase would reach only after wrapping around never fires.
        #expect(clint.mmioWrite(offset: 0x4000, size: 8, value: UInt64.max))
        #expect(clint.mmioWrite(offset: 0xBFF8, size: 8, value: 0))          // guest mtime set back
        #expect(clint.mmioWrite(offset: 0x4008, size: 8, value: UInt64.max - 1))
        #expect(clint.nextDeadline == nil)
        #expect(clint.mmioWrite(offset: 0x4008, size: 8, value: 1000))
        #expect(clint.nextDeadline == 1250)
    }

    @Test func badAccessesAreRejectedOrIgnored() {
        let clint = CLINT(hartCount: 1, pins: pins, time: time)
        #expect(clint.mmioRead(offset: 0x4002, size: 4) == nil)      // misaligned
        #expect(clint.mmioRead(offset: 0x4000, size: 2) == nil)      // wrong width
        #expect(clint.mmioRead(offset: 0x8000, size: 4) == 0)        // unimplemented: reads 0
        #expect(clint.mmioWrite(offset: 0x8000, size: 4, value: 1))
        #expect(clint.counters.guestErrors == 2)
        #expect(clint.counters.accesses == 4)
    }
}
