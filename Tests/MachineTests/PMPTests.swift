import Testing
import Machine

// Physical memory protection (privileged spec, "Physical Memory Protection").

@Suite struct PMPTests {
    let rig = Guest.Rig()
    var m: Machine { rig.machine }

    @Test func sModeWithNoMatchingEntryFails() throws {
        try rig.start("nop", mode: .supervisor)
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 1, "even the first fetch fails: 16 entries are implemented, none matches")
    }

    @Test func noPMPImplementedAllowsEverything() throws {
        let r = Guest.Rig { $0.pmpEntries = 0 }
        try r.start("li t0, 0x80100000\n sd t0, 0(t0)\n ecall", mode: .supervisor)
        _ = r.run(10)
        #expect(r.csr(0x342) == 9)
        #expect(r.machine.readCSR(0x3B0) == 0)
    }

    @Test func torNA4AndNAPOTRegions() throws {
        // Entry 0: TOR [0, 0x8010_0000) RX (code); entry 1: NA4 at 0x8010_0000 R;
        // entry 2: NAPOT 0x8020_0000 + 4 KiB RW.
        m.writeCSR(0x3B0, 0x8010_0000 >> 2)
        m.writeCSR(0x3B1, 0x8010_0000 >> 2)
        m.writeCSR(0x3B2, (0x8020_0000 >> 2) | ((0x1000 >> 3) - 1))
        m.writeCSR(0x3A0, UInt64(0x08 | 0x05) | UInt64(0x10 | 0x01) << 8 | UInt64(0x18 | 0x03) << 16)
        let cases: [(String, UInt64)] = [
            ("li t0, 0x80100000\n lw a0, 0(t0)\n ecall", 9),       // NA4 read: fine
            ("li t0, 0x80100000\n ld a0, 0(t0)\n ecall", 5),       // 8 bytes overrun the NA4 entry
            ("li t0, 0x80100000\n sw a0, 0(t0)\n ecall", 7),       // not writable
            ("li t0, 0x80200ff8\n sd a0, 0(t0)\n ecall", 9),       // NAPOT RW
            ("li t0, 0x80201000\n sd a0, 0(t0)\n ecall", 7),       // just past it
            ("li t0, 0x80200000\n jr t0", 1),                      // not executable
        ]
        for (code, cause) in cases {
            try rig.start(code, mode: .supervisor)
            _ = rig.run(20)
            #expect(rig.csr(0x342) == cause, "\(code)")
        }
    }

    @Test func lockedEntriesBindMachineModeAndIgnoreWrites() throws {
        m.writeCSR(0x3B0, (0x8020_0000 >> 2) | ((0x1000 >> 3) - 1))
        m.writeCSR(0x3A0, 0x80 | 0x18 | 0x01)   // locked NAPOT, read-only
        m.writeCSR(0x3A0, 0x1F)                  // ignored
        m.writeCSR(0x3B0, 0)                     // ignored
        #expect(rig.csr(0x3A0) & 0xFF == 0x99)
        #expect(rig.csr(0x3B0) == (0x8020_0000 >> 2) | 0x1FF)
        try rig.start("li t0, 0x80200000\n ld a0, 0(t0)\n sd a0, 0(t0)\n ebreak")
        _ = rig.run(20)
        #expect(rig.csr(0x342) == 7, "M-mode store to a locked read-only region faults")
        #expect(rig.csr(0x343) == 0x8020_0000)
    }

    @Test func machineModeIsExemptFromUnlockedEntries() throws {
        m.writeCSR(0x3B0, (0x8020_0000 >> 2) | ((0x1000 >> 3) - 1))
        m.writeCSR(0x3A0, 0x18)   // NAPOT, no permissions, unlocked
        try rig.start("li t0, 0x80200000\n sd a0, 0(t0)\n ebreak")
        _ = rig.run(20)
        #expect(rig.csr(0x342) == 3)
    }

    @Test func reservedRWCombinationIsWARL() {
        m.writeCSR(0x3A0, 0x18 | 0x02)   // W without R
        #expect(rig.csr(0x3A0) & 0x3 == 0)
    }

    @Test func pmpChangeTakesEffectForTheFastPath() throws {
        // A page used at full speed, then revoked: the next access must fault.
        m.grantFullPMPAccess(hart: 0)
        try rig.start("""
            li t0, 0x80200000
            ld a0, 0(t0)
            ld a0, 8(t0)
            ecall                 # to M: the test revokes access, then resumes
            ld a0, 16(t0)
            ecall
        """, mode: .supervisor)
        _ = rig.run(20)
        #expect(rig.csr(0x342) == 9)
        // Entry 0 (higher priority than nothing else): deny the page; entry 1 allows the rest.
        m.writeCSR(0x3B1, .max)
        m.writeCSR(0x3B0, (0x8020_0000 >> 2) | ((0x1000 >> 3) - 1))
        m.writeCSR(0x3A0, 0x18 | (0x1F << 8))
        m.setPrivilege(.supervisor)
        m.setPC(rig.csr(0x341) + 4)
        _ = rig.run(20)
        #expect(rig.csr(0x342) == 5)
        #expect(rig.csr(0x343) == 0x8020_0010)
    }
}
