// Trap delivery (privileged spec, "Machine Trap Delegation Registers", "Machine Trap-Vector Base-
// Address Register", "Trap Entry"): delegation to S-mode for traps from S/U, the xPP/xPIE/xIE stack,
// vectored interrupts, xRET, and interrupt selection by priority and enable rules.

import RISCV

/// A trap that would enter M-mode, as offered to a `MachineModeTrapHandler`.
public struct MachineTrap: Sendable, Equatable {
    /// mcause without the interrupt bit.
    public var cause: UInt64
    public var isInterrupt: Bool
    /// What mtval would hold.
    public var tval: UInt64
    /// The pc of the trapping instruction (what mepc would hold).
    public var pc: UInt64
    /// The privilege the trap came from.
    public var privilege: PrivilegeMode
    /// Whether it came from VS- or VU-mode (the hypervisor extension's V=1; `privilege` is then
    /// the nominal one, supervisor or user).
    public var virtualized: Bool = false
    /// For a guest-page fault, the guest physical address that faulted (what `htval`/`mtval2`
    /// hold, shifted back, with tval's low two bits).
    public var guestPhysical: UInt64? = nil
}

/// Firmware in Swift (a built-in SBI) standing where M-mode software would.
///
/// When installed, every exception from S- or U-mode that would enter M-mode is offered to it (interrupts
/// only when it sets `handlesInterrupts`). If it returns `true` the trap is consumed: the hart stays in its privilege
/// and resumes at `pc + 4` for an ecall, or at whatever pc the handler set (`Machine.setPC`) for other
/// causes; the trap's modelled cost is charged. Returning `false` delivers the trap normally.
///
/// A handler that moves a timed device's deadline other than through the device's registers (an
/// SBI `set_timer` served in Swift, a VMM's virtual timer) calls `Machine.timedDeviceChanged`: the
/// machine does not re-read every deadline after every trap, which a VMM takes thousands of times
/// per guest system call.
public protocol MachineModeTrapHandler: AnyObject {
    func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool
    /// Whether M-level interrupts taken from S- or U-mode are offered too (a VMM in M-mode wants
    /// them; firmware that never enables them does not). Returning `true` for one consumes it: the
    /// hart resumes at whatever pc the handler set, and the handler must quiet its source (mask the
    /// enable or lower the pin) or it is offered again.
    var handlesInterrupts: Bool { get }
    /// Whether the handler leaves S-mode to itself between that mode's own traps: it writes an
    /// S-mode hart's CSRs, satp, PMP or pc only in answer to a trap of that hart that reached it
    /// (an `ecall` it serves, an instruction it emulates or reflects), and otherwise raises no
    /// more than S-level interrupts for it. A hart whose every step is a trap delegated to S-mode
    /// never reaches such a handler, so (with no M-level interrupt enabled) nothing from M-mode
    /// can rescue it from its trap vector, and the machine may say it is stuck. True of the
    /// built-in SBI and of the para-virtual VMM; a handler that redirects S-mode at will (on a
    /// timer, say) must say false.
    var leavesSupervisorAlone: Bool { get }
    /// The M-level interrupts (their `mip` bits) the handler consumes whenever they are offered,
    /// when it `handlesInterrupts` and `leavesSupervisorAlone`: for those it raises no more than
    /// S- or VS-level interrupts, which a hart on its trap vector has masked, so they cannot
    /// rescue it either (a hardware-assisted VMM's external line). Any other M-level interrupt
    /// enabled in `mie` goes to M-mode code, which could.
    var interruptsConsumed: UInt64 { get }
}

extension MachineModeTrapHandler {
    public var handlesInterrupts: Bool { false }
    public var leavesSupervisorAlone: Bool { false }
    public var interruptsConsumed: UInt64 { 0 }
}

