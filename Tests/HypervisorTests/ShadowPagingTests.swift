import Testing
import Machine
import RISCV
@testable import Hypervisor

// Shadow paging under a deprivileged guest kernel: lazy fills, A/D emulation, ring compression,
// traced writes, true faults reflected, coherence.
@Suite struct ShadowPagingTests {
    typealias R = ShadowRig

    /// The monitor reads a trapped instruction through the guest's own tables: a 32-bit one that
    /// crosses a page takes its upper half from the next page's frame (here not the next machine
    /// page); a compressed one at a page's end never needs the next page, mapped or not.
    @Test func fetchesAnInstructionAcrossAPageThroughTheGuestsTables() throws {
        let rig = try ShadowRig("\(R.prologue)\n\(R.shutdown)\n\(R.logAndSkip)")
        rig.buildTables()
        let code = Sv39.v | Sv39.r | Sv39.x | Sv39.a             // the guest kernel's (no U)
        rig.write64(R.l0User, R.pte(0x8018_1000, code))          // VA 0x4000_0000
        rig.write64(R.l0User + 8, R.pte(0x8018_0000, code))      // VA 0x4000_1000: the frame before
        let csrr: UInt32 = 0x1000_2573                            // csrr a0, sstatus
        rig.machine.loadPhysical([0x01, 0x00, 0x73, 0x25], at: 0x8018_1ffc)   // c.nop, then csrr's low half
        rig.machine.loadPhysical([0x00, 0x10], at: 0x8018_0000)               // csrr's high half
        rig.start()
        rig.run()
        #expect(rig.exitCode == 0)
        let crossing = try #require(rig.shadow.fetchInstruction(at: 0x4000_0ffe))
        #expect(crossing.raw == csrr && crossing.opcode == .csrrs && crossing.length == 4)
        #expect(rig.shadow.fetchInstruction(at: 0x4000_0ffc)?.length == 2)
        rig.write64(R.l0User + 8, 0)                              // unmap the second page
        #expect(rig.shadow.fetchInstruction(at: 0x4000_0ffe) == nil)
        #expect(rig.shadow.fetchInstruction(at: 0x4000_0ffc)?.opcode == .addi, "c.nop needs no second page")
    }

