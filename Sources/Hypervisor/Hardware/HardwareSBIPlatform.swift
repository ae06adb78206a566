// The SBI of a `hw` VM: the board's SBI implementation (`BuiltinSBI`) serving the guest kernel's
// ecalls from VS-mode, each an exit to the VMM. What would touch the hart's own supervisor state
// goes to its virtual-supervisor counterpart: the timer raises VSTIP and an IPI VSSIP through
// `hvip` (delegated to VS-mode by `hideleg`, so the guest takes them without an exit); hart start
// enters VS-mode. The debug console is confined to the VM's RAM.

import Boot
import Devices
import Machine
import RISCV

final class HardwareSBIPlatform: SBIPlatform {
    unowned let machine: Machine
    /// Set by the technique once the VMM exists (the VMM holds the SBI, which holds this).
    weak var vmm: HardwareAssistedVMM?
    let console: any ConsoleSink
    /// The board's firmware, whose console input queue this reads.
    let input: BuiltinFirmware
    let guestMemory: ConfinedMemory
    let map: GuestPhysicalMap

    init(machine: Machine, map: GuestPhysicalMap, console: any ConsoleSink, input: BuiltinFirmware) {
        self.machine = machine
        self.map = map
        self.console = console
        self.input = input
        guestMemory = ConfinedMemory(machine: machine, map: map)
    }

    var hartCount: Int { machine.hartCount }
    var mtime: UInt64 { machine.mtime }
    var memory: any DMAMemory { guestMemory }
    /// The guest is not given the extension (no nested virtualisation).
    var hasHypervisorExtension: Bool { false }
    var machineIDs: (vendor: UInt64, architecture: UInt64, implementation: UInt64) {
        (machine.readCSR(CSR.mvendorid) ?? 0, machine.readCSR(CSR.marchid) ?? 0, machine.readCSR(CSR.mimpid) ?? 0)
    }

    func register(_ index: Int, hart: Int) -> UInt64 { machine.register(index, hart: hart) }
    func setRegister(_ index: Int, hart: Int, value: UInt64) { machine.setRegister(index, value, hart: hart) }

    func setSupervisorTimerPending(hart: Int, _ pending: Bool) {
        if pending { vmm?.timerFired(hart: hart) } else { vmm?.setVirtualInterrupt(.timer, pending: false, hart: hart) }
    }

    func raiseSupervisorSoftwareInterrupt(hart: Int) {
        vmm?.setVirtualInterrupt(.software, pending: true, hart: hart)
    }

    func timerDeadlineChanged(_ timer: any TimedDevice) { machine.timedDeviceChanged(timer) }

    func activity(ofHart hart: Int) -> SBIHartActivity { machine.sbiActivity(ofHart: hart) }

    func isExecutable(physicalAddress address: UInt64) -> Bool {
        address % 2 == 0 && map.machineAddress(address)?.isRAM == true
    }

    /// Starts `hart` in VS-mode: `vsatp` = 0, `vsstatus.SIE` = 0 (SBI "HSM Hart Start Register State").
    func enterSupervisor(hart: Int, at address: UInt64, a0: UInt64, a1: UInt64) {
        machine.writeCSR(CSR.vsatp, 0, hart: hart)
        let vsstatus = machine.readCSR(CSR.vsstatus, hart: hart) ?? 0
        machine.writeCSR(CSR.vsstatus, vsstatus & ~(1 << 1), hart: hart)
        machine.startHart(hart, privilege: .supervisor, pc: address, a0: a0, a1: a1)
        machine.setVirtualized(true, hart: hart)
        vmm?.enteredGuest(hart: hart)
    }

    func stopHart(_ hart: Int) { machine.stopHart(hart) }
    /// A suspend returns at once (a wfi that completes immediately, which the ISA allows).
    func waitForInterrupt(hart: Int) {}
    func flushInstructionCache(hart: Int) {}
    /// Flushing more than asked is always correct.
    func flushTLB(hart: Int, _ flush: SBITLBFlush) { machine.flushTLB(hart: hart) }

    func requestReset(_ request: SBIResetRequest) { machine.performSBIReset(request) }

    func consoleWrite(_ bytes: [UInt8]) { console.consoleWrite(bytes) }
    func consoleRead(max: Int) -> [UInt8] { input.takeConsoleInput(max: max) }
}
