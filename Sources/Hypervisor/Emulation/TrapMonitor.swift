// The trap-and-emulate monitor: the VMM standing in M-mode under a guest whose kernel runs in
// U-mode (ring compression). No trap is delegated (medeleg = mideleg = 0), so everything the guest
// does that a U-mode program may not — every CSR access, sret, wfi, sfence.vma, ecall and page
// fault — reaches this handler, which decides what the guest's own (virtual) supervisor would have
// seen: emulate the instruction against the vCPU, fill a shadow entry the guest never knows was
// missing, perform a store to a guest page table, or reflect the trap into the guest kernel. The
// guest's timer is its virtual SBI's (the board's SBI serving the vCPU, a timed device of the
// machine), so it fires at a deterministic instruction and raises the vCPU's STIP here.

import RISCV
import Machine

/// What the monitor has done, by kind (the events a technique charges).
public struct TrapCounters: Sendable, Equatable, Codable {
    /// Hardware traps from the guest into the monitor.
    public var traps: UInt64 = 0
    /// Hardware interrupts taken into the monitor (the PLIC's, turned into virtual ones).
    public var hardwareInterrupts: UInt64 = 0
    public var privilegedEmulated: UInt64 = 0
    public var exceptionsReflected: UInt64 = 0
    public var interruptsInjected: UInt64 = 0
    /// Hidden shadow faults (filled without the guest knowing).
    public var shadowFaults: UInt64 = 0
    public var tracedWrites: UInt64 = 0
    /// Device register accesses the monitor performed on the device model (TrapMonitor+Devices.swift).
    public var deviceEmulated: UInt64 = 0
    /// ecalls from the guest kernel to the virtual SBI.
    public var supervisorCalls: UInt64 = 0
    /// Traps taken from the guest (hardware causes: the guest runs in U-mode).
    public var trapCounts = CauseCounts()
    /// Traps reflected into the guest kernel, by the cause the guest sees.
    public var reflectedCounts = CauseCounts()
    /// Traps taken from the guest by scause name.
    public var trapsByCause: [String: UInt64] { trapCounts.byName }
    /// Traps reflected into the guest kernel, by the name of the cause the guest sees.
    public var reflectedByCause: [String: UInt64] { reflectedCounts.byName }
}

/// Modelled cycles of the monitor's software work, charged to the hart's clock as it happens (the
/// hardware trap that brought the monitor in is charged by the machine).
public struct TrapPrices: Sendable, Equatable {
    public var privilegedEmulated: UInt64 = 0
    public var exceptionReflected: UInt64 = 0
    public var interruptInjected: UInt64 = 0
    public var shadowFault: UInt64 = 0
    public var tracedWrite: UInt64 = 0
    public var deviceEmulated: UInt64 = 0
    /// A virtual SBI call.
    public var supervisorCall: UInt64 = 0

    public init() {}
}

/// One thing the monitor did, for observers (hooks, traces).
public struct TrapMonitorEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case trap, privileged, exceptionReflected = "exception_reflected", interruptInjected = "interrupt_injected"
        case shadowFault = "shadow_fault", tracedWrite = "traced_write", supervisorCall = "hypercall"

        /// The guest's hooks see it as this kind; nil for one they do not see. The machine itself
        /// reports every hardware trap (`trap`) and every system instruction (`privileged`) it
        /// executes; the monitor adds what only the VMM knows. A trap into the VMM is also the
        /// guest's `exit`; a reflected trap is counted, not reported twice.
        var guestKind: GuestEventKind? {
            switch self {
            case .trap: .exit
            case .interruptInjected: .interruptInjected
            case .shadowFault: .shadowFault
            case .tracedWrite: .tracedWrite
            case .supervisorCall: .hypercall
            case .privileged, .exceptionReflected: nil
            }
        }
    }
    public var kind: Kind
    public var hart: Int
    public var pc: UInt64
    public var cause: String?
    public var address: UInt64?
}

