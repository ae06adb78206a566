// `trap`: classic trap-and-emulate (IBM VM/370; Popek and Goldberg's construction). The guest kernel
// runs deprivileged in U-mode (ring compression) on the guest's machine; the VMM is a Swift
// `TrapMonitor` standing in M-mode with no trap delegated, so every privileged instruction, page
// fault and ecall of the guest reaches it to be emulated, reflected or absorbed; the MMU walks
// shadow page tables the VMM keeps in pages of the machine's RAM that the device tree does not
// describe (`VirtBoardConfiguration.hiddenMemory`). The guest's SBI is the board's SBI running
// against the vCPU's virtual state (`VirtualSBIPlatform`).
//
// Costs follow CostEvent.swift's rules: the machine charges each hardware trap into the VMM as
// `trap` (and executes guest instructions at native prices); the VMM's software work is counted
// by the monitor and priced as `privileged_emulated`, `exception_reflected`, `interrupt_injected`,
// `shadow_fault`, `traced_write`, `device_emulated` (a device register access: the guest is denied
// the devices, so each access traps; TrapMonitor+Devices.swift) and `firmware_call` (a virtual SBI call).

import Boot
import Devices
import Machine
import RISCV

public final class TrapTechnique: ShadowingTechnique {
    /// RAM after the guest's for shadow tables (1024 pages).
    public static let shadowPoolSize: UInt64 = 4 << 20

    public private(set) var monitor: TrapMonitor?
    var sbi: BuiltinSBI?
    var platform: VirtualSBIPlatform?

    /// Whether the guest's device register accesses trap to the monitor to be emulated (the
    /// default: the classic emulated device) or reach the devices directly.
    public let emulatesDevices: Bool
    public let shadowPolicy: ShadowPolicy

    public init(emulatesDevices: Bool = true, shadowPolicy: ShadowPolicy = ShadowPolicy()) {
        self.emulatesDevices = emulatesDevices
        self.shadowPolicy = shadowPolicy
    }
    public var mode: ExecutionMode { .trap }

    public func install(on guest: Guest) throws(GuestBuildError) {
        var table = guest.profile.machineCostTable
        table.handledTrap = guest.profile.cycles(.trap)
        guest.machine.costs = table
        if let monitor {   // re-pricing only
            price(monitor, guest.profile)
            return
        }

        let machine = guest.machine
        let memory = guest.board.configuration.memory
        guard machine.configuration.ramSize >= memory + Self.shadowPoolSize else {
            throw GuestBuildError("trap mode needs \(Self.shadowPoolSize) bytes of hidden memory for shadow page tables")
        }
        // The monitor keeps one vCPU's virtual state. More harts would be parked behind the
        // guest's back (its device tree names them, their hart_start fails): refused instead.
        guard machine.hartCount == 1 else {
            throw GuestBuildError("trap mode runs one vCPU (got \(machine.hartCount) harts): interpret, pv and hw run several, as native does")
        }
        guard let firmware = guest.board.firmware, machine.privilege(hart: 0) == .supervisor else {
            throw GuestBuildError("trap mode runs the guest kernel under its own virtual SBI: use the built-in firmware")
        }
        let ramBase = machine.configuration.ramBase
        // The shadow pool behind the guest's RAM is not the guest's.
        let map = GuestPhysicalMap.identity(ramBase: ramBase, memory: memory)
        let pc = machine.pc(hart: 0), a0 = machine.register(10, hart: 0), a1 = machine.register(11, hart: 0)
        let monitor = TrapMonitor(machine: machine, map: map, poolBase: ramBase + memory, poolSize: Self.shadowPoolSize,
                                  shadowCapacity: shadowPolicy.capacity)
        monitor.shadow.unshadowAfter = shadowPolicy.unshadowAfter
        let platform = VirtualSBIPlatform(monitor: monitor, console: guest.board.console, input: firmware)
        let sbi = BuiltinSBI(platform: platform)
        machine.addTimedDevice(sbi)
        monitor.supervisorCall = { [unowned sbi] _, hart in
            if case .noReturn = sbi.handleEcall(hart: hart) { return false }
            return true
        }
        monitor.timerCompareWritten = { [unowned sbi] deadline in sbi.programTimer(hart: 0, deadline) }
        // The hub is held, not the guest: with no hook watching, the closure touches nothing else
        // (an unowned reference costs a checked retain on every use, and this runs on every exit).
        monitor.onEvent = { [events = guest.events, unowned guest, unowned monitor] e in
            // With no hook watching, there is nothing to build (and the monitor, told of the
            // hooks below, does not even call).
            guard let kind = e.kind.guestKind, events.observes(kind) else { return }
            var event = GuestEvent(kind: kind, vcpu: e.hart, pc: e.pc, privilege: monitor.vcpu.privilege,
                                   instructions: guest.instructions, cycles: guest.machine.cycles)
            event.cause = e.cause
            event.address = e.address
            event.asid = monitor.vcpu.csrs.asid
            // The monitor reports a trap before it handles it, so the guest's view is still the
            // one the instruction was fetched in.
            if kind == .exit {
                event.instruction = monitor.shadow.fetchInstruction(at: e.pc)?.raw
            }
            events.dispatch(event)
        }
        monitor.eventHooks = guest.events
        if emulatesDevices { monitor.protectDevices() }
        price(monitor, guest.profile)
        monitor.start(pc: pc, a0: a0, a1: a1)
        self.monitor = monitor
        self.platform = platform
        self.sbi = sbi
    }

