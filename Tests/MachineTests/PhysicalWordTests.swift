import Testing
import Machine

// `readPhysical(littleEndianAt:count:)` and `loadPhysical(littleEndian:count:at:)`: a VMM's access to
// 1 to 8 bytes of RAM without an array. Little-endian, as the harts see memory (unprivileged spec,
// "Memory": RISC-V is little-endian), and all or nothing at the end of RAM.

@Suite struct PhysicalWordTests {
    let m: Machine = {
        var c = MachineConfiguration()
        c.ramSize = 1 << 20
        return Machine(c)
    }()
    let end: UInt64 = 0x8000_0000 + (1 << 20)

    @Test(arguments: 1...8)
    func aWriteIsReadBackAsTheLowBytesLeastSignificantFirst(_ count: Int) {
        let value: UInt64 = 0x1122_3344_5566_7788
        let mask = count == 8 ? UInt64.max : (1 << (8 * UInt64(count))) - 1
        m.loadPhysical(Array(repeating: 0xEE, count: 10), at: 0x8000_1000)
        #expect(m.loadPhysical(littleEndian: value, count: count, at: 0x8000_1001))
        #expect(m.readPhysical(littleEndianAt: 0x8000_1001, count: count) == value & mask)
        // Bytes in memory order, and nothing written past the count.
        let bytes = m.readPhysical(at: 0x8000_1000, count: 10)!
        #expect(bytes[0] == 0xEE && bytes[count + 1] == 0xEE)
        #expect(Array(bytes[1...count]) == (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    @Test func aWholeWordIsTheSameAsReadPhysicalWord() {
        m.loadPhysical([1, 2, 3, 4, 5, 6, 7, 8, 9], at: 0x8000_2003)   // unaligned on purpose
        #expect(m.readPhysical(littleEndianAt: 0x8000_2004, count: 8) == 0x0908_0706_0504_0302)
        #expect(m.readPhysicalWord(at: 0x8000_2004) == 0x0908_0706_0504_0302)
    }

    @Test func anAccessReachingPastRAMDoesNothing() {
        #expect(m.readPhysical(littleEndianAt: end - 4, count: 4) != nil)
        #expect(m.readPhysical(littleEndianAt: end - 4, count: 5) == nil)
        #expect(m.readPhysical(littleEndianAt: 0x1000_0000, count: 1) == nil)   // the UART, not RAM
        m.loadPhysical([0xAA, 0xAA, 0xAA], at: end - 3)
        #expect(!m.loadPhysical(littleEndian: 0, count: 4, at: end - 3))
        #expect(m.readPhysical(at: end - 3, count: 3) == [0xAA, 0xAA, 0xAA])   // nothing written
        #expect(!m.loadPhysical(littleEndian: 0, count: 1, at: 0x7FFF_FFFF))
    }

    @Test func aWriteKeepsDecodedCodeCoherent() throws {
        // An instruction decoded from a page, then overwritten through the word write: the hart
        // executes the new one (the write goes through the same invalidation as loadPhysical).
        m.grantFullPMPAccess(hart: 0)
        m.loadPhysical(littleEndian: 0x0010_0513, count: 4, at: 0x8000_0000)   // addi a0, zero, 1
        m.loadPhysical(littleEndian: 0x0000_006F, count: 4, at: 0x8000_0004)   // j .
        m.startHart(0, privilege: .machine, pc: 0x8000_0000, a0: 0, a1: 0)
        _ = m.run(maxInstructions: 2)
        #expect(m.register(10, hart: 0) == 1)
        m.setPC(0x8000_0000, hart: 0)
        m.loadPhysical(littleEndian: 0x0020_0513, count: 4, at: 0x8000_0000)   // addi a0, zero, 2
        _ = m.run(maxInstructions: 2)
        #expect(m.register(10, hart: 0) == 2)
    }
}