extension Hart {
    /// Uncounts the trap `raise` last counted for the instruction budget (never below zero): a
    /// VMM's handler made it retire the instruction after all, or it was the VMM's own business.
    func takeBackLastTrapFromBudget() {
        state.pointee.exceptionsTaken &-= min(1, state.pointee.exceptionsTaken)
    }

    /// Takes exception `cause` for the instruction at `state.pc`. Always cold.
    @inline(never)
    func raise(_ cause: ExceptionCause, tval: UInt64) {
        raise(cause.rawValue, tval: tval)
    }

    @inline(never)
    func raise(_ cause: UInt64, tval: UInt64) {
        let s = state
        let costs = state.pointee.costs
        exceptionCounts[Int(cause)] &+= 1
        s.pointee.exceptionsTaken &+= 1
        let priv = s.pointee.priv
        let virt = s.pointee.virt
        let delegated = priv <= 1 && (s.pointee.medeleg >> cause) & 1 != 0
        // A trap from VS- or VU-mode that HS-mode would take goes on to VS-mode when hedeleg says
        // so (privileged spec, "Trap Entry" in "Hypervisor Extension").
        let target: TrapTarget = !delegated ? .machine
            : virt && (s.pointee.hyper.hedeleg >> cause) & 1 != 0 ? .virtualSupervisor : .supervisor
        if !delegated, priv < 3 {
            let epc = s.pointee.pc
            let isEcall = cause >= 8 && cause <= 11
            if isEcall { s.pointee.pc = epc &+ 4 }
            var trap = MachineTrap(cause: cause, isInterrupt: false, tval: tval, pc: epc,
                                   privilege: PrivilegeMode(rawValue: priv) ?? .machine, virtualized: virt)
            if cause == 20 || cause == 21 || cause == 23 {
                // An explicit access's low bits are tval's; a VS-stage PTE's address is aligned.
                let low = trapExtras.instruction == 0 ? tval & 3 : 0
                trap.guestPhysical = trapExtras.guestPhysical << 2 | low
            }
            // A timer the handler programmed is its to report (`Machine.timedDeviceChanged`).
            if offerToTrapHandler(trap) {
                trapExtras = TrapExtras()
                handledCounts[Int(cause)] &+= 1
                s.pointee.cycles &+= costs.handledTrap
                s.pointee.exitSlice = .checkInterrupts
                invalidateFetch()
                if observes(.exception) {
                    machine.deliver(.exception(hart: id, cause: cause, tval: tval, pc: epc, from: trap.privilege,
                                               handledByFirmware: true), hart: id)
                }
                return
            }
            s.pointee.pc = epc
        }
        s.pointee.cycles &+= costs.exception
        let epc = s.pointee.pc
        let previous = target == .virtualSupervisor
            ? (cause: s.pointee.hyper.vscause, pc: s.pointee.hyper.vsepc, tval: s.pointee.hyper.vstval)
            : delegated ? (cause: s.pointee.scause, pc: s.pointee.sepc, tval: s.pointee.stval)
            : (cause: s.pointee.mcause, pc: s.pointee.mepc, tval: s.pointee.mtval)
        enterTrap(cause: cause, tval: tval, interrupt: false, target: target)
        if observes(.exception) {
            machine.deliver(.exception(hart: id, cause: cause, tval: tval, pc: epc,
                                       from: PrivilegeMode(rawValue: priv) ?? .machine, handledByFirmware: false), hart: id)
        }
        // An M-mode fetch that faults at the very address mtvec sends the trap back to: MIE is now
        // clear, so no interrupt can lead elsewhere; an M-mode fetch faults only where there is
        // nothing to execute or a locked PMP entry forbids it, and neither changes until reset;
        // and only this hart's own code could change mtvec. Every later step repeats this trap,
        // so the run stops here instead of spinning until its budget (a bare-metal program that
        // faulted before setting mtvec, or a file that is not a program at all). The state is
        // read after the observers ran: a hook may have moved the pc or mtvec. With other harts
        // the machine goes on while one of them can: they may still finish the program
        // (Machine.hartIsStuck).
        guard s.pointee.pc == epc else { return }
        var stop: StopReason?
        if priv == 3, !delegated, s.pointee.mtvec & ~3 == epc, s.pointee.mstatus & Mstatus.mie == 0 {
            stop = trapVectorLoop.stop(hart: id, register: "mtvec", fault: cause, translated: false, at: epc,
                                       retired: s.pointee.instret, previous: previous)
        }
        // The same in S-mode, where nothing from M-mode can step in: firmware that leaves S-mode
        // alone, and no M-level interrupt enabled to divert the hart but those it consumes (SIE,
        // now clear, masks S-mode's own). And in VS-mode, for a guest kernel's fault that hedeleg
        // delivers straight to vstvec under a hypervisor that leaves it alone, when no interrupt
        // is left for HS-mode code either (vsstatus.SIE masks the VS-level ones). Without
        // translation there is no page table that a device could rewrite; with it (in VS-mode,
        // either stage's), TrapVectorLoop waits for the loop to come back many times with nothing
        // retired.
        let virtual = target == .virtualSupervisor
        if priv == 1, virtual || (target == .supervisor && !virt),
           let handler = machine.trapHandler, handler.leavesSupervisorAlone,
           s.pointee.mie & ~s.pointee.mideleg & ~handler.interruptsConsumed == 0 {
            let h = s.pointee.hyper
            let vector = virtual ? h.vstvec : s.pointee.stvec
            let status = virtual ? h.vsstatus : s.pointee.mstatus
            let leftForHS = virtual ? s.pointee.mie & s.pointee.mideleg & ~h.hideleg : 0
            if vector & ~3 == epc, status & Mstatus.sie == 0, leftForHS == 0 {
                let translated = virtual ? h.vsatp >> 60 != 0 || h.hgatp >> 60 != 0 : s.pointee.satp >> 60 != 0
                stop = trapVectorLoop.stop(hart: id, register: virtual ? "vstvec" : "stvec", fault: cause,
                                           translated: translated, at: epc, retired: s.pointee.instret, previous: previous)
            }
        }
        if let stop { machine.hartIsStuck(id, stop) }
    }

