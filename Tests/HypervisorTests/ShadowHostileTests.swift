import Testing
import Machine
import RISCV
@testable import Hypervisor

// Guests that attack their own shadows: stores to their page tables in every width and atomic
// form, tables naming memory outside the VM, a root outside the VM, and satp switches beyond the
// shadow cache. None may crash the host, reach outside the VM, or leave a stale shadow entry.
@Suite struct ShadowHostileTests {
    typealias R = ShadowRig
    static let urw = Sv39.v | Sv39.r | Sv39.w | Sv39.u

    @Test func storesToOwnTablesInEveryPattern() throws {
        let p = { (i: UInt64) in R.pte(0x8018_0000 + i * 0x1000, Self.urw) }
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0         # SUM
            li t0, 0x2000
            csrs sstatus, t0         # FS = Initial
            li t1, 0x40000000
            ld a0, 0(t1)             # a shadow now mirrors the guest's L0: it is write-protected
            li t3, 0x80102000
            ld a0, 0(t3)             # a load first: the table page is filled read-only
            li t4, \(p(0))
            sd t4, 0(t3)             # sd
            li t4, \(p(1))
            sw t4, 8(t3)             # two sw
            srli t5, t4, 32
            sw t5, 12(t3)
            li t4, \(p(2))
            sh t4, 16(t3)            # four sh
            srli t5, t4, 16
            sh t5, 18(t3)
            srli t5, t4, 32
            sh t5, 20(t3)
            srli t5, t4, 48
            sh t5, 22(t3)
            li t5, 0x17
            sb t5, 24(t3)            # sb: sets V|R|W|U in a preset entry 3
            li t5, 1
            addi t6, t3, 32
            amoor.d a5, t5, (t6)     # amoor.d: sets V of entry 4
            li t4, \(p(5) & 0xFFFF_FFFF)
            addi t6, t3, 40
            amoswap.w a6, t4, (t6)   # amoswap.w: the low word of entry 5
            li t4, \(p(6))
            addi t6, t3, 48
            1: lr.d a7, (t6)
            sc.d t5, t4, (t6)
            bnez t5, 1b
            li t4, \(p(7))
            fmv.d.x ft0, t4
            fsd ft0, 56(t3)          # fsd
            li t4, \(p(8))
            sd t4, 68(t3)            # misaligned: half of entry 8, half of entry 9 (garbage)
            sd zero, 72(t3)          # entry 9 invalid again
            sd t4, 64(t3)            # entry 8 whole
            sfence.vma
            li t1, 0x40000000
            li s1, 0
            li s2, 9
            li s3, 1
            2: sd s3, 0(t1)
            ld s4, 0(t1)
            add s1, s1, s4
            li s5, 0x1000
            add t1, t1, s5
            addi s3, s3, 1
            addi s2, s2, -1
            bnez s2, 2b
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.write64(R.l0User, p(0))
        rig.write64(R.l0User + 24, p(3) & ~0xFF)                  // entry 3 without its flags
        rig.write64(R.l0User + 32, p(4) & ~Sv39.v)                // entry 4 without V
        rig.write64(R.l0User + 40, p(5) & 0xFFFF_FFFF_0000_0000)  // entry 5: high word only
        // Several stores in a row to the table, none followed by a walk through it, would be a
        // write flood that unshadows it (ShadowUnshadowingTests): every store is traced here.
        rig.shadow.unshadowAfter = 0
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0, "no fault reached the guest")
        #expect(rig.x(9) == 45, "each of the nine pages holds its own value")
        for i in 0..<9 as Range<UInt64> {
            #expect(rig.read64(0x8018_0000 + i * 0x1000) == i + 1)
            #expect(rig.read64(R.l0User + i * 8) & ~(Sv39.a | Sv39.d) == p(i), "entry \(i)")
        }
        #expect(rig.x(15) == p(4) & ~Sv39.v, "amoor.d returned the old entry")
        // 1 + 2 + 4 + 1 + 1 + 1 + 1 + 1 + 3 stores to the table page, every one traced.
        #expect(rig.shadow.counters.tracedWrites == 15)
        #expect(rig.shadow.checkCoherence() == [])
    }

    @Test func tablesNamingMemoryOutsideTheVM() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0
            li t2, 0xDEADBEEF
            li t1, 0x40000000
            sd t2, 0(t1)             # → the VMM's shadow pool
            li t1, 0x40001000
            ld a0, 0(t1)             # → nothing at all
            li t1, 0x40002000
            sd t2, 0(t1)             # → a device address the VM has no device at
            li t1, 0x40003000
            ld a1, 0(t1)             # a misaligned superpage is the guest's own page fault
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.write64(R.l0User, R.pte(R.poolBase, Self.urw))
        rig.write64(R.l0User + 8, R.pte(0x9000_0000, Self.urw))
        rig.write64(R.l0User + 16, R.pte(0x1000_0000, Self.urw))
        rig.write64(R.l1User + 8, R.pte(0x8000_1000, Self.urw))  // VA 0x40200000: 2 MiB leaf, misaligned
        rig.write64(R.l0User + 24, 0)
        let poolBefore = rig.machine.readPhysical(at: R.poolBase, count: 1 << 20)!
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0x0705_070D, "store access fault, load access fault, store access fault, load page fault")
        let pool = rig.machine.readPhysical(at: R.poolBase, count: 1 << 20)!
        #expect(!stride(from: 0, to: pool.count, by: 8).contains { i in
            (0..<4).allSatisfy { pool[i + $0] == [0xEF, 0xBE, 0xAD, 0xDE][$0] }
        }, "the guest's value never reached the pool")
        _ = poolBefore
        #expect(rig.shadow.checkCoherence() == [])
    }

    @Test func rootOutsideTheVMCannotEscape() throws {
        let rig = try ShadowRig("""
            la t0, handler
            csrw stvec, t0
            li t0, \(R.satp(R.poolBase))
            csrw satp, t0
            sfence.vma
            li a0, 1
            \(R.shutdown)
            handler:
            j handler
            """)
        rig.start()
        let stop = rig.run(2_000)
        #expect(stop == .budgetExhausted)
        #expect((rig.monitor.counters.reflectedByCause["instruction_access_fault"] ?? 0) > 10,
                "every fetch through a root outside the VM is an access fault for the guest")
        #expect(rig.x(10) == 0)
        #expect(rig.shadow.checkCoherence() == [])
    }

    @Test(arguments: [(8, UInt64(1) << 20), (2, UInt64(1) << 20), (1, UInt64(1) << 20), (8, UInt64(16) << 12)])
    func satpSwitchesBeyondTheCacheEvict(capacity: Int, poolSize: UInt64) throws {
        // Three address spaces (roots at 0x80110000, 0x80120000, 0x80130000), each mapping VA
        // 0x40000000 to its own page; the guest cycles through them with a cache of two.
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0
            la s1, roots
            li s2, 12                # 12 switches
            li s3, 0
            li t1, 0x40000000
            1: andi t0, s3, 3
            li t2, 3
            bne t0, t2, 2f
            li s3, 0
            li t0, 0
            2: slli t0, t0, 3
            add t0, t0, s1
            ld t0, 0(t0)
            csrw satp, t0
            ld t2, 0(t1)
            add s4, s4, t2
            addi s3, s3, 1
            addi s2, s2, -1
            bnez s2, 1b
            \(R.shutdown)
            .align 3
            roots:
            .dword \(R.satp(0x8011_0000, asid: 1)), \(R.satp(0x8012_0000, asid: 2)), \(R.satp(0x8013_0000, asid: 3))
            \(R.logAndSkip)
            """, capacity: capacity, poolSize: poolSize)
        rig.buildTables()
        for k in 1...3 as ClosedRange<UInt64> {
            let root = 0x8010_0000 + k * 0x10000
            rig.write64(root + 2 * 8, R.pte(R.l1Kernel, Sv39.v))   // share the kernel half
            rig.write64(root + 8, R.pte(root + 0x1000, Sv39.v))
            rig.write64(root + 0x1000, R.pte(root + 0x2000, Sv39.v))
            rig.write64(root + 0x2000, R.pte(0x8018_0000 + k * 0x1000, Self.urw))
            rig.write64(0x8018_0000 + k * 0x1000, k * 100)
        }
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(20) == 4 * (100 + 200 + 300), "every switch saw its own address space")
        // Three address spaces need room for three: a cache of two, or a pool of 16 pages, evicts.
        #expect((rig.shadow.counters.evictions > 0) == (capacity < 3 || poolSize < 1 << 20))
        #expect(rig.shadow.counters.shadowPages <= poolSize / 4096)
        #expect(rig.shadow.counters.satpSwitches >= 12)
        #expect(rig.shadow.checkCoherence() == [])
    }

    /// A guest that makes a new address space over and over (a new ASID each time, more than the
    /// cache holds) has its kernel superpage refilled in every new shadow, each fill listing the
    /// 512 entries that map the superpage's pages writable. The lists of entries mapping a page
    /// writable drop stale entries when they fill up, so they stay near what is live (a shadow
    /// each in the cache) instead of growing with every address space ever made.
    @Test func writableMappingListsStayBoundedAcrossAddressSpaces() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li s1, 300
            li s2, 0x8000000000080100
            li s3, 1 << 44
            li s4, 0x80008000
            1: add s2, s2, s3
            csrw satp, s2
            sd s1, 0(s4)
            addi s1, s1, -1
            bnez s1, 1b
            \(R.shutdown)
            \(R.logAndSkip)
            """, capacity: 8)
        rig.buildTables()
        rig.start()
        #expect(rig.run(1_000_000) == .hostStop("shutdown"))
        #expect(rig.shadow.counters.evictions >= 290)
        let page = UInt64(0x8000_8000) >> 12
        let listed = rig.shadow.writableMappings.count(page: page)
        #expect(listed >= 8 && listed <= 2 * 64, "\(listed) entries listed for the page")
        #expect(rig.shadow.checkCoherence() == [])
    }

    /// When the pool cannot hold the other view's root, `load` drops the view being left: its
    /// entries in the hart's TLB (under a machine ASID the next tree for that view reuses) must go
    /// with it, or they would outlive the write protection the next tree puts in place.
    @Test func droppingTheOtherViewForRoomFlushesItsTLBEntries() throws {
        // The guest kernel fills exactly the 16-page pool: root, the L1 mirror and a split L0 for
        // its code, the L1 and L0 mirrors of its user mapping (touched with SUM), and 11 split L0s
        // for aliases of its superpage. Then it drops to U, whose root does not fit.
        let rig = try ShadowRig("""
            la t0, handler
            csrw stvec, t0
            li t0, 0x8000000000080100
            csrw satp, t0
            sfence.vma
            li t0, 0x40000
            csrs sstatus, t0
            li t1, 0x40000000
            ld t2, 0(t1)
            li t1, 0x80200000
            li t3, 11
            li t4, 0x200000
            1: ld t2, 0(t1)
            add t1, t1, t4
            addi t3, t3, -1
            bnez t3, 1b
            li t0, 0x100
            csrc sstatus, t0
            li t0, 0x40000000
            csrw sepc, t0
            sret
            .align 2
            handler:
            \(R.shutdown)
            """, capacity: 1, poolSize: 16 << 12)
        rig.buildTables()
        for k in 1...11 as ClosedRange<UInt64> { rig.write64(R.l1Kernel + k * 8, R.pte(R.guestBase, R.kernelRWX)) }
        rig.write64(R.l0User, R.pte(0x8015_0000, Sv39.v | Sv39.r | Sv39.x | Sv39.u))
        rig.write64(0x8015_0000, 0x73)   // the guest user's one instruction: ecall
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.shadow.counters.pagesAllocated > 16, "the user view's root took a page of the kernel view's")
        #expect(rig.shadow.counters.evictions == 1, "only the bare address space the guest started in")
        #expect(rig.shadow.checkCoherence() == [])
    }
}