/// What emulating one instruction did to the guest's flow (`TrapMonitor.perform`).
public enum EmulatedInstruction: Sendable, Equatable {
    /// Done; the hart's pc is where the guest goes on.
    case retired
    /// Not completed: a trap was reflected into the guest, or an SBI call stopped or restarted the hart.
    case abandoned
}

/// A trap-and-emulate VMM for one vCPU on hart 0 of `machine`.
public final class TrapMonitor: MachineModeTrapHandler {
    /// The machine holds the monitor (its trap handler and a timed device), so not the reverse.
    /// Unchecked: the monitor runs only as the machine's handler or through its guest, which
    /// holds the machine; a checked `unowned` read costs an atomic retain and release on every
    /// use, thousands per traced write.
    public unowned(unsafe) let machine: Machine
    public let shadow: ShadowPageTables
    public let hart = 0
    public internal(set) var vcpu: VirtualCPU
    public internal(set) var counters = TrapCounters()
    /// The guest kernel's returns to an unfetchable stvec with its translation on.
    var trapVectorLoop = TrapVectorLoop()
    /// Serves the guest kernel's ecall (the virtual SBI). It reads and writes the guest's registers
    /// and returns whether the guest continues after the ecall (false: it was stopped or restarted
    /// elsewhere and the monitor must not move its pc).
    public var supervisorCall: ((TrapMonitor, Int) -> Bool)?
    /// Serves the guest kernel's write of `stimecmp` (Sstc): the virtual SBI's timer takes the
    /// value as a set_timer deadline (STIP clears, and rises when `time` reaches it).
    public var timerCompareWritten: ((UInt64) -> Void)?
    public var onEvent: ((TrapMonitorEvent) -> Void)? { didSet { eventHooks = nil } }
    /// The hooks `onEvent` reports to (`Kind.guestKind`), when the closure does no more than that
    /// (`TrapTechnique`'s; setting `onEvent` clears this): an event no hook watches is then not
    /// reported at all. Every exit reports one or two, and each call of `onEvent` retains and
    /// releases the closure's context.
    var eventHooks: EventHub?
    /// Extension point for a technique built on the monitor (`bt`): called with the guest's pc
    /// after the monitor emulated a trapped store to a traced page-table page.
    public var tracedWriteEmulated: ((UInt64) -> Void)?
    /// Whether the guest's device register accesses trap here to be emulated (`protectDevices`);
    /// otherwise the devices are the guest's to access directly.
    public internal(set) var emulatesDevices = false
    /// Fault injection's say on the guest's timer interrupt, asked as it fires (`timerFired`):
    /// false withholds it (dropped; or delayed, and raised later with `setInterrupt`). Under a
    /// monitor that interrupt is raised on the vCPU in software, never on the hart's STIP pin,
    /// which is where the injector intercepts it natively.
    public var timerFiring: (() -> Bool)?
    /// Extension point for a technique built on the monitor (`bt`): called with the guest's pc
    /// after the monitor emulated a trapped device access, and whether it completed.
    public var deviceAccessEmulated: ((UInt64, Bool) -> Void)?
    /// What the monitor's work costs on the hart's clock.
    public var prices = TrapPrices()
    /// The hart is stopped because the vCPU executed wfi.
    public internal(set) var asleep = false
    /// `body` applied to the machine without a retain: a method called on the unowned(unsafe)
    /// `machine` retains and releases it around the call (an atomic pair), and every trap and
    /// callout makes several. Safe for the reason `machine` is unchecked: the machine is running
    /// the monitor, or its guest holds it.
    @inline(__always) @discardableResult
    func withMachine<R>(_ body: (Machine) -> R) -> R {
        Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef(body)
    }