    /// Offers `trap` to the machine's M-mode trap handler, if one is installed (an interrupt only
    /// if it `handlesInterrupts`); whether it handled it. The handler is reached through the run's
    /// hold (`Machine.withTrapHandler`) and given the machine through an unmanaged reference, as
    /// `callTranslator` gives it to a translator: a VMM takes every trap of its guest here, and
    /// each of the two, loaded as it is, was retained and released around the call.
    @inline(__always)
    func offerToTrapHandler(_ trap: MachineTrap) -> Bool {
        let hart = id
        return Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef { machine in
            machine.withTrapHandler { handler in
                (!trap.isInterrupt || handler.handlesInterrupts) && handler.handleMachineTrap(trap, machine: machine, hart: hart)
            } ?? false
        }
    }

    /// Delivers interrupt `cause` (its mip bit number; for VS-mode, the code VS-mode sees).
    /// Whether the M-mode trap handler consumed it (no architectural trap was taken).
    @discardableResult
    func takeInterrupt(_ cause: UInt64, target: TrapTarget) -> Bool {
        // Counted by mip bit: a VS-level interrupt VS-mode sees as SEI is VSEI here.
        interruptCounts[Int(target == .virtualSupervisor ? cause + 1 : cause)] &+= 1
        // A trap taken from a mode where an icount trigger is enabled matches it (Sdtrig).
        if triggers.countsInstructions { triggers.countInstruction(priv: state.pointee.priv) }
        state.pointee.cycles &+= state.pointee.costs.interrupt
        let pc = state.pointee.pc
        let from = PrivilegeMode(rawValue: state.pointee.priv) ?? .machine
        if target == .machine, state.pointee.priv < 3 {
            let trap = MachineTrap(cause: cause, isInterrupt: true, tval: 0, pc: pc, privilege: from,
                                   virtualized: state.pointee.virt)
            if offerToTrapHandler(trap) {
                state.pointee.exitSlice = .checkInterrupts
                invalidateFetch()
                return true
            }
        }
        enterTrap(cause: cause, tval: 0, interrupt: true, target: target)
        if observes(.interrupt) {
            // Between slices: the observer's changes (pc included) apply directly.
            machine.deliver(.interrupt(hart: id, cause: cause, pc: pc, from: from), hart: nil)
        }
        return false
    }