    @Test func fillsTracesAndReflects() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li t1, 0x40000000
            li t2, 0x12345
            sd t2, 0(t1)             # a user page without SUM: a true fault (store page fault)
            li t0, 0x40000
            csrs sstatus, t0         # SUM
            sd t2, 0(t1)             # now a hidden fault, sets A and D in the guest's PTE
            ld a2, 0(t1)
            li t3, 0x80102008        # the guest writes its own L0 (a traced write)
            li t4, \(R.pte(0x8018_1000, Sv39.v | Sv39.r | Sv39.w | Sv39.u))
            sd t4, 0(t3)
            sfence.vma
            li t5, 0x40001000
            ld a3, 0(t5)             # a load: sets A only
            li t3, 0x80102000
            sd zero, 0(t3)           # unmaps VA 0x40000000
            sfence.vma
            ld a4, 0(t1)             # a true fault again (load page fault)
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.write64(R.l0User, R.pte(0x8018_0000, Sv39.v | Sv39.r | Sv39.w | Sv39.u))
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0x0F0D, "a store page fault, then a load page fault, reflected")
        #expect(rig.x(12) == 0x12345)
        #expect(rig.read64(0x8018_0000) == 0x12345)
        #expect(rig.read64(R.l0User) == 0, "the traced write reached the guest's table")
        let pte1 = rig.read64(R.l0User + 8)
        #expect(pte1 & (Sv39.a | Sv39.d) == Sv39.a, "a load sets A, not D")
        let c = rig.shadow.counters
        #expect(c.tracedWrites == 2)
        #expect(c.trueFaults == 2)
        #expect(c.hiddenFaults > 0)
        #expect(c.satpSwitches >= 1)
        #expect(rig.monitor.counters.tracedWrites == 2)
        #expect(rig.monitor.counters.exceptionsReflected == 2)
        #expect(rig.shadow.isWriteProtected(guestPhysical: R.l0User))
        #expect(rig.shadow.isWriteProtected(guestPhysical: R.root))
        #expect(!rig.shadow.isWriteProtected(guestPhysical: 0x8018_0000))
        #expect(rig.shadow.checkCoherence() == [])
    }

    @Test func dirtyBitIsEmulatedByTrappingTheFirstStore() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0
            li t1, 0x40000000
            ld a0, 0(t1)
            li a1, 0x5A
            sd a1, 8(t1)
            ld a2, 8(t1)
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.write64(R.l0User, R.pte(0x8018_0000, Sv39.v | Sv39.r | Sv39.w | Sv39.u))
        rig.start()
        var loads: [UInt64] = []
        rig.monitor.onEvent = { e in if e.kind == .shadowFault && e.address == 0x4000_0000 { loads.append(e.address!) } }
        var sawStoreFault = false
        let old = rig.monitor.onEvent
        rig.monitor.onEvent = { e in
            old?(e)
            if e.kind == .shadowFault && e.address == 0x4000_0008 && e.cause == "store_page_fault" { sawStoreFault = true }
        }
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(12) == 0x5A && rig.x(8) == 0)
        #expect(loads.count == 1, "the load filled a read-only entry")
        #expect(sawStoreFault, "the first store to a clean page is a hidden fault that sets D")
        #expect(rig.read64(R.l0User) & (Sv39.a | Sv39.d) == Sv39.a | Sv39.d)
        let shadow = rig.shadow.walk(.shadow, va: 0x4000_0000)
        #expect(shadow.steps.count == 3)
        if case .translated(let pa, let leaf, let level) = shadow.result {
            #expect(pa == 0x8018_0000 && level == 0)
            #expect(leaf & (Sv39.u | Sv39.w | Sv39.r) == Sv39.u | Sv39.w | Sv39.r)
            #expect(leaf & Sv39.x == 0, "the guest kernel never executes user pages")
        } else {
            Issue.record("no shadow translation: \(shadow)")
        }
        // Under the guest's kernel superpage one fault filled the whole 2 MiB: a page never
        // touched is present, and the guest's page-table pages in it are read-only.
        #expect(rig.shadow.walk(.shadow, va: 0x8001_F000, view: .kernel).physical == 0x8001_F000)
        if case .translated(_, let leaf, _) = rig.shadow.walk(.shadow, va: R.l0User, view: .kernel).result {
            #expect(leaf & Sv39.w == 0 && leaf & Sv39.r != 0)
        } else {
            Issue.record("the kernel's view of its own page table is missing")
        }
        let guest = rig.shadow.walk(.guest, va: 0x4000_0000)
        #expect(guest.steps.map(\.pteAddress) == [R.root + 8, R.l1User, R.l0User])
        #expect(guest.physical == 0x8018_0000)
        #expect(rig.shadow.checkCoherence() == [])
    }

    @Test func ringCompressionKeepsKernelPagesFromGuestUser() throws {
        // The guest kernel maps a user code page and enters its user mode; user code reads a kernel
        // page (the guest's own protection must fault), then makes a system call.
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000000
            csrw sepc, t0
            li t0, 0x100
            csrc sstatus, t0
            sret
            kernel_back:
            \(R.shutdown)
            .align 2
            handler:
            csrr t6, scause
            slli s0, s0, 8
            or s0, s0, t6
            li t5, 8
            beq t6, t5, kernel_back
            csrr t6, sepc
            addi t6, t6, 4
            csrw sepc, t6
            sret
            .align 12
            user:
            li a0, 0x80000000
            ld a1, 0(a0)             # a kernel page: fault in the guest's own view
            li a7, 99
            ecall
            """)
        rig.buildTables()
        rig.write64(R.l0User, R.pte(rig.symbol("user"), Sv39.v | Sv39.r | Sv39.x | Sv39.u))
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0x0D08, "load page fault from user, then ecall_u")
        #expect(rig.monitor.counters.reflectedByCause["load_page_fault"] == 1)
        #expect(rig.monitor.counters.reflectedByCause["ecall_u"] == 1)
        // The user view never gained the kernel page.
        #expect(rig.shadow.walk(.shadow, va: 0x8000_0000, view: .user).physical == nil)
        #expect(rig.shadow.walk(.shadow, va: 0x4000_0000, view: .user).physical == rig.symbol("user"))
        #expect(rig.shadow.checkCoherence() == [])
    }

    @Test func mxrMakesExecuteOnlyPagesReadable() throws {
        let rig = try ShadowRig("""
            \(R.prologue)
            li t0, 0x40000
            csrs sstatus, t0         # SUM
            li t1, 0x40000000
            ld a0, 0(t1)             # execute-only: a load page fault
            li t0, 0x80000
            csrs sstatus, t0         # MXR
            ld a1, 0(t1)             # now readable
            csrc sstatus, t0
            ld a2, 0(t1)             # and not again
            \(R.shutdown)
            \(R.logAndSkip)
            """)
        rig.buildTables()
        rig.write64(R.l0User, R.pte(0x8018_0000, Sv39.v | Sv39.x | Sv39.u))
        rig.write64(0x8018_0000, 0x77)
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 0x0D0D, "faults without MXR, before and after")
        #expect(rig.x(11) == 0x77)
        #expect(rig.shadow.checkCoherence() == [])
    }

    /// With satp Bare there is no U/S page protection: the guest's user mode reaches all of its
    /// memory (a fuzzed guest found the user view mapping nothing, then a permissionless entry).
    @Test func bareUserModeReachesItsMemory() throws {
        let rig = try ShadowRig("""
            la t0, handler
            csrw stvec, t0
            la t0, user
            csrw sepc, t0
            sret
            user:
            li t1, 0x80180000
            ld a1, 0(t1)
            sd a1, 8(t1)
            ecall
            .align 2
            handler:
            csrr s0, scause
            \(R.shutdown)
            """)
        rig.write64(0x8018_0000, 0x4242)
        rig.start()
        #expect(rig.run() == .hostStop("shutdown"))
        #expect(rig.x(8) == 8, "the user program's ecall")
        #expect(rig.x(11) == 0x4242 && rig.read64(0x8018_0008) == 0x4242)
        if case .translated(_, let leaf, _) = rig.shadow.walk(.shadow, va: 0x8018_0000, view: .user).result {
            #expect(leaf & (Sv39.r | Sv39.w) == Sv39.r | Sv39.w)
        } else {
            Issue.record("no user-view entry")
        }
        #expect(rig.shadow.checkCoherence() == [])
    }
}