    /// The monitor charges its software work to the hart's clock as it goes, so the account
    /// reproduces the clock and guest-visible time includes the VMM's work.
    func price(_ monitor: TrapMonitor, _ p: CostProfile) {
        var prices = TrapPrices()
        prices.privilegedEmulated = p.cycles(.privilegedEmulated)
        prices.exceptionReflected = p.cycles(.exceptionReflected)
        prices.interruptInjected = p.cycles(.interruptInjected)
        prices.shadowFault = p.cycles(.shadowFault)
        prices.tracedWrite = p.cycles(.tracedWrite)
        prices.deviceEmulated = p.cycles(.deviceEmulated)
        prices.supervisorCall = p.cycles(.firmwareCall)
        monitor.prices = prices
        monitor.shadow.flushPrice = p.cycles(.tlbFlush)
    }

    public func account(_ guest: Guest, vcpu: Int) -> CycleAccount {
        let c = guest.machine.counters(hart: vcpu)
        var a = CycleAccount(profile: guest.profile)
        a.record(.instruction, count: c.instructions)
        a.record(.walkReference, count: c.tlb.walkReferences)
        a.record(.tlbMiss, count: c.tlb.misses)
        // The guest's own flushes (a satp write on an untagged TLB) and those the VMM makes for it
        // (its sfence.vma, shadow downgrades and drops), which the shadow counts.
        a.record(.tlbFlush, count: (c.tlb.flushes &- c.tlb.hostFlushes) &+ (monitor?.shadow.flushesByHart[vcpu] ?? 0))
        a.record(.mmioAccess, count: c.mmioAccesses)
        // Kernel CSR writes trap; only those made holes execute (and pay) as on the hardware.
        a.record(.csrWrite, count: c.privilegedCSRWrites)
        if vcpu == 0, let m = monitor?.counters {
            a.record(.trap, count: m.traps)
            a.record(.interrupt, count: m.hardwareInterrupts)
            a.record(.privilegedEmulated, count: m.privilegedEmulated)
            a.record(.exceptionReflected, count: m.exceptionsReflected)
            a.record(.interruptInjected, count: m.interruptsInjected)
            a.record(.shadowFault, count: m.shadowFaults)
            a.record(.tracedWrite, count: m.tracedWrites)
            a.record(.deviceEmulated, count: m.deviceEmulated)
            a.record(.firmwareCall, count: m.supervisorCalls)
        }
        a.settleWaitedCycles(clock: c.cycles)
        return a
    }

    /// Each one emulated after its access fault.
    public func deviceAccessesPerformed(_ guest: Guest) -> UInt64 { monitor?.counters.deviceEmulated ?? 0 }

    /// Every trap of the deprivileged guest enters the monitor: the exits are the traps, by cause.
    public func exits(_ guest: Guest) -> [String: UInt64] { monitor?.counters.trapsByCause ?? [:] }

    public func counters(_ guest: Guest) -> [String: [String: UInt64]] {
        guard let monitor else { return [:] }
        var groups: [String: [String: UInt64]] = [:]
        groups["shadow"] = monitor.shadow.counters.dictionary
        groups["dirty_log"] = monitor.shadow.dirtyLogStatistics
        let m = monitor.counters
        groups["trap"] = ["traps": m.traps, "privileged_emulated": m.privilegedEmulated,
                          "exceptions_reflected": m.exceptionsReflected, "interrupts_injected": m.interruptsInjected,
                          "shadow_faults": m.shadowFaults, "traced_writes": m.tracedWrites, "device_emulated": m.deviceEmulated,
                          "hardware_interrupts": m.hardwareInterrupts, "sbi_calls": m.supervisorCalls]
        // Every cause is there, zero when it never happened, as in `vm:stats().traps.by_cause`.
        let exceptions = ExceptionCause.allCases.map(\.name)
        let interrupts = InterruptCause.allCases.map(\.name)
        groups["traps_by_cause"] = m.trapsByCause.withZeros(for: exceptions + interrupts)
        groups["reflected_by_cause"] = m.reflectedByCause.withZeros(for: exceptions + interrupts)
        if let sbi {
            groups["hypercalls"] = Dictionary(uniqueKeysWithValues: sbi.callsByExtension.map { ("sbi_" + $0.key.lowercased(), $0.value) })
        }
        return groups
    }
}

extension GuestConfiguration {
    /// RAM the mode's VMM keeps on the guest's machine beyond the guest's own (hidden from it): the
    /// shadow pool of `trap` and `bt`, the G-stage tables (or the shadow pool) of `hw`.
    var vmmMemory: UInt64 {
        switch mode {
        case .trap, .bt: TrapTechnique.shadowPoolSize
        case .hw: HardwareAssistedTechnique.vmmMemory(forGuestMemory: board.memory, paging: hardwarePolicy.paging)
        default: 0
        }
    }
}