    @inline(__always)
    private func enterTrap(cause: UInt64, tval: UInt64, interrupt: Bool, target: TrapTarget) {
        let s = state
        foldCounters()
        let priv = UInt64(s.pointee.priv)
        let virt = s.pointee.virt
        if triggers.watchesTraps { triggers.trapTaken(code: cause, interrupt: interrupt, from: UInt8(priv)) }
        let code = interrupt ? cause | (1 << 63) : cause
        var ms = s.pointee.mstatus
        let tvec: UInt64
        switch target {
        case .virtualSupervisor:
            // V stays 1; hstatus and the HS-level sstatus are not modified.
            var vs = s.pointee.hyper.vsstatus
            s.pointee.hyper.vscause = code
            s.pointee.hyper.vsepc = s.pointee.pc
            s.pointee.hyper.vstval = tval
            vs = (vs & ~Mstatus.spp) | (priv == 1 ? Mstatus.spp : 0)
            vs = (vs & ~Mstatus.spie) | (vs & Mstatus.sie != 0 ? Mstatus.spie : 0)
            vs &= ~Mstatus.sie
            s.pointee.hyper.vsstatus = vs
            s.pointee.priv = 1
            tvec = s.pointee.hyper.vstvec
            trapExtras = TrapExtras()
        case .supervisor:
            s.pointee.scause = code
            s.pointee.sepc = s.pointee.pc
            s.pointee.stval = tval
            ms = (ms & ~Mstatus.spp) | (priv == 1 ? Mstatus.spp : 0)
            ms = (ms & ~Mstatus.spie) | (ms & Mstatus.sie != 0 ? Mstatus.spie : 0)
            ms &= ~Mstatus.sie
            if hasHypervisor { enterHypervisor(fromVirtual: virt, priv: priv, cause: cause, interrupt: interrupt) }
            s.pointee.priv = 1
            tvec = s.pointee.stvec
        case .machine:
            s.pointee.mcause = code
            s.pointee.mepc = s.pointee.pc
            s.pointee.mtval = tval
            ms = (ms & ~Mstatus.mpp) | (priv << Mstatus.mppShift)
            ms = (ms & ~Mstatus.mpie) | (ms & Mstatus.mie != 0 ? Mstatus.mpie : 0)
            ms &= ~Mstatus.mie
            if hasHypervisor {
                let gva = enterMachine(fromVirtual: virt, cause: cause, interrupt: interrupt)
                ms = (ms & ~(Mstatus.mpv | Mstatus.gva)) | (virt ? Mstatus.mpv : 0) | (gva ? Mstatus.gva : 0)
            }
            s.pointee.priv = 3
            tvec = s.pointee.mtvec
        }
        s.pointee.mstatus = ms
        let base = tvec & ~3
        s.pointee.pc = (interrupt && tvec & 3 == 1) ? base &+ 4 &* cause : base
        privilegeChanged()
    }

