import Testing
import Machine

// CSR legality and WARL behaviour (privileged spec, "CSR Listing" and each register's section).

@Suite struct CSRTests {
    let rig = Guest.Rig()
    var m: Machine { rig.machine }

    @Test func misaIsRV64IMAFDCSUAndReadOnly() {
        let misa = rig.csr(0x301)
        #expect(misa >> 62 == 2)
        let letters = "ACDFIMSU".map { Int($0.asciiValue! - 65) }
        for bit in 0..<26 { #expect((misa >> UInt64(bit)) & 1 == (letters.contains(bit) ? 1 : 0), "misa bit \(bit)") }
        m.writeCSR(0x301, 0)
        #expect(rig.csr(0x301) == misa)
    }

    @Test func mstatusWARL() {
        // MPP = 2 is reserved: the field keeps its value.
        m.writeCSR(0x300, 1 << 11)
        #expect((rig.csr(0x300) >> 11) & 3 == 1)
        m.writeCSR(0x300, 2 << 11)
        #expect((rig.csr(0x300) >> 11) & 3 == 1)
        // UXL = SXL = 2 whatever is written; SD follows FS == Dirty.
        m.writeCSR(0x300, 3 << 13)
        let ms = rig.csr(0x300)
        #expect((ms >> 32) & 3 == 2 && (ms >> 34) & 3 == 2)
        #expect(ms >> 63 == 1)
        m.writeCSR(0x300, 1 << 13)
        #expect(rig.csr(0x300) >> 63 == 0)
        // sstatus is a view: writing it leaves M-only fields alone.
        m.writeCSR(0x300, (3 << 11) | (1 << 3))
        m.writeCSR(0x100, 0)
        #expect((rig.csr(0x300) >> 11) & 3 == 3 && rig.csr(0x300) & 8 != 0)
        #expect(rig.csr(0x100) & (3 << 11) == 0)
    }

    @Test func delegationMasks() {
        m.writeCSR(0x302, .max)
        #expect(rig.csr(0x302) & (1 << 11) == 0, "ecall from M cannot be delegated")
        #expect(rig.csr(0x302) & 0xB3FF == 0xB3FF)
        m.writeCSR(0x303, .max)
        #expect(rig.csr(0x303) == 0x222, "only SSI, STI, SEI are delegable")
        m.writeCSR(0x304, .max)
        #expect(rig.csr(0x304) == 0xAAA)
        #expect(rig.csr(0x104) == 0x222, "sie is mie masked by mideleg")
    }

    @Test func tvecAndEpc() {
        m.writeCSR(0x305, 0x8000_1001)
        #expect(rig.csr(0x305) == 0x8000_1001)
        m.writeCSR(0x305, 0x8000_2002)   // reserved MODE keeps the old MODE
        #expect(rig.csr(0x305) == 0x8000_2001)
        m.writeCSR(0x341, 0x8000_0003)
        #expect(rig.csr(0x341) == 0x8000_0002, "mepc bit 0 reads as zero (IALIGN = 16)")
        m.writeCSR(0x141, 0x8000_0005)
        #expect(rig.csr(0x141) == 0x8000_0004)
    }

    @Test func satpModes() {
        let sv39: UInt64 = (8 << 60) | (0xABCD << 44) | 0x80400
        m.writeCSR(0x180, sv39)
        #expect(rig.csr(0x180) == sv39)
        m.writeCSR(0x180, (5 << 60) | 0x123)   // unsupported MODE: no effect at all
        #expect(rig.csr(0x180) == sv39)
        m.writeCSR(0x180, (9 << 60) | 0x80401)
        #expect(rig.csr(0x180) >> 60 == 9)
    }

    @Test func unimplementedAndReadOnlyCSRs() {
        #expect(m.readCSR(0x7C0) == nil)
        #expect(m.writeCSR(0xF14, 5) == false, "mhartid is read-only")
        #expect(m.readCSR(0x3A1) == nil, "odd pmpcfg registers do not exist in RV64")
        #expect(m.readCSR(0x3B0 + 40) == 0, "pmpaddr beyond the implemented entries reads zero")
    }

    @Test func counterAccessFromLowerModes() {
        m.setPrivilege(.supervisor)
        #expect(m.readCSR(0xC00, checked: true) == nil, "cycle hidden by mcounteren")
        m.writeCSR(0x306, 0b111)
        #expect(m.readCSR(0xC01, checked: true) != nil)
        m.setPrivilege(.user)
        #expect(m.readCSR(0xC01, checked: true) == nil, "time hidden by scounteren in U")
        m.writeCSR(0x106, 0b010)
        #expect(m.readCSR(0xC01, checked: true) != nil)
        #expect(m.readCSR(0xC02, checked: true) == nil)
        #expect(m.readCSR(0x300, checked: true) == nil, "U-mode cannot read mstatus")
        m.setPrivilege(.supervisor)
        #expect(m.readCSR(0x300, checked: true) == nil, "S-mode cannot read mstatus")
        #expect(m.readCSR(0x100, checked: true) != nil)
        m.writeCSR(0x300, 1 << 20)   // TVM
        #expect(m.readCSR(0x180, checked: true) == nil, "satp traps under TVM")
    }

    /// Illegal CSR accesses executed by a program raise illegal instruction with the bits in mtval.
    @Test(arguments: [
        ("csrr a0, mstatus", PrivilegeMode.supervisor),
        ("csrw cycle, a0", PrivilegeMode.machine),
        ("csrw mhartid, a0", PrivilegeMode.machine),
        ("csrr a0, 0x7c0", PrivilegeMode.machine),
        ("csrr a0, sstatus", PrivilegeMode.user),
        ("csrr a0, fcsr", PrivilegeMode.machine),   // FS = Off
    ])
    func illegalCSRInstruction(_ insn: String, _ mode: PrivilegeMode) throws {
        m.grantFullPMPAccess(hart: 0)
        try rig.start("\(insn)\n ebreak", mode: mode)
        #expect(rig.run(100) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == 2, "\(insn): mcause")
        #expect(rig.csr(0x341) == Layout.main)
        #expect(rig.csr(0x343) & 0x7F == 0x73, "mtval holds the instruction bits")
    }

    @Test func csrrsWithX0DoesNotWrite() throws {
        // Reading a read-only CSR with csrrs x0 is legal; csrrw is not.
        try rig.start("csrrs a0, mhartid, x0\n csrrs a1, cycle, zero\n ebreak")
        #expect(rig.run(100) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == 3, "reached the ebreak")
    }

    @Test func minstretWriteTakesEffectAfterTheInstruction() throws {
        try rig.start("""
            li t0, 100
            csrw minstret, t0
            csrr a0, minstret
            ebreak
        """)
        _ = rig.run(100)
        // A CSR write takes effect after the writing instruction has otherwise completed, so the
        // csrw's own retirement does not increment the value written, and csrr reads minstret
        // before it retires itself.
        #expect(rig.x(10) == 100)
    }
}
