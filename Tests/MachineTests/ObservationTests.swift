import Testing
@testable import Machine
import RISCV

// Observation: every event kind reaches the observer with the right fields, only when its kind is
// observed; observers may change registers and the pc and stop the run.

/// Records events; optionally acts on them.
final class Recorder: MachineObserver {
    var events: [MachineEvent] = []
    var action: ((Machine, MachineEvent) -> Void)? = nil

    func machine(_ machine: Machine, observed event: MachineEvent) {
        events.append(event)
        action?(machine, event)
    }

    func of(_ kind: MachineEventKinds) -> [MachineEvent] { events.filter { $0.kind == kind } }
}

@Suite struct ObservationTests {
    let rig = Guest.Rig()
    var m: Machine { rig.machine }
    let rec = Recorder()

    init() {
        rig.machine.grantFullPMPAccess(hart: 0)
        rig.machine.observer = rec
    }

    /// The finisher write the M-mode trap handler makes (see `Layout`).
    func isFinisherWrite(_ e: MachineEvent) -> Bool {
        if case .mmio(_, 0x100000, 4, 0x5555, true, let pc) = e { return pc > Layout.mtrap && pc < Layout.strap }
        return false
    }

    @Test func nothingIsReportedUnlessObserved() throws {
        try rig.start("li t0, 0x10000000\n lbu a0, 5(t0)\n ecall")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rec.events.isEmpty)
        m.observedEvents = [.exception]
        try rig.start("li t0, 0x10000000\n lbu a0, 5(t0)\n ecall")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rec.events.count == 1 && rec.events.allSatisfy { $0.kind == .exception })
    }

    @Test func exceptionAfterDelivery() throws {
        m.observedEvents = .all
        // S-mode ecall to M: cause 9, from supervisor, pc of the ecall; then the handler's MMIO write.
        try rig.start("nop\n ecall", mode: .supervisor)
        rec.action = { machine, e in
            if case .exception = e {
                // Delivered: the hart is already at the M-mode handler, mepc/mcause are written.
                #expect(machine.pc() == Layout.mtrap)
                #expect(machine.readCSR(0x342) == 9)
            }
        }
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rec.of(.exception) == [.exception(hart: 0, cause: 9, tval: 0, pc: Layout.main + 2, from: .supervisor,
                                                   handledByFirmware: false)])
        #expect(rec.events.contains(where: isFinisherWrite))
        #expect(m.observationCounters.eventsDelivered == UInt64(rec.events.count))
    }

    @Test func exceptionConsumedByFirmware() throws {
        final class Firmware: MachineModeTrapHandler {
            func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool { trap.cause == 9 }
        }
        let fw = Firmware()
        m.trapHandler = fw
        m.observedEvents = [.exception]
        try rig.start("ecall\n li a0, 7\n ebreak", mode: .supervisor)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(10) == 7)
        #expect(rec.events == [
            .exception(hart: 0, cause: 9, tval: 0, pc: Layout.main, from: .supervisor, handledByFirmware: true),
            .exception(hart: 0, cause: 3, tval: Layout.main + 6, pc: Layout.main + 6, from: .supervisor, handledByFirmware: false),
        ])
    }

    @Test func interruptAndPin() throws {
        m.observedEvents = [.interrupt, .pin]
        // M-mode with MIE and MTIE: the host raises MTIP, the hart takes interrupt 7 at the loop.
        try rig.start("li t0, 0x80\n csrw mie, t0\n csrsi mstatus, 8\n1: j 1b")
        #expect(m.run(maxInstructions: 10) == .budgetExhausted)
        let loop = m.pc()
        m.setPin(.mtip, hart: 0, level: true)
        m.setPin(.mtip, hart: 0, level: true)   // no change: no event
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rec.events == [.pin(hart: 0, pin: .mtip, level: true),
                               .interrupt(hart: 0, cause: 7, pc: loop, from: .machine)])
    }

    @Test func mmioReadAndWrite() throws {
        m.observedEvents = [.mmio]
        try rig.start("li t0, 0x10000000\n lbu a0, 5(t0)\n li a1, 0x41\n sb a1, 0(t0)\n ecall")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rec.events.count == 3)
        #expect(rec.events[0] == .mmio(hart: 0, address: 0x1000_0005, size: 1, value: 0x60, isWrite: false, pc: Layout.main + 4))
        if case .mmio(0, 0x1000_0000, 1, 0x41, true, let pc) = rec.events[1] {
            #expect(pc > Layout.main + 4 && pc < Layout.main + 16)
        } else {
            Issue.record("expected the UART write, got \(rec.events[1])")
        }
        #expect(isFinisherWrite(rec.events[2]))
        #expect(m.counters().mmioAccesses == 3)
    }

    @Test func pageWalksAndTheirFaults() throws {
        var pt = PageTables(m)
        pt.identityMapRAM()
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.w)   // A clear: a write-back
        m.observedEvents = [.pageWalk, .exception]
        try rig.start("li t0, 0x40000000\n ld a0, 0(t0)\n li t0, 0x100000000\n ld a0, 0(t0)", mode: .supervisor)
        m.writeCSR(0x180, pt.satp(asid: 5))
        #expect(rig.run(1000) == .poweredOff(code: 0))
        let walks = rec.of(.pageWalk)
        // The code's gigapage (one PTE read), the data page (three reads + the A write-back), the
        // unmapped page (faults at the root), then the fault itself.
        #expect(walks == [
            .pageWalk(hart: 0, va: Layout.main, references: 1, asid: 5, faulted: false),
            .pageWalk(hart: 0, va: 0x4000_0000, references: 4, asid: 5, faulted: false),
            .pageWalk(hart: 0, va: 0x1_0000_0000, references: 1, asid: 5, faulted: true),
        ])
        let last = rec.events.suffix(2)
        #expect(last.first == walks.last)
        if case .exception(0, 13, 0x1_0000_0000, _, .supervisor, false) = last.last! {} else {
            Issue.record("expected the load page fault after its walk, got \(last.last!)")
        }
        // Observation must not change what is counted.
        #expect(m.counters().tlb.walkReferences == 6)
        #expect(m.counters().tlb.fetchMisses == 1)
    }

    @Test func tlbFlushes() throws {
        var pt = PageTables(m)
        pt.identityMapRAM()
        m.observedEvents = [.tlbFlush]
        try rig.start("li t0, 0x1234000\n li t1, 3\n sfence.vma t0, t1\n sfence.vma\n ecall", mode: .supervisor)
        m.writeCSR(0x180, pt.satp)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        m.flushTLB(hart: 0)
        #expect(rec.events == [.tlbFlush(hart: 0, va: 0x123_4000, asid: 3), .tlbFlush(hart: 0, va: nil, asid: nil),
                               .tlbFlush(hart: 0, va: nil, asid: nil)])
    }

    @Test func untaggedTLBFlushesOnSatpWrite() throws {
        let r = Guest.Rig { $0.tlb = TLBConfiguration(asidTagged: false) }
        r.machine.observer = rec
        r.machine.observedEvents = [.tlbFlush]
        try r.start("li t0, 0x8000000000080400\n csrw satp, t0\n ecall")
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(rec.events == [.tlbFlush(hart: 0, va: nil, asid: nil)])
        #expect(r.machine.counters().tlb.satpFlushes == 1)
    }

    @Test func privilegedInstructions() throws {
        m.observedEvents = [.privileged]
        let csrr = try Assembler.assemble("csrr a0, mscratch").bytes
        let raw = csrr.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        m.writeCSR(0x340, 99)
        try rig.start("csrr a0, mscratch\n addi a0, a0, 1\n ecall")
        rec.action = { machine, e in
            // Before its effect: a0 is not yet written.
            if case .privileged(_, Layout.main, _) = e { #expect(machine.register(10) == 0) }
        }
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(10) == 100)
        #expect(rec.events.first == .privileged(hart: 0, pc: Layout.main, instruction: raw))
        // csrr, ecall (the trap handler uses no SYSTEM instruction before the finisher stops it).
        #expect(rec.events.count == 2)
        #expect(m.observationCounters.privileged == [2])
    }

    @Test func dmaIsReportedAndCountedButLoadingIsNot() {
        m.observedEvents = [.dma]
        m.loadPhysical([1, 2, 3], at: 0x8010_0000)
        #expect(rec.events.isEmpty)
        let bytes: [UInt8] = [9, 8, 7, 6]
        #expect(bytes.withUnsafeBytes { m.dmaWrite(0x8010_0000, from: $0) })
        var back = [UInt8](repeating: 0, count: 2)
        #expect(back.withUnsafeMutableBytes { m.dmaRead(0x8010_0001, into: $0) })
        #expect(back == [8, 7])
        #expect(bytes.withUnsafeBytes { !m.dmaWrite(0x7000_0000, from: $0) })
        #expect(rec.events == [.dma(address: 0x8010_0000, count: 4, isWrite: true),
                               .dma(address: 0x8010_0001, count: 2, isWrite: false)])
        let c = m.observationCounters
        #expect(c.dmaWrites == 1 && c.dmaReads == 1 && c.dmaBytesWritten == 4 && c.dmaBytesRead == 2)
    }

    @Test func observerStopsRightAfterTheInstruction() throws {
        m.observedEvents = [.mmio]
        rec.action = { machine, _ in machine.requestStop(.hostStop("seen")) }
        try rig.start("li t0, 0x10000000\n lbu a0, 5(t0)\n li a1, 7\n ecall")
        #expect(rig.run(1000) == .hostStop("seen"))
        #expect(rig.x(10) == 0x60, "the load completed")
        #expect(rig.x(11) == 0, "the next instruction did not run")
        #expect(m.pc() == Layout.main + 8)   // after lui, lbu
        rec.action = nil
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(11) == 7)
    }

    @Test func observerRedirectsThePcAfterTheInstruction() throws {
        m.observedEvents = [.privileged, .mmio]
        m.writeCSR(0x340, 5)
        rec.action = { machine, e in
            switch e {
            case .privileged(_, Layout.main, _):
                machine.setRegister(12, 42)
                machine.setPC(0x8000_0080)
            case .mmio(_, 0x1000_0005, _, _, false, _):
                machine.setPC(0x8000_00C0)
            default: break
            }
        }
        try rig.start("""
            csrr a0, mscratch
            li a1, 1
            ecall
            .org 0x80
            li t0, 0x10000000
            lbu a3, 5(t0)
            li a1, 2
            ecall
            .org 0xC0
            li a4, 3
            ecall
            """)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(10) == 5, "the csrr completed")
        #expect(rig.x(12) == 42)
        #expect(rig.x(13) == 0x60, "the load completed")
        #expect(rig.x(11) == 0, "neither path's li a1 ran")
        #expect(rig.x(14) == 3)
    }

    @Test func aRestoreDropsThePcAnObserverSetInTheStateItReplaces() throws {
        // The run stops with the observer's pc pending (nothing read the pc since); the restore
        // goes back before it. The hold on the fetch path must go with the redirect, or every
        // slice ends before its first instruction and the run never returns (found by fuzzing
        // the Lua API: a hook wrote the pc and returned "stop", then vm:restore).
        m.observedEvents = [.mmio]
        rec.action = { machine, _ in
            machine.setPC(Layout.main + 0x80)
            machine.requestStop(.hostStop("moved"))
        }
        try rig.start("""
            li t0, 0x10000000
            lbu a0, 5(t0)
            li a1, 1
            ecall
            .org 0x80
            li a1, 2
            ecall
            """)
        let before = m.snapshot()
        #expect(rig.run(1000) == .hostStop("moved"))
        rec.action = nil
        try m.restore(before)
        try #require(m.harts[0].state.pointee.refillHold & holdRedirect == 0, "no hold is left without its redirect")
        #expect(m.pc() == Layout.main)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(11) == 1, "the restored state ran its own path")
    }

    @Test func observerRegisterWritesAreSeenByTheNextInstruction() throws {
        m.observedEvents = [.mmio]
        rec.action = { machine, _ in machine.setRegister(6, 1000) }
        try rig.start("li t0, 0x10000000\n lbu a0, 5(t0)\n addi a1, t1, 1\n ecall")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(11) == 1001)
    }

    @Test func observerOfAnInterruptStopsBeforeTheHandlerRuns() throws {
        m.observedEvents = [.interrupt]
        rec.action = { machine, _ in machine.requestStop(.hostStop("interrupted")) }
        try rig.start("li t0, 0x80\n csrw mie, t0\n csrsi mstatus, 8\n1: j 1b")
        #expect(m.run(maxInstructions: 10) == .budgetExhausted)
        m.setPin(.mtip, hart: 0, level: true)
        let retired = m.counters().instructions
        #expect(rig.run(1000) == .hostStop("interrupted"))
        #expect(m.pc() == Layout.mtrap)
        #expect(m.counters().instructions == retired, "no instruction of the handler ran")
        rec.action = nil
        #expect(rig.run(1000) == .poweredOff(code: 0))
    }

    @Test func redirectFromAWalkInsideAnInstructionThatCrossesPages() throws {
        // A 4-byte instruction at the end of a 4 KiB page: its second half is fetched through a
        // walk of the next page while it executes outside the fetch cache. An observer that moves
        // the pc there must see the hart go to the new pc right after that instruction.
        var pt = PageTables(m)
        pt.map(0x4000_0000, to: 0x8000_0000, flags: PTEBits.r | PTEBits.x | PTEBits.a)
        pt.map(0x4000_1000, to: 0x8000_1000, flags: PTEBits.r | PTEBits.x | PTEBits.a)
        m.observedEvents = [.pageWalk]
        rec.action = { machine, e in
            if case .pageWalk(_, 0x4000_1000, _, _, false) = e { machine.setPC(0x4000_0200) }
        }
        try rig.start("""
            .org 0x200
            li a2, 2
            ecall
            .org 0xFFE
            .option norvc
            addi a0, a0, 1
            li a1, 1
            ecall
            """, mode: .supervisor, pc: 0x4000_0FFE)
        m.writeCSR(0x180, pt.satp)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(10) == 1, "the crossing instruction completed")
        #expect(rig.x(11) == 0, "the instruction after it did not run")
        #expect(rig.x(12) == 2)
        #expect(rig.csr(0x341) == 0x4000_0202, "the ecall at the new pc trapped")
    }

    @Test func theObserverIsHeldWeakly() {
        let r = Guest.Rig()
        weak var gone: Recorder?
        do {
            let temporary = Recorder()
            gone = temporary
            r.machine.observer = temporary
            #expect(r.machine.observer === temporary)
        }
        #expect(gone == nil, "the machine does not keep its observer alive")
        #expect(r.machine.observer == nil)
    }

    @Test func anObserverCanEmulateAFaultingInstruction() throws {
        // Trap-and-emulate from an observer: on the illegal-instruction exception from S-mode, it
        // writes the result, returns the hart to S-mode and resumes after the instruction.
        m.observedEvents = [.exception]
        rec.action = { machine, e in
            guard case .exception(0, 2, _, let pc, .supervisor, false) = e else { return }
            machine.setRegister(10, 0xE)
            machine.setPrivilege(.supervisor)
            machine.setPC(pc + 4)
        }
        try rig.start("csrr a0, mhartid\n addi a1, a0, 1\n ecall", mode: .supervisor)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(10) == 0xE && rig.x(11) == 0xF)
        #expect(rig.csr(0x342) == 9, "the ecall came from S-mode")
        #expect(rec.events.count == 2)
    }
}