    /// A trap into HS-mode with the hypervisor extension (privileged spec, "Trap Entry"): SPV,
    /// SPVP (from V=1 only) and GVA in hstatus, htval and htinst; V becomes 0.
    @inline(never)
    private func enterHypervisor(fromVirtual virt: Bool, priv: UInt64, cause: UInt64, interrupt: Bool) {
        let s = state
        let extras = takeTrapExtras()
        var hs = s.pointee.hyper.hstatus
        hs = (hs & ~Hstatus.spv) | (virt ? Hstatus.spv : 0)
        if virt { hs = (hs & ~Hstatus.spvp) | (priv == 1 ? Hstatus.spvp : 0) }
        let gva = !interrupt && (extras.guestVirtual || (virt && Hart.reportsAddress(cause)))
        hs = (hs & ~Hstatus.gva) | (gva ? Hstatus.gva : 0)
        s.pointee.hyper.hstatus = hs
        s.pointee.hyper.htval = extras.guestPhysical
        s.pointee.hyper.htinst = extras.instruction
        s.pointee.virt = false
    }

    /// A trap into M-mode with the hypervisor extension: mtval2 and mtinst; V becomes 0. Returns
    /// GVA (MPV is the caller's, with the rest of mstatus).
    @inline(never)
    private func enterMachine(fromVirtual virt: Bool, cause: UInt64, interrupt: Bool) -> Bool {
        let s = state
        let extras = takeTrapExtras()
        s.pointee.hyper.mtval2 = extras.guestPhysical
        s.pointee.hyper.mtinst = extras.instruction
        s.pointee.virt = false
        return !interrupt && (extras.guestVirtual || (virt && Hart.reportsAddress(cause)))
    }

    /// What the trap being taken carries (whether tval is a guest virtual address, htval/mtval2,
    /// htinst/mtinst), cleared for the next one. A trap into VS-mode drops it unread.
    private func takeTrapExtras() -> TrapExtras {
        let extras = trapExtras
        trapExtras = TrapExtras()
        return extras
    }

    /// Whether exception `cause` writes an address to tval (which, from V=1, is a guest virtual
    /// address): misaligned, access and page faults, guest-page faults, and breakpoints.
    static func reportsAddress(_ cause: UInt64) -> Bool {
        switch cause {
        case 0, 1, 3, 4, 5, 6, 7, 12, 13, 15, 20, 21, 23: true
        default: false
        }
    }

    /// mret (privileged spec, "Trap-Return Instructions").
    func mret() {
        let s = state
        foldCounters()
        var ms = s.pointee.mstatus
        let mpp = UInt8((ms >> Mstatus.mppShift) & 3)
        if hasHypervisor {
            // MPV is ignored when MPP is M (privileged spec, "Trap Return" in "Hypervisor
            // Extension"), and cleared.
            s.pointee.virt = mpp != 3 && ms & Mstatus.mpv != 0
            ms &= ~Mstatus.mpv
        }
        ms = (ms & ~Mstatus.mie) | (ms & Mstatus.mpie != 0 ? Mstatus.mie : 0)
        ms |= Mstatus.mpie
        ms &= ~Mstatus.mpp  // U, the least-privileged mode
        if mpp != 3 { ms &= ~Mstatus.mprv }
        s.pointee.mstatus = ms
        s.pointee.priv = mpp
        s.pointee.pc = s.pointee.mepc & ~1
        privilegeChanged()
    }

    func sret() {
        let s = state
        foldCounters()
        if s.pointee.virt {
            // In VS-mode, sret returns through vsstatus and vsepc and stays at V=1.
            var vs = s.pointee.hyper.vsstatus
            let spp: UInt8 = vs & Mstatus.spp != 0 ? 1 : 0
            vs = (vs & ~Mstatus.sie) | (vs & Mstatus.spie != 0 ? Mstatus.sie : 0)
            vs |= Mstatus.spie
            vs &= ~Mstatus.spp
            s.pointee.hyper.vsstatus = vs
            s.pointee.priv = spp
            s.pointee.pc = s.pointee.hyper.vsepc & ~1
            privilegeChanged()
            return
        }
        // From HS-mode (or M), V becomes hstatus.SPV, which then clears.
        if hasHypervisor {
            let hs = s.pointee.hyper.hstatus
            s.pointee.virt = hs & Hstatus.spv != 0
            s.pointee.hyper.hstatus = hs & ~Hstatus.spv
        }
        var ms = s.pointee.mstatus
        let spp: UInt8 = ms & Mstatus.spp != 0 ? 1 : 0
        ms = (ms & ~Mstatus.sie) | (ms & Mstatus.spie != 0 ? Mstatus.sie : 0)
        ms |= Mstatus.spie
        ms &= ~Mstatus.spp
        ms &= ~Mstatus.mprv  // the new mode is below M
        s.pointee.mstatus = ms
        s.pointee.priv = spp
        s.pointee.pc = s.pointee.sepc & ~1
        privilegeChanged()
    }

