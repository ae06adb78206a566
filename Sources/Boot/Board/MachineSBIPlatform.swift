// The built-in SBI's view of a real `Machine`: each SBIPlatform duty mapped to the machine's outside
// API (Sources/Machine/Core/Machine+API.swift). This is the M-mode side of an SBI call — what
// OpenSBI reaches through CSRs and the CLINT, vmlab reaches through host calls.
import Devices
import Machine
import RISCV

final class MachineSBIPlatform: SBIPlatform {
    /// The board owns the machine; the machine owns (through its trap handler) this platform.
    unowned let machine: Machine
    let console: any ConsoleSink
    /// Bytes waiting for the SBI console's getchar / DBCN read.
    var input: [UInt8] = []
    let ram: RAMRegion

    init(machine: Machine, console: any ConsoleSink) {
        self.machine = machine
        self.console = console
        ram = RAMRegion(base: machine.configuration.ramBase, size: machine.configuration.ramSize)
    }

    var hartCount: Int { machine.hartCount }
    var mtime: UInt64 { machine.mtime }
    var memory: any DMAMemory { machine }

    var hasHypervisorExtension: Bool {
        (machine.readCSR(CSR.misa) ?? 0) & (1 << 7) != 0   // misa.H
    }

    var machineIDs: (vendor: UInt64, architecture: UInt64, implementation: UInt64) {
        (machine.readCSR(CSR.mvendorid) ?? 0, machine.readCSR(CSR.marchid) ?? 0, machine.readCSR(CSR.mimpid) ?? 0)
    }

    func register(_ index: Int, hart: Int) -> UInt64 { machine.register(index, hart: hart) }
    func setRegister(_ index: Int, hart: Int, value: UInt64) { machine.setRegister(index, value, hart: hart) }

    func setSupervisorTimerPending(hart: Int, _ pending: Bool) {
        machine.setPin(.stip, hart: hart, level: pending)
    }

    func programSupervisorTimerCompare(hart: Int, _ deadline: UInt64) -> Bool {
        guard (machine.readCSR(CSR.menvcfg, hart: hart) ?? 0) & (1 << 63) != 0 else { return false }  // STCE
        return machine.writeCSR(CSR.stimecmp, deadline, hart: hart)
    }

    func raiseSupervisorSoftwareInterrupt(hart: Int) {
        // Through sip, so the bit is the software-writable one S-mode clears (mideleg.SSIP is set
        // by `BuiltinFirmware.prepare`; without it the write is ignored, as for S-mode itself).
        let sip = machine.readCSR(CSR.sip, hart: hart) ?? 0
        machine.writeCSR(CSR.sip, sip | (1 << 1), hart: hart)
    }

    /// A handled trap ends the slice, so the new deadline bounds the next one.
    func timerDeadlineChanged(_ timer: any TimedDevice) { machine.timedDeviceChanged(timer) }

    func activity(ofHart hart: Int) -> SBIHartActivity { machine.sbiActivity(ofHart: hart) }

    func isExecutable(physicalAddress address: UInt64) -> Bool {
        address % 2 == 0 && ram.contains(address, length: 2)
    }

    func enterSupervisor(hart: Int, at address: UInt64, a0: UInt64, a1: UInt64) {
        machine.writeCSR(CSR.satp, 0, hart: hart)
        let sstatus = machine.readCSR(CSR.sstatus, hart: hart) ?? 0
        machine.writeCSR(CSR.sstatus, sstatus & ~(1 << 1), hart: hart)   // SIE = 0
        machine.startHart(hart, privilege: .supervisor, pc: address, a0: a0, a1: a1)
    }

    func stopHart(_ hart: Int) { machine.stopHart(hart) }

    /// The machine has no host call that puts a hart into WFI, so a suspend returns at once — what
    /// a WFI that completes immediately does, which the ISA allows (unprivileged spec, "Wait for
    /// Interrupt"). The guest sees a wake-up without an interrupt and suspends again if it wants.
    func waitForInterrupt(hart: Int) {}

    /// Decoded instructions are kept coherent with every store by the machine, so `fence.i` has
    /// nothing to drop; the call is still counted by the SBI.
    func flushInstructionCache(hart: Int) {}

    /// The machine flushes whole TLBs from the host; flushing more than asked is always correct.
    func flushTLB(hart: Int, _ flush: SBITLBFlush) { machine.flushTLB(hart: hart) }

    func requestReset(_ request: SBIResetRequest) { machine.performSBIReset(request) }

    func consoleWrite(_ bytes: [UInt8]) { console.consoleWrite(bytes) }

    func consoleRead(max: Int) -> [UInt8] {
        let taken = Array(input.prefix(max))
        input.removeFirst(taken.count)
        return taken
    }
}

extension Machine {
    /// What the SBI's HSM says of `hart`, from its run state: for SBI platforms whose harts are
    /// the machine's (the board's own, a `hw` VMM's).
    public func sbiActivity(ofHart hart: Int) -> SBIHartActivity {
        switch runState(hart: hart) {
        case .started: .running
        case .stopped: .stopped
        case .waitingForInterrupt: .waitingForInterrupt
        }
    }

    /// An SBI system reset: a shutdown powers the machine off (code 1 for a "system failure"
    /// reason), a reboot resets it.
    public func performSBIReset(_ request: SBIResetRequest) {
        switch request {
        case .shutdown(let failure): requestStop(.poweredOff(code: failure ? 1 : 0))
        case .coldReboot, .warmReboot: requestStop(.reset)
        }
    }
}