    /// A monitor for `machine` whose guest memory is `map`; shadow tables live in the machine RAM
    /// [poolBase, poolBase + poolSize), outside the guest's reach. Installs itself as the trap
    /// handler and removes all delegation so every guest trap comes here.
    public init(machine: Machine, map: GuestPhysicalMap, poolBase: UInt64, poolSize: UInt64, shadowCapacity: Int = 8) {
        self.machine = machine
        shadow = ShadowPageTables(machine: machine, map: map, poolBase: poolBase, poolSize: poolSize, capacity: shadowCapacity)
        vcpu = VirtualCPU(asidBits: 16, widestTranslation: machine.configuration.widestTranslationLevels)
        machine.trapHandler = self
        // A device's DMA into a guest page table must reach the shadows, as the guest's own
        // stores do through tracing. The machine may outlive them, so the observer holds them
        // weakly, through the shadows' own link (a weak reference to the shadows themselves would
        // give them a side table, and make every retain of them on the exit and callout paths slow).
        machine.dmaWriteObserver = { [weak link = shadow.link] address, count in
            link?.shadow.machineWrote(machinePhysical: address, count: count)
        }
        machine.writeCSR(CSR.medeleg, 0, hart: hart)
        machine.writeCSR(CSR.mideleg, 0, hart: hart)
    }

    /// Enters the guest kernel at `pc` (virtual S-mode, satp Bare, SIE clear) with a0, a1 set, as
    /// an SBI hart start would: the hart itself runs in U-mode under the bare shadow.
    public func start(pc: UInt64, a0: UInt64, a1: UInt64) {
        vcpu = VirtualCPU(asidBits: 16, widestTranslation: machine.configuration.widestTranslationLevels)
        vcpu.privilege = .supervisor
        // As firmware leaves it: the FPU on (FS = Initial), so a kernel may use it from the start.
        vcpu.csrs.setStatus(SupervisorBits.fs, 1 << SupervisorBits.fsShift)
        asleep = false
        setRealEnable(SupervisorBits.sei, true)
        PrivilegedEmulator.mirrorFloatingPoint(vcpu, machine: machine, hart: hart)
        shadow.setTranslationControls(sum: false, mxr: false)
        shadow.activate(satp: 0, view: .kernel, hart: hart)
        machine.startHart(hart, privilege: .user, pc: pc, a0: a0, a1: a1)
    }

    /// Edits the vCPU directly (tests and tools: set a CSR without the guest executing anything).
    public func vcpuForTesting(_ edit: (inout VirtualCPU) -> Void) {
        edit(&vcpu)
    }

    /// Raises or lowers a virtual interrupt line (external from the virtual PLIC, software from an
    /// SBI IPI) and delivers it if the guest takes it now.
    public func setInterrupt(_ cause: InterruptCause, pending: Bool) {
        vcpu.setInterrupt(cause, pending: pending)
        if pending { deliverPendingInterrupt() }
    }

    /// The guest's timer interrupt has come (the virtual SBI's timer reached its deadline, or a
    /// set_timer named one already past): raised on the vCPU unless fault injection withholds it
    /// (`timerFiring`). The SBI's timer is one-shot, so a withheld tick stays lost until the
    /// guest's next set_timer, as natively.
    public func timerFired() {
        if let allow = timerFiring, !allow() { return }
        setInterrupt(.supervisorTimer, pending: true)
    }

    // MARK: traps

    /// External interrupts from the VM's PLIC reach the monitor as M-level interrupts.
    public var handlesInterrupts: Bool { true }