    /// The interrupt to take now, if any, and where it goes (privileged spec, "Machine Interrupt
    /// Registers"; with the hypervisor extension, "Hypervisor Interrupt Registers"): M-level
    /// interrupts first, then those `mideleg` gives HS-mode, then the VS-level ones `hideleg`
    /// gives VS-mode, which VS-mode sees one code lower (VSEI as SEI, and so on).
    func pendingInterrupt() -> (UInt64, TrapTarget)? {
        let s = state
        let pending = s.pointee.mip & s.pointee.mie
        if pending == 0 { return nil }
        let priv = s.pointee.priv
        let virt = s.pointee.virt
        let ms = s.pointee.mstatus
        let mideleg = effectiveMideleg
        // M-level interrupts: enabled below M, or in M with MIE.
        let mEnabled = priv < 3 || ms & Mstatus.mie != 0
        let mPending = pending & ~mideleg
        if mEnabled && mPending != 0 {
            for c in Irq.priorityOrder where (mPending >> c) & 1 != 0 { return (c, .machine) }
        }
        // HS-level (delegated) interrupts: never taken in M; always in VS/VU; enabled below S,
        // or in S with SIE.
        let hideleg = s.pointee.hyper.hideleg
        let sEnabled = virt || priv < 1 || (priv == 1 && ms & Mstatus.sie != 0)
        let sPending = pending & mideleg & ~hideleg
        if sEnabled && sPending != 0 {
            for c in Irq.priorityOrder where (sPending >> c) & 1 != 0 { return (c, .supervisor) }
        }
        // VS-level interrupts delegated to VS-mode: only with V=1; in VU always, in VS with
        // vsstatus.SIE.
        let vsPending = pending & mideleg & hideleg
        let vsEnabled = virt && (priv == 0 || s.pointee.hyper.vsstatus & Mstatus.sie != 0)
        if vsEnabled && vsPending != 0 {
            for c in Irq.priorityOrder where (vsPending >> c) & 1 != 0 { return (c - 1, .virtualSupervisor) }
        }
        return nil
    }

    /// Takes the highest-priority enabled pending interrupt, if any; wakes a waiting hart when any
    /// interrupt is pending and locally enabled (WFI ignores the global enables).
    @discardableResult
    func checkInterrupts() -> Bool {
        let s = state
        // Between slices: a pc an observer set during the last instruction takes effect now.
        if s.pointee.redirectPC != noRedirect { applyRedirect() }
        if s.pointee.runState == .waitingForInterrupt && s.pointee.mip & s.pointee.mie != 0 {
            s.pointee.runState = .started
        }
        guard s.pointee.runState == .started, let (cause, target) = pendingInterrupt() else { return false }
        // A handler that consumed an interrupt may have made another one pending in its stead (a
        // VMM injecting VSEIP for the external line it took): that one is taken now, before the
        // slice, which would otherwise run on without looking. A handler must quiet the source it
        // took, so this ends; the bound keeps a handler that does not from hanging the host.
        var consumed = takeInterrupt(cause, target: target)
        var rounds = 0
        while consumed, rounds < 8, s.pointee.runState == .started, let (next, nextTarget) = pendingInterrupt() {
            consumed = takeInterrupt(next, target: nextTarget)
            rounds += 1
        }
        return true
    }
}
