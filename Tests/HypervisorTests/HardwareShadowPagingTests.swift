import Boot
import GuestTestSupport
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// `hw` with shadow paging (shadow-on-hw, VT-x before EPT): the kernel in VS-mode on the VMM's
/// shadow tables, the G stage off; page faults, satp accesses, fences, page-table stores and
/// device accesses exit.
@Suite struct HardwareShadowPagingTests {
    static func configuration(_ source: String) throws -> GuestConfiguration {
        var c = try TestKernels.configuration(source, mode: .hw)
        c.hardwarePolicy.paging = .shadow
        return c
    }

    @Test func runsTheTestKernelLikeNative() throws {
        let native = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .native))
        defer { native.close() }
        let hw = try Guest(Self.configuration(TestKernels.hello()))
        defer { hw.close() }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(hw.consoleText == native.consoleText)
        #expect(hw.instructions == native.instructions, "the guest runs the same instructions")
        let m = hw.machine
        #expect(m.readCSR(RISCV.CSR.hgatp) == 0, "the G stage is Bare")
        let vsatp = try #require(m.readCSR(RISCV.CSR.vsatp))
        let memory = hw.board.configuration.memory
        #expect(vsatp >> 60 == 8, "a shadow (Sv39) even while the guest runs bare")
        #expect((vsatp & ((1 << 44) - 1)) << 12 >= m.configuration.ramBase + memory, "in the hidden shadow pool")
        #expect(m.configuration.ramSize == memory + TrapTechnique.shadowPoolSize)
        let vmm = try #require(hw.hardwareVMM)
        #expect(vmm.guestSATP(hart: 0) == 0)
        // The UART read is an access fault (PMP), not a guest-page fault; the kernel's first
        // touches of its pages are hidden faults.
        let exits = hw.statistics().exits
        #expect(exits["ecall_vs"] == 7 && exits["load_access_fault"] == 1)
        #expect(exits["load_guest_page_fault"] == nil)
        #expect(vmm.counters.deviceEmulated == 1)
        #expect(vmm.counters.shadowFaults > 0 && vmm.counters.shadowFaults == (exits["instruction_page_fault"] ?? 0)
                    + (exits["load_page_fault"] ?? 0) + (exits["store_page_fault"] ?? 0))
        let account = hw.technique.account(hw)
        #expect(account.count(.shadowFault) == vmm.counters.shadowFaults)
        #expect(account.chargedCycles + account.waitedCycles == m.cycles, "the account reproduces the clock")
        #expect(hw.technique.counters(hw)["shadow"]?["hidden_faults"] == vmm.counters.shadowFaults)
        #expect(vmm.shadow?.checkCoherence() == [])
    }

    /// The guest keeps its privileges on the shadow: U-mode may not touch a supervisor page, the
    /// kernel may not touch a user page without SUM nor ever execute one, and reads an
    /// execute-only page only with MXR: every refusal is the guest's own page fault, as natively.
    @Test func theGuestsPrivilegesAreTheHardwaresToCheck() throws {
        // root (0x80300000) → level 1 (0x80301000) → level 0 (0x80302000) covering 0x40000000:
        // page 0 a kernel data page, page 1 a user data page, page 2 execute-only (kernel), page
        // 3 the user's code (a copy of `user`). The kernel's own code stays reachable through a
        // 1 GiB identity leaf at root[2] (0x80000000).
        let kernel = """
            .option norvc
            _start:
                la t0, trap
                csrw stvec, t0
                li s1, 0                 # the log: each trap's cause, 4 bits apiece
                li t0, 0x80300000
                li t1, 0x80301000
                srli t2, t1, 12
                slli t2, t2, 10
                ori t2, t2, 1
                sd t2, 8(t0)             # root[1] → level 1
                li t2, 0x200000CF        # root[2]: 1 GiB at 0x80000000, V R W X A D
                sd t2, 16(t0)
                li t1, 0x80302000
                srli t2, t1, 12
                slli t2, t2, 10
                ori t2, t2, 1
                li t0, 0x80301000
                sd t2, 0(t0)             # level 1[0] → level 0
                li t0, 0x80302000
                li t2, 0x200C40C7        # page 0 → 0x80310000: V R W A D (kernel)
                sd t2, 0(t0)
                li t2, 0x200C44D7        # page 1 → 0x80311000: V R W U A D (user)
                sd t2, 8(t0)
                li t2, 0x200C48C9        # page 2 → 0x80312000: V X A D (kernel, execute-only)
                sd t2, 16(t0)
                li t2, 0x200C4CDB        # page 3 → 0x80313000: V R X U A D (user code)
                sd t2, 24(t0)
                la t1, user              # copy the user code (8 words) to 0x80313000
                li t2, 0x80313000
                li t3, 8
            1:  lw t4, 0(t1)
                sw t4, 0(t2)
                addi t1, t1, 4
                addi t2, t2, 4
                addi t3, t3, -1
                bnez t3, 1b
                fence.i
                li t0, 0x8000000000080300
                csrw satp, t0
                sfence.vma
                li t1, 0x40001000
                ld a0, 0(t1)             # kernel → user page, SUM clear: load page fault (13)
                li t0, 0x40000
                csrs sstatus, t0
                ld a0, 0(t1)             # with SUM: allowed
                li t1, 0x40003000
                jalr t1                  # kernel fetch from a user page: fetch page fault (12)
                li t1, 0x40002000
                ld a0, 0(t1)             # execute-only, MXR clear: load page fault (13)
                li t0, 0x80000
                csrs sstatus, t0
                ld a0, 0(t1)             # with MXR: allowed
                li t0, 0x100
                csrc sstatus, t0         # SPP = U
                li t0, 0x40003000
                csrw sepc, t0
                sret                     # into the user code
            trap:
                csrr t5, scause
                slli s1, s1, 4
                or s1, s1, t5
                li t6, 8
                beq t5, t6, done         # the user's ecall: finished
                li t6, 12
                bne t5, t6, 2f
                mv t6, ra                # a fetch fault: return to the caller
                csrw sepc, t6
                sret
            2:  csrr t6, sepc
                addi t6, t6, 4
                csrw sepc, t6
                sret
            done:
                li a0, 0
                li a7, 0x53525354
                li a6, 0
                li a1, 0
                ecall
            .align 4
            user:
                li t1, 0x40000000
                ld a0, 0(t1)             # user → kernel page: load page fault (13)
                li t1, 0x40001000
                sd a0, 0(t1)             # user → user page: allowed
                ecall                    # 8
                nop
                nop
                nop
            """
        var outcomes: [String: (StopReason, UInt64)] = [:]
        for (name, paging) in [("native", nil), ("hw", HardwarePaging.nested), ("hw-shadow", .shadow)] as [(String, HardwarePaging?)] {
            var c = try TestKernels.configuration(kernel, mode: paging == nil ? .native : .hw)
            if let paging { c.hardwarePolicy.paging = paging }
            let g = try Guest(c)
            defer { g.close() }
            let stop = g.run(maxInstructions: 100_000)
            outcomes[name] = (stop, g.machine.register(9, hart: 0))
        }
        // 13 (kernel → user, no SUM), 12 (kernel fetch of a user page), 13 (execute-only, no
        // MXR), 13 (user → kernel page), 8 (the user's ecall).
        #expect(outcomes["native"]?.1 == 0xDCDD8)
        for name in ["hw", "hw-shadow"] {
            #expect(outcomes[name]?.0 == outcomes["native"]?.0, "\(name)")
            #expect(outcomes[name]?.1 == outcomes["native"]?.1, "\(name)")
        }
    }

    /// Two vCPUs, each in an address space of its own (hart 1 started by the SBI's HSM, on the
    /// shadow of the bare address space until it writes satp): the same virtual address reads
    /// each hart's own page, as natively and under nested paging.
    @Test func severalVCPUsEachRunTheirOwnAddressSpace() throws {
        // Two roots (0x80300000, 0x80301000), each with an identity gigapage at 0x80000000 and
        // VA 0x40000000 mapped to a page of its own: 0x80310000 (holding 0x11) or 0x80311000 (0x22).
        func table(root: UInt64, l1: UInt64, l0: UInt64, page: UInt64) -> String {
            """
                li t0, \(root)
                li t1, 0x200000CF
                sd t1, 16(t0)
                li t1, \((l1 >> 12) << 10 | 1)
                sd t1, 8(t0)
                li t0, \(l1)
                li t1, \((l0 >> 12) << 10 | 1)
                sd t1, 0(t0)
                li t0, \(l0)
                li t1, \((page >> 12) << 10 | 0xC7)
                sd t1, 0(t0)
            """
        }
        let kernel = """
            .option norvc
            _start:
            \(table(root: 0x8030_0000, l1: 0x8030_2000, l0: 0x8030_3000, page: 0x8031_0000))
            \(table(root: 0x8030_1000, l1: 0x8030_4000, l0: 0x8030_5000, page: 0x8031_1000))
                li t0, 0x80310000
                li t1, 0x11
                sd t1, 0(t0)
                li t0, 0x80311000
                li t1, 0x22
                sd t1, 0(t0)
                li a7, 0x48534D          # SBI HSM hart_start(1, second, 0)
                li a6, 0
                li a0, 1
                la a1, second
                li a2, 0
                ecall
                li t0, 0x8000000000080300
                csrw satp, t0
                sfence.vma
                li t0, 0x40000000
                ld s2, 0(t0)             # this hart's page
                li t0, 0x80320000
            1:  ld s3, 0(t0)             # what hart 1 read, once it has
                beqz s3, 1b
                li a0, 0
                li a1, 0
                li a7, 0x53525354
                li a6, 0
                ecall
            second:
                li t0, 0x8000000000080301
                csrw satp, t0
                sfence.vma
                li t0, 0x40000000
                ld t1, 0(t0)
                li t0, 0x80320000
                sd t1, 0(t0)
            2:  j 2b
            """
        for paging in [nil, HardwarePaging.nested, .shadow] {
            var c = try TestKernels.configuration(kernel, mode: paging == nil ? .native : .hw)
            c.board.harts = 2
            if let paging { c.hardwarePolicy.paging = paging }
            let g = try Guest(c)
            defer { g.close() }
            #expect(g.run(maxInstructions: 200_000) == .poweredOff(code: 0), "\(paging.map { "\($0)" } ?? "native")")
            #expect(g.machine.register(18, hart: 0) == 0x11 && g.machine.register(19, hart: 0) == 0x22,
                    "\(paging.map { "\($0)" } ?? "native")")
            if paging == .shadow {
                let vmm = try #require(g.hardwareVMM)
                #expect(vmm.guestSATP(hart: 0) == 0x8000_0000_0008_0300 && vmm.guestSATP(hart: 1) == 0x8000_0000_0008_0301)
                #expect(vmm.shadow?.checkCoherence() == [])
                // Each vCPU's account holds what its own clock paid, the shadow's TLB flushes made
                // for it (hart 1's sfence.vma) included: nothing charged twice, nothing on another's.
                for vcpu in 0..<2 {
                    let account = g.technique.account(g, vcpu: vcpu)
                    #expect(account.chargedCycles <= g.machine.counters(hart: vcpu).cycles, "vCPU \(vcpu)")
                    #expect(account.count(.tlbFlush) > 0, "vCPU \(vcpu)")
                }
            }
        }
        // The shadow cache keeps every vCPU's address space: at least one per vCPU.
        var small = try Self.configuration(kernel)
        small.board.harts = 2
        small.shadowPolicy.capacity = 1
        #expect(throws: GuestBuildError("hw with paging = 'shadow' caches at least one address space per vCPU: shadow capacity 1 is less than the 2 harts")) {
            try Guest(small)
        }
    }

    /// Several vCPUs whose address spaces' trees fill the shadow pool: the hart that needs a page
    /// drops every tree (its own and the other harts'), reloads every hart and fills again —
    /// slower, never a host crash, and coherent.
    @Test func aPoolFullOfOtherHartsTreesIsStartedOver() throws {
        var c = MachineConfiguration()
        c.harts = 2
        c.hypervisorExtension = true
        c.ramSize = 4 << 20
        let m = Machine(c)
        func write64(_ a: UInt64, _ v: UInt64) {
            m.loadPhysical((0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }, at: a)
        }
        // Two guest address spaces (roots 0x80100000 and 0x80110000), each mapping the first
        // page of twelve 2 MiB regions from VA 0x40000000 through twelve level-0 tables: a fill
        // in each region needs a shadow level-0 table of its own.
        for (root, base) in [(UInt64(0x8010_0000), UInt64(0x8010_1000)), (0x8011_0000, 0x8011_1000)] {
            let l1 = base
            write64(root + 8, Sv39.entry(l1, Sv39.v))
            for i in 0..<UInt64(12) {
                let l0 = base + 0x1000 * (i + 1)
                write64(l1 + 8 * i, Sv39.entry(l0, Sv39.v))
                write64(l0, Sv39.entry(0x8000_0000 + i * 0x1000, Sv39.v | Sv39.r | Sv39.w | Sv39.a | Sv39.d))
            }
        }
        let map = GuestPhysicalMap([.init(guestBase: 0x8000_0000, size: 2 << 20, machineBase: 0x8000_0000, isRAM: true)])
        let shadow = ShadowPageTables(machine: m, map: map, poolBase: 0x8030_0000, poolSize: 16 << 12, capacity: 2,
                                      keepsGuestPrivilege: true)
        func fault(hart: Int, region: UInt64) -> ShadowFaultResolution {
            shadow.setGuestAccess(privilege: .supervisor, sum: false, mxr: false, hart: hart)
            return shadow.handleFault(va: 0x4000_0000 + region * (2 << 20), access: .load)
        }
        shadow.activate(satp: ShadowRig.satp(0x8010_0000), view: .kernel, hart: 0)
        shadow.activate(satp: ShadowRig.satp(0x8011_0000), view: .kernel, hart: 1)
        for region in 0..<UInt64(12) { #expect(fault(hart: 0, region: region) == .filled) }
        // Hart 0's tree holds 14 of the 16 pages; hart 1's needs more than the rest.
        for region in 0..<UInt64(12) { #expect(fault(hart: 1, region: region) == .filled) }
        #expect(fault(hart: 0, region: 11) == .filled, "hart 0 refills what the start-over took")
        #expect(shadow.counters.pagesAllocated > 16 && shadow.counters.shadowPages <= 16, "trees were dropped and rebuilt")
        #expect(shadow.checkCoherence() == [])
        // Both harts' vsatp name the roots of their own address spaces, live in the pool.
        for (hart, root) in [(0, UInt64(0x8010_0000)), (1, 0x8011_0000)] {
            shadow.setGuestAccess(privilege: .supervisor, sum: false, mxr: false, hart: hart)
            #expect(shadow.guestSATP == ShadowRig.satp(root))
            #expect(m.readCSR(RISCV.CSR.vsatp, hart: hart) == shadow.machineSATP)
            guard case .translated(let pa, _, _) = shadow.walk(.shadow, va: 0x4000_0000 + 11 * (2 << 20)).result, hart == 0 else { continue }
            #expect(pa == 0x8000_B000)
        }
    }

    /// A bare guest's user mode reaches every page, as its kernel does: the VMM runs it on a
    /// tree of its own (all U), and the kernel, after the trap, on the kernel tree again (U-mode
    /// fetched nothing from the kernel tree, where it faulted for ever; found by the privileged
    /// equivalence test, Tests/lua/privileged_equivalence_test.lua).
    @Test func aBareGuestsUserModeRunsAsNatively() throws {
        let kernel = """
            .option norvc
            _start:
                la t0, handler
                csrw stvec, t0
                la t0, user
                csrw sepc, t0
                li t0, 0x100
                csrc sstatus, t0
                sret
            user:
                la t1, cell
                li t2, 42
                sd t2, 0(t1)
                ld s2, 0(t1)
                ecall
            handler:
                csrr s3, scause
                csrr s4, sstatus
            \(TestKernels.shutdown(0))
                .align 3
            cell:
                .dword 0
            """
        let native = try Guest(TestKernels.configuration(kernel, mode: .native))
        defer { native.close() }
        let g = try Guest(Self.configuration(kernel))
        defer { g.close() }
        #expect(native.run(maxInstructions: 10_000) == .poweredOff(code: 0))
        #expect(g.run(maxInstructions: 10_000) == .poweredOff(code: 0))
        for register in [18, 19, 20] {
            #expect(g.machine.register(register, hart: 0) == native.machine.register(register, hart: 0), "x\(register)")
        }
        #expect(g.machine.register(18, hart: 0) == 42, "U-mode stored and loaded")
        #expect(g.machine.register(19, hart: 0) == 8, "its ecall reached the kernel")
        #expect(g.instructions == native.instructions)
        let shadow = try #require(g.hardwareVMM?.shadow)
        #expect(shadow.checkCoherence() == [])
        #expect(shadow.walk(.shadow, va: 0x8020_0000, view: .user).result != shadow.walk(.shadow, va: 0x8020_0000, view: .kernel).result,
                "two trees: the user tree's leaf has U")
    }

    /// A guest satp of a mode no hart implements (11, reserved for Sv64) is ignored, as WARL
    /// allows; the guest reads back what it had. (Sv48 and Sv57: ShadowTranslationModesTests.)
    @Test func aGuestSatpOfAnotherModeIsIgnored() throws {
        let kernel = """
            _start:
                li t0, 0xB000000000080300
                csrw satp, t0
                csrr s2, satp
                li a0, 0
                li a7, 0x53525354
                li a6, 0
                li a1, 0
                ecall
            """
        let g = try Guest(Self.configuration(kernel))
        defer { g.close() }
        #expect(g.run(maxInstructions: 10_000) == .poweredOff(code: 0))
        #expect(g.machine.register(18, hart: 0) == 0)
        #expect(g.hardwareVMM?.counters.intercepted["satp"] == 2)
    }

    /// A tool's write to a guest page table (a debugger's, or a fault injector's) reaches the
    /// shadows, as the guest's own stores do by tracing: a leaf made read-only is read-only in
    /// the shadow the hart walks at once.
    @Test func aToolsWriteToAGuestPageTableReachesTheShadows() throws {
        guard let board = try TinyosBoards.configuration("bench=pte n=100000", disk: false, tag: "hw-shadow") else { return }
        let g = try Guest(GuestConfiguration(mode: .hw, board: board, hardwarePolicy: HardwareAssistedPolicy(paging: .shadow)))
        defer { g.close() }
        #expect(g.run(maxInstructions: 3_000_000) == .budgetExhausted)
        let shadow = try #require(g.shadowPageTables)
        // The stack's page: stored to, so the shadow maps it writable.
        let sp = g.machine.register(2)
        guard case .translated(_, let filled, _) = shadow.walk(.shadow, va: sp).result else {
            Issue.record("the stack's page is not in the shadow")
            return
        }
        #expect(filled & Sv39.w != 0)
        let walk = try #require(g.guestTableWalk(sp, vcpu: 0, access: .store))
        let leaf = try #require(walk.steps.last)
        let readOnly = leaf.pte & ~Sv39.w
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: readOnly >> (8 * UInt64($0))) }
        guard case .success = g.writeMemory(leaf.pteAddress, bytes) else {
            Issue.record("the leaf is not RAM")
            return
        }
        #expect(shadow.checkCoherence() == [])
        if case .translated(_, let now, _) = shadow.walk(.shadow, va: sp).result { #expect(now & Sv39.w == 0) }
        guard case .failure = g.translate(sp, access: .store) else {
            Issue.record("a store through a read-only leaf translated")
            return
        }
    }

    /// Every pinned tinyos case under hw with shadow paging gives the output pinned under QEMU,
    /// with no stale shadow entry; the PTE benchmark's stores are traced writes.
    @Test(arguments: TinyosGuest.cases.map(\.name))
    func tinyosLikeNative(_ name: String) throws {
        guard let c = TinyosGuest.cases.first(where: { $0.name == name }),
              let board = try TinyosBoards.configuration(c.bootargs, disk: c.disk, tag: "hw-shadow") else { return }
        let guest = try Guest(GuestConfiguration(mode: .hw, board: board, hardwarePolicy: HardwareAssistedPolicy(paging: .shadow)))
        defer { guest.close() }
        let stop = guest.run(maxInstructions: 2_000_000_000)
        let expected = TinyosGuest.expected(name)
        #expect(stop == .poweredOff(code: 0), "console:\n\(guest.consoleText)")
        #expect(TinyosGuest.comparable(guest.consoleText).trimmingCharacters(in: .newlines)
                    == expected.trimmingCharacters(in: .newlines), "console:\n\(guest.consoleText)")
        let technique = try #require(guest.technique as? HardwareAssistedTechnique)
        let vmm = try #require(technique.vmm)
        #expect(technique.checkCoherence() == [], "no stale shadow entry after \(name)")
        #expect(vmm.counters.shadowFaults > 0 && (vmm.counters.intercepted["satp"] ?? 0) > 0)
        if name == "pte" { #expect(vmm.counters.tracedWrites >= 2 * 20, "the PTE benchmark's two stores an iteration are traced") }
        let account = technique.account(guest)
        #expect(account.total == guest.machine.cycles)
    }
}