    public func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart h: Int) -> Bool {
        guard h == hart else { return false }
        if trap.isInterrupt {
            counters.hardwareInterrupts &+= 1
            if trap.cause == InterruptCause.supervisorExternal.rawValue {
                // The PLIC's supervisor context asserts SEIP: it becomes the vCPU's, and the real
                // enable stays masked until the guest has claimed it (see `syncExternalInterrupt`).
                setRealEnable(SupervisorBits.sei, false)
                vcpu.setInterrupt(.supervisorExternal, pending: true)
            } else {
                // Nothing else is enabled; should it ever arrive, it is masked, not looped on.
                setRealEnable(1 << trap.cause, false)
            }
            deliverPendingInterrupt()
            // The hardware woke a hart sleeping for the vCPU's wfi; unless the vCPU woke too, it sleeps on.
            if asleep { machine.waitForInterrupt(hart: hart) }
            return true
        }
        counters.traps &+= 1
        syncExternalInterrupt()
        let cause = ExceptionCause(rawValue: trap.cause)
        let taken = VirtualTrap(cause: trap.cause, isInterrupt: false, tval: trap.tval)
        counters.trapCounts.count(taken)
        emit(.trap, pc: trap.pc, cause: taken.name, address: trap.tval)
        switch cause {
        case .illegalInstruction:
            emulate(trap)
        case .ecallU:
            if vcpu.privilege == .supervisor {
                counters.supervisorCalls &+= 1
                charge(prices.supervisorCall)
                emit(.supervisorCall, pc: trap.pc, cause: nil, address: withMachine { $0.register(17, hart: hart) })
                serveSupervisorCall(at: trap.pc)
            } else {
                reflect(.exception(.ecallU), pc: trap.pc)
            }
        case .instructionPageFault, .loadPageFault, .storePageFault:
            let access: GuestAccess = cause == .instructionPageFault ? .fetch : cause == .loadPageFault ? .load : .store
            shadowFault(va: trap.tval, access: access, pc: trap.pc)
        default:
            // A device register access (denied to the guest so that it traps) is emulated;
            // everything else (misaligned accesses, access faults from the VM's own devices,
            // breakpoints) is exactly what the guest would have taken natively.
            if emulatesDevices, emulateDeviceAccess(trap) { break }
            reflect(VirtualTrap(cause: trap.cause, isInterrupt: false, tval: trap.tval), pc: trap.pc)
        }
        deliverPendingInterrupt()
        return true
    }

    /// Follows the PLIC's SEIP pin into the vCPU; once the guest has claimed the interrupt (the pin
    /// is low) the real enable is restored so the next one reaches the monitor.
    /// (It runs before every callout a `bt` translator makes, so it reads the machine's interrupt
    /// registers once: nothing here touches the machine before the enable is set.)
    func syncExternalInterrupt() {
        let (pending, enabled) = withMachine { $0.interruptRegisters(hart: hart) }
        let pin = pending & SupervisorBits.sei != 0
        if vcpu.csrs.sip & SupervisorBits.sei != 0 && !pin { vcpu.setInterrupt(.supervisorExternal, pending: false) }
        if !pin { setRealEnable(SupervisorBits.sei, true, mie: enabled) }
        else if vcpu.csrs.sip & SupervisorBits.sei == 0 { vcpu.setInterrupt(.supervisorExternal, pending: true) }
    }

    /// Whether `syncExternalInterrupt` would change nothing now: the vCPU's SEIP is the PLIC's
    /// pin, and the real enable is on unless the pin is up (the guest has not claimed it yet).
    public var externalInterruptSettled: Bool {
        let (pending, enabled) = withMachine { $0.interruptRegisters(hart: hart) }
        let pin = pending & SupervisorBits.sei != 0
        return pin == (vcpu.csrs.sip & SupervisorBits.sei != 0) && (pin || enabled & SupervisorBits.sei != 0)
    }

    func setRealEnable(_ bits: UInt64, _ on: Bool) {
        setRealEnable(bits, on, mie: withMachine { $0.interruptRegisters(hart: hart).enabled })
    }

    /// Sets or clears `bits` of the real mie, whose value is `mie`.
    func setRealEnable(_ bits: UInt64, _ on: Bool, mie: UInt64) {
        let new = on ? mie | bits : mie & ~bits
        if new != mie { withMachine { $0.writeCSR(CSR.mie, new, hart: hart) } }
    }

    func emulate(_ trap: MachineTrap) {
        var bits = UInt32(truncatingIfNeeded: trap.tval)
        if bits == 0, let inst = shadow.fetchInstruction(at: trap.pc) { bits = inst.raw }
        perform(bits, pc: trap.pc, trapped: true)
    }

    /// Emulates instruction `bits` at the guest's `pc` against the vCPU. `trapped`: it came by a
    /// trap, and the monitor counts and charges its work (`privileged_emulated`, `firmware_call`);
    /// otherwise translated code called it without a trap (`bt`) and the caller charges it.
    /// Reflected traps are counted and charged either way. Returns whether the instruction
    /// retired (the hart's pc is where the guest goes on) or was abandoned (a trap reflected, an
    /// SBI call that stopped or restarted the hart).
    @discardableResult
    public func perform(_ bits: UInt32, pc: UInt64, trapped: Bool) -> EmulatedInstruction {
        perform(decoded: Decoder.decode(bits), pc: pc, trapped: trapped)
    }

    /// `perform(_:pc:trapped:)` of an instruction decoded already (`Decoder.decode`), as a
    /// binary translator's callout has it.
    @discardableResult
    public func perform(decoded instruction: Instruction, pc: UInt64, trapped: Bool) -> EmulatedInstruction {
        let bits = instruction.raw
        let outcome = withMachine { PrivilegedEmulator.emulate(decoded: instruction, pc: pc, vcpu: &vcpu, machine: $0, hart: hart) }
        switch outcome {
        case .completed(let effects), .returned(let effects):
            if trapped { privileged(pc, bits) }
            apply(effects)
            return .retired
        case .waiting:
            if trapped { privileged(pc, bits) }
            // The hart sleeps until the monitor wakes it with a virtual interrupt.
            asleep = true
            machine.waitForInterrupt(hart: hart)
            return .retired
        case .fence(let va, let asid):
            if trapped { privileged(pc, bits) }
            shadow.fence(va: va, asid: asid)
            return .retired
        case .supervisorCall:
            if trapped {
                counters.supervisorCalls &+= 1
                charge(prices.supervisorCall)
            } else {
                emit(.supervisorCall, pc: pc, cause: nil, address: withMachine { $0.register(17, hart: hart) })
            }
            return serveSupervisorCall(at: pc) ? .retired : .abandoned
        case .reflect(let t):
            reflect(t, pc: pc)
            return .abandoned
        case .notPrivileged:
            reflect(.exception(.illegalInstruction, tval: UInt64(bits)), pc: pc)
            return .abandoned
        }
    }

    /// Serves the guest kernel's `ecall` at `pc` with the virtual SBI; whether the call returned.
    /// The pc moves past the ecall first, as the SBI expects of its caller and as the machine
    /// leaves it natively, so a call that does not return (a shutdown, a hart stop) leaves it
    /// there, or where the call sent the hart.
    @discardableResult
    func serveSupervisorCall(at pc: UInt64) -> Bool {
        withMachine { $0.setPC(pc &+ 4, hart: hart) }
        return supervisorCall?(self, hart) ?? false
    }

    /// A trapped privileged instruction the monitor completed: it retires for the guest.
    func privileged(_ pc: UInt64, _ bits: UInt32) {
        withMachine { $0.retireEmulatedInstruction(hart: hart) }
        counters.privilegedEmulated &+= 1
        charge(prices.privilegedEmulated)
        emit(.privileged, pc: pc, cause: nil, address: UInt64(bits))
    }

    func apply(_ effects: EmulationEffects) {
        if effects.contains(.translation) {
            let s = vcpu.csrs.sstatus
            shadow.setTranslationControls(sum: s & SupervisorBits.sum != 0, mxr: s & SupervisorBits.mxr != 0)
        }
        if effects.contains(.satp) || effects.contains(.privilege) { activateShadow() }
        if effects.contains(.timer) { timerCompareWritten?(vcpu.csrs.stimecmp) }
    }

    func activateShadow() {
        shadow.activate(satp: vcpu.csrs.satp, view: vcpu.privilege == .user ? .user : .kernel, hart: hart)
    }

    func shadowFault(va: UInt64, access: GuestAccess, pc: UInt64) {
        switch shadow.handleFault(va: va, access: access) {
        case .filled:
            withMachine { $0.uncountMonitorTrap(hart: hart) }
            counters.shadowFaults &+= 1
            charge(prices.shadowFault)
            emit(.shadowFault, pc: pc, cause: access.pageFault.name, address: va)
            withMachine { $0.setPC(pc, hart: hart) }
        case .guestFault(let t):
            reflect(t, pc: pc)
        case .tracedWrite(let gpa):
            switch shadow.emulateTracedStore(pc: pc, hart: hart) {
            case .emulated:
                withMachine { $0.retireEmulatedInstruction(hart: hart) }
                counters.tracedWrites &+= 1
                charge(prices.tracedWrite)
                emit(.tracedWrite, pc: pc, cause: nil, address: gpa)
                tracedWriteEmulated?(pc)
            case .guestFault(let t): reflect(t, pc: pc)
            case .retry:
                withMachine {
                    $0.uncountMonitorTrap(hart: hart)
                    $0.setPC(pc, hart: hart)
                }
            }
        }
    }

    /// Delivers `t`, taken at `pc`, into the guest kernel.
    func reflect(_ t: VirtualTrap, pc: UInt64) {
        let wasUser = vcpu.privilege == .user
        let previous = (cause: vcpu.csrs.scause, pc: vcpu.csrs.sepc, tval: vcpu.csrs.stval)
        let target = ExceptionReflection.deliver(t, to: &vcpu, pc: pc)
        counters.exceptionsReflected &+= 1
        charge(prices.exceptionReflected)
        counters.reflectedCounts.count(t)
        emit(.exceptionReflected, pc: pc, cause: t.name, address: t.tval)
        withMachine { $0.setPC(target, hart: hart) }
        if wasUser { activateShadow() }
        // The guest kernel's fetch faults at the very address its stvec sends the fault to: the
        // same trap comes back at every step, as on the machine (`Hart.raise`). SIE is now clear,
        // so the monitor injects no interrupt; it moves the vCPU only in answer to the guest's own
        // traps; and only the kernel's own code could change stvec. With its translation off no
        // page table decides the fetch, so the run stops here rather than spin until its budget
        // (for ever under `vmlab boot`); with it on, TrapVectorLoop waits for the loop to come
        // back many times with nothing retired. trap and bt run one vCPU; the hart count is
        // tested all the same, as a reminder that several would need `Machine.hartIsStuck`'s rule.
        guard !t.isInterrupt, target == pc, withMachine({ $0.hartCount }) == 1,
              let stop = trapVectorLoop.stop(hart: hart, register: "stvec", fault: t.cause, translated: vcpu.csrs.satpMode != 0,
                                             at: pc, retired: machine.instructionsRetired(hart: hart), previous: previous)
        else { return }
        machine.requestStop(stop)
    }

    /// Injects the virtual interrupt the guest takes now, if any, before its next instruction; a
    /// vCPU waiting in wfi wakes (a locally enabled interrupt wakes it even when SIE masks it).
    func deliverPendingInterrupt() {
        let pc = withMachine { $0.pc(hart: hart) }
        if let irq = ExceptionReflection.pendingInterrupt(vcpu) {
            let wasUser = vcpu.privilege == .user
            let target = ExceptionReflection.deliver(.interrupt(irq), to: &vcpu, pc: pc)
            counters.interruptsInjected &+= 1
            charge(prices.interruptInjected)
            emit(.interruptInjected, pc: pc, cause: irq.name, address: nil)
            if wasUser { activateShadow() }
            resume(at: target)
        } else if asleep && !vcpu.waitingForInterrupt {
            // Woken (wfi ignores SIE) without an interrupt to take: continue after the wfi.
            resume(at: pc)
        }
    }

    func resume(at pc: UInt64) {
        if asleep {
            asleep = false
            machine.startHart(hart, privilege: .user, pc: pc, a0: machine.register(10, hart: hart), a1: machine.register(11, hart: hart))
        } else {
            withMachine { $0.setPC(pc, hart: hart) }
        }
    }

    func charge(_ cycles: UInt64) {
        if cycles != 0 { withMachine { $0.charge(cycles, hart: hart) } }
    }

    /// Reports an event to `onEvent`; `cause` and `address` are worked out only if it is reported.
    func emit(_ kind: TrapMonitorEvent.Kind, pc: UInt64, cause: @autoclosure () -> String?, address: @autoclosure () -> UInt64?) {
        if let hooks = eventHooks {
            guard let watched = kind.guestKind, hooks.observes(watched) else { return }
        }
        onEvent?(TrapMonitorEvent(kind: kind, hart: hart, pc: pc, cause: cause(), address: address()))
    }
}
