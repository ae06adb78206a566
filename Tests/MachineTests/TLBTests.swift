import Testing
import Machine

// The TLB as a teaching object: exact hit/miss/walk counts, tagged vs untagged behaviour on satp
// writes, sfence.vma operand semantics, global entries, and its readable contents.

@Suite struct TLBTests {
    /// A rig with code identity-mapped by a global gigapage and data pages at 0x4000_0000 + n·4 KiB.
    static func rig(tagged: Bool = true, keepsGlobal: Bool = false, entries: Int = 64, ways: Int = 4) -> (Guest.Rig, PageTables) {
        let r = Guest.Rig { $0.tlb = TLBConfiguration(entries: entries, ways: ways, asidTagged: tagged, keepsGlobalEntries: keepsGlobal) }
        r.machine.grantFullPMPAccess(hart: 0)
        var pt = PageTables(r.machine)
        pt.map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad | PTEBits.g)
        for n in 0..<16 {
            pt.map(0x4000_0000 + UInt64(n) * 0x1000, to: 0x8020_0000 + UInt64(n) * 0x1000, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d)
        }
        return (r, pt)
    }

    @Test func exactCountsForRepeatedAccesses() throws {
        let (r, pt) = TLBTests.rig()
        try r.start("""
            li t0, 0x40000000
            li t1, 0x40001000
            ld a0, 0(t0)
            ld a0, 8(t0)
            sd a0, 16(t0)
            ld a0, 0(t1)
            ecall
        """, mode: .supervisor)
        r.machine.writeCSR(0x180, pt.satp)
        _ = r.run(100)
        let c = r.machine.counters().tlb
        #expect(c.loadMisses == 2, "one per data page")
        #expect(c.loadHits == 1)
        #expect(c.storeHits == 1)
        #expect(c.storeMisses == 0)
        #expect(c.fetchMisses == 1, "the code gigapage")
        // Every instruction fetched under translation is one lookup: 7 fetched (6 retired + ecall).
        #expect(c.fetchHits + c.fetchMisses == 7)
        #expect(c.walkReferences == 1 + 3 + 3, "the code gigapage is a root-level leaf (one read); three per 4 KiB page")
    }

    @Test func walkCountsAnADUpdateAsAReference() throws {
        let (r, pt) = TLBTests.rig()
        var t = pt
        t.map(0x4010_0000, to: 0x8030_0000, flags: PTEBits.r | PTEBits.w)   // A and D clear
        try r.start("li t0, 0x40100000\n sd a0, 0(t0)\n ecall", mode: .supervisor)
        r.machine.writeCSR(0x180, t.satp)
        _ = r.run(100)
        let c = r.machine.counters().tlb
        #expect(c.walkReferences == 1 + 3 + 1, "gigapage walk, data walk, and one PTE write-back")
    }

    /// A satp write flushes nothing from a tagged TLB; from an untagged one everything, or all but
    /// the global entries when it keeps them (x86's CR4.PGE): the global gigapage the code runs
    /// from then survives, the data page's entry does not.
    @Test(arguments: [(true, false), (false, false), (false, true)])
    func satpWriteFlushesOnlyUntaggedTLB(_ tagged: Bool, _ keepsGlobal: Bool) throws {
        let (r, pt) = TLBTests.rig(tagged: tagged, keepsGlobal: keepsGlobal)
        try r.start("""
            li t0, 0x40000000
            ld a0, 0(t0)
            csrr t1, satp
            csrw satp, t1
            ld a0, 0(t0)
            ecall
        """, mode: .supervisor)
        r.machine.writeCSR(0x180, pt.satp)
        _ = r.run(100)
        let c = r.machine.counters().tlb
        // The test's own satp write before starting counts too.
        #expect(c.satpFlushes == (tagged ? 0 : 2))
        #expect(c.loadMisses == (tagged ? 1 : 2))
        #expect(c.fetchMisses == (tagged || keepsGlobal ? 1 : 2), "the code page is refetched after a full flush")
    }

    @Test func sfenceVMAOperands() throws {
        let (r, pt) = TLBTests.rig()
        try r.start("""
            li t0, 0x40000000
            li t2, 0x40001000
            ld a0, 0(t0)
            ld a0, 0(t2)
            sfence.vma t0, zero          # drop one page
            ld a0, 0(t0)                 # miss
            ld a0, 0(t2)                 # hit
            li t1, 5
            sfence.vma zero, t1          # ASID 5: non-global entries of ASID 5 (ours is 0)
            ld a0, 0(t2)                 # still a hit: tagged TLB, different ASID
            sfence.vma zero, zero        # everything, even the global code page
            ld a0, 0(t2)                 # miss
            ecall
        """, mode: .supervisor)
        r.machine.writeCSR(0x180, pt.satp)
        _ = r.run(100)
        let c = r.machine.counters().tlb
        #expect(c.addressFlushes == 1 && c.asidFlushes == 1 && c.fullFlushes == 1)
        #expect(c.loadMisses == 4)
        #expect(c.loadHits == 2)
        #expect(c.fetchMisses == 2, "the global code page survives all but the full flush")
    }

    @Test func asidFlushSparesGlobalEntries() throws {
        let (r, pt) = TLBTests.rig()
        try r.start("""
            li t0, 0x40000000
            ld a0, 0(t0)
            li t1, 7
            sfence.vma zero, t1
            ld a0, 0(t0)
            ecall
        """, mode: .supervisor)
        r.machine.writeCSR(0x180, pt.satp(asid: 7))
        _ = r.run(100)
        let c = r.machine.counters().tlb
        #expect(c.loadMisses == 2, "the ASID-7 data entry went")
        #expect(c.fetchMisses == 1, "the global code entry stayed")
        let entries = r.machine.tlbEntries()
        #expect(entries.contains { $0.global && $0.level == 2 })
        #expect(entries.contains { $0.asid == 7 && !$0.global && $0.virtualAddress == 0x4000_0000 })
    }

    @Test func capacityAndFIFOReplacement() throws {
        // A 4-entry fully associative TLB touching 5 data pages in a loop misses every time.
        let (r, pt) = TLBTests.rig(entries: 4, ways: 4)
        try r.start("""
            li s0, 3
        1:  li t0, 0x40000000
            ld a0, 0(t0)
            li t0, 0x40001000
            ld a0, 0(t0)
            li t0, 0x40002000
            ld a0, 0(t0)
            li t0, 0x40003000
            ld a0, 0(t0)
            addi s0, s0, -1
            bnez s0, 1b
            ecall
        """, mode: .supervisor)
        r.machine.writeCSR(0x180, pt.satp)
        _ = r.run(1000)
        let c = r.machine.counters().tlb
        // 4 data pages + 1 code page in 4 entries, FIFO: every data access evicts something it will need.
        #expect(c.loadMisses == 12)
        #expect(c.evictions > 0)
        #expect(r.machine.tlbEntries().count == 4)
    }

    /// The fast path's soft TLB clears only the slots filled since its last flush, unless more
    /// were filled than it keeps track of: either way, after `sfence.vma` no page may still
    /// reach its old frame. 16 pages stay within the tracked slots, 200 overflow them.
    @Test(arguments: [16, 200])
    func sfenceLeavesNoStaleFastPathEntry(_ pages: Int) throws {
        let r = Guest.Rig()
        r.machine.grantFullPMPAccess(hart: 0)
        var pt = PageTables(r.machine)
        pt.map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad | PTEBits.g)
        var firstPTE: UInt64 = 0
        for n in 0..<pages {
            let frame = 0x8060_0000 + UInt64(n) * 0x1000
            pt.write(frame, UInt64(n) + 1)
            let pte = pt.map(0x4000_0000 + UInt64(n) * 0x1000, to: frame, flags: PTEBits.r | PTEBits.a)
            if n == 0 { firstPTE = pte }
        }
        pt.write(0x8070_0000, 0xABCD)
        try r.start("""
            li t0, 0x40000000
            li t1, \(pages)
            li t2, 0x1000
        1:  ld a0, 0(t0)             # every page once: a fast-path entry each
            add t0, t0, t2
            addi t1, t1, -1
            bnez t1, 1b
            li t0, 0x40000000
            ld a1, 0(t0)             # page 0 through its fast-path entry
            sd s1, 0(s0)             # page 0 now maps another frame
            sfence.vma
            ld a0, 0(t0)
            ecall
        """, mode: .supervisor)
        r.machine.writeCSR(0x180, pt.satp)
        r.machine.setRegister(8, firstPTE)                                          // s0
        r.machine.setRegister(9, ((0x8070_0000 >> 12) << 10) | PTEBits.r | PTEBits.a | 1)   // s1
        _ = r.run(10_000)
        #expect(r.x(11) == 1, "page 0's first frame, before the remap")
        #expect(r.x(10) == 0xABCD, "the new frame after sfence.vma")
    }

    @Test func hostFlushAndDeterminism() throws {
        func once() throws -> HartCounters {
            let (r, pt) = TLBTests.rig(entries: 8, ways: 2)
            try r.start("""
                li s0, 50
            1:  li t0, 0x40000000
                slli t1, s0, 12
                lui t2, 0xF
                and t1, t1, t2
                add t0, t0, t1
                ld a0, 0(t0)
                sd a0, 8(t0)
                addi s0, s0, -1
                bnez s0, 1b
                ecall
            """, mode: .supervisor)
            r.machine.writeCSR(0x180, pt.satp)
            _ = r.run(10_000)
            r.machine.flushTLB(hart: 0)
            return r.machine.counters()
        }
        let a = try once(), b = try once()
        #expect(a == b)
        #expect(a.tlb.hostFlushes == 1)
        #expect(a.tlb.misses > 0 && a.tlb.hits > 0)
    }
}
