import Testing
import Machine
import RISCV
@testable import Hypervisor

// Unshadowing after a write flood (ShadowPageTables+Unshadowing.swift): a guest table page that
// the guest keeps writing while no shadow fault uses its shadow stops being traced; one in use
// between the writes, and the root the hart runs, stay traced.
@Suite struct ShadowUnshadowingTests {
    typealias R = ShadowRig

    /// A second address space: its root maps only the kernel's superpage (the kernel writes it
    /// before any shadow mirrors it, so untraced).
    static let root2: UInt64 = 0x8010_4000
    static let enterSecondSpace = """
        li t3, \(root2 + 2 * 8)
        li t4, \(R.pte(R.l1Kernel, Sv39.v))
        sd t4, 0(t3)
        li t0, \(R.satp(root2))
        csrw satp, t0
        sfence.vma
        """
    static let backToFirstSpace = """
        li t0, \(R.satp(R.root))
        csrw satp, t0
        sfence.vma
        """

    /// The first space's L0, shadowed by a user access, is written sixteen times as memory while
    /// the second space runs: three writes are traced, then its shadow goes and the rest are
    /// plain stores. Back in the first space a walk mirrors it again, and a store is traced again.
    @Test(arguments: [3, 0]) func aTableOfACachedSpaceWrittenAsMemoryStopsBeingTraced(after: Int) throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0         # SUM: the kernel reaches the user page
            li t1, 0x40000000
            ld a2, 0(t1)             # shadows the first space's user tables
            \(Self.enterSecondSpace)
            li t3, \(R.l0User + 0x800)
            li t5, 16
            1: sd t5, 0(t3)
            addi t3, t3, 8
            addi t5, t5, -1
            bnez t5, 1b
            \(Self.backToFirstSpace)
            ld a3, 0(t1)             # a walk through the L0 again
            li t3, \(R.l0User + 0x800)
            sd zero, 0(t3)
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.shadow.unshadowAfter = after
        rig.buildTables()
        rig.write64(R.l0User, R.pte(0x8018_0000, Sv39.v | Sv39.r | Sv39.w | Sv39.u | Sv39.a | Sv39.d))
        rig.write64(0x8018_0000, 0xABCD)
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0, "no fault reached the guest")
        #expect(rig.x(12) == 0xABCD && rig.x(13) == 0xABCD)
        for i in 1..<16 { #expect(rig.read64(R.l0User + 0x800 + 8 * UInt64(i)) == 16 - UInt64(i)) }
        #expect(rig.read64(R.l0User + 0x800) == 0)
        let c = rig.shadow.counters
        if after == 0 {
            #expect(c.tracedWrites == 17)
            #expect(c.unshadowed == 0)
        } else {
            #expect(c.tracedWrites == 4, "three before the flood was seen, one after the page was a table again")
            #expect(c.unshadowed == 1)
        }
        #expect(rig.shadow.isWriteProtected(guestPhysical: R.l0User))
        #expect(rig.shadow.checkCoherence() == [])
    }

    /// The root of a cached address space written as memory: the flood drops that space's view,
    /// which the switch back rebuilds (and protects again).
    @Test func theRootOfACachedSpaceGoesWithItsView() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            \(Self.enterSecondSpace)
            li t3, \(R.root + 0x800)
            li t5, 8
            1: sd zero, 0(t3)
            addi t3, t3, 8
            addi t5, t5, -1
            bnez t5, 1b
            \(Self.backToFirstSpace)
            li t3, \(R.root + 0x800)
            sd zero, 0(t3)
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0)
        let c = rig.shadow.counters
        #expect(c.tracedWrites == 4)
        #expect(c.unshadowed == 1)
        #expect(rig.shadow.isWriteProtected(guestPhysical: R.root))
        #expect(rig.shadow.checkCoherence() == [])
    }

    /// A table the guest uses between its writes (each write followed by an access through it,
    /// as a kernel mapping pages on demand does), and the root the hart runs, are traced at
    /// every write.
    @Test func tablesInUseStayTraced() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0
            li t1, 0x40000000
            ld a2, 0(t1)
            li t6, 0x40001000
            li t3, \(R.l0User + 8)
            li t4, \(R.pte(0x8018_1000, Sv39.v | Sv39.r | Sv39.w | Sv39.u | Sv39.a | Sv39.d))
            li t5, 8
            1: sd t4, 0(t3)             # maps VA 0x40001000 (again)
            sfence.vma
            ld a3, 0(t6)             # and uses it: a shadow fault through the L0
            addi t5, t5, -1
            bnez t5, 1b
            li t3, \(R.root + 0x800)
            li t5, 8
            2: sd zero, 0(t3)           # the running root, written as memory
            addi t3, t3, 8
            addi t5, t5, -1
            bnez t5, 2b
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.write64(R.l0User, R.pte(0x8018_0000, Sv39.v | Sv39.r | Sv39.w | Sv39.u | Sv39.a | Sv39.d))
        rig.write64(0x8018_1000, 0x5678)
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0)
        #expect(rig.x(13) == 0x5678)
        let c = rig.shadow.counters
        #expect(c.tracedWrites == 16)
        #expect(c.unshadowed == 0)
        #expect(rig.shadow.checkCoherence() == [])
    }
}
