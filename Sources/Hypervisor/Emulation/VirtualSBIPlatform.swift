// The virtual SBI of a trap-and-emulate VM: the board's SBI implementation (`BuiltinSBI`) serving
// the guest kernel's ecalls, with every duty that would touch the hart's real supervisor state
// turned into the vCPU's virtual one — the timer raises the virtual STIP, an IPI the virtual SSIP,
// hart start enters virtual S-mode, a remote fence flushes the shadows' TLB entries — and the
// debug console confined to the VM's own RAM (never the VMM's shadow pool behind it), reading the
// board's console input as the board's own firmware would.

import Boot
import Devices
import Machine
import RISCV

/// `SBIPlatform` for one trap-and-emulate vCPU.
public final class VirtualSBIPlatform: SBIPlatform {
    unowned let monitor: TrapMonitor
    let console: any ConsoleSink
    /// The board's firmware, whose console input queue (`VirtBoard.enqueueInput`) this reads.
    let input: BuiltinFirmware
    let guestMemory: ConfinedMemory

    public init(monitor: TrapMonitor, console: any ConsoleSink, input: BuiltinFirmware) {
        self.monitor = monitor
        self.console = console
        self.input = input
        guestMemory = ConfinedMemory(machine: monitor.machine, map: monitor.shadow.map)
    }

    var machine: Machine { monitor.machine }
    public var hartCount: Int { 1 }
    public var mtime: UInt64 { machine.mtime }
    public var memory: any DMAMemory { guestMemory }
    public var hasHypervisorExtension: Bool { false }
    public var machineIDs: (vendor: UInt64, architecture: UInt64, implementation: UInt64) {
        (machine.readCSR(CSR.mvendorid) ?? 0, machine.readCSR(CSR.marchid) ?? 0, machine.readCSR(CSR.mimpid) ?? 0)
    }

    public func register(_ index: Int, hart: Int) -> UInt64 { machine.register(index, hart: monitor.hart) }
    public func setRegister(_ index: Int, hart: Int, value: UInt64) { machine.setRegister(index, value, hart: monitor.hart) }

    public func setSupervisorTimerPending(hart: Int, _ pending: Bool) {
        if pending { monitor.timerFired() } else { monitor.setInterrupt(.supervisorTimer, pending: false) }
    }

    public func raiseSupervisorSoftwareInterrupt(hart: Int) {
        monitor.setInterrupt(.supervisorSoftware, pending: true)
    }

    public func timerDeadlineChanged(_ timer: any TimedDevice) { machine.timedDeviceChanged(timer) }

    public func activity(ofHart hart: Int) -> SBIHartActivity {
        if monitor.asleep { return .waitingForInterrupt }
        return machine.runState(hart: monitor.hart) == .stopped ? .stopped : .running
    }

    public func isExecutable(physicalAddress address: UInt64) -> Bool {
        address % 2 == 0 && monitor.shadow.map.machineAddress(address)?.isRAM == true
    }

    public func enterSupervisor(hart: Int, at address: UInt64, a0: UInt64, a1: UInt64) {
        monitor.start(pc: address, a0: a0, a1: a1)
    }

    public func stopHart(_ hart: Int) { machine.stopHart(monitor.hart) }
    /// A suspend returns at once (a wfi that completes immediately, which the ISA allows).
    public func waitForInterrupt(hart: Int) {}
    public func flushInstructionCache(hart: Int) {}
    public func flushTLB(hart: Int, _ flush: SBITLBFlush) { monitor.shadow.fence(va: nil, asid: nil) }

    public func requestReset(_ request: SBIResetRequest) { machine.performSBIReset(request) }

    public func consoleWrite(_ bytes: [UInt8]) { console.consoleWrite(bytes) }
    public func consoleRead(max: Int) -> [UInt8] { input.takeConsoleInput(max: max) }
}

/// Guest-physical memory for the virtual SBI's buffers: only the VM's RAM regions.
final class ConfinedMemory: DMAMemory {
    unowned let machine: Machine
    let map: GuestPhysicalMap

    init(machine: Machine, map: GuestPhysicalMap) {
        self.machine = machine
        self.map = map
    }

    func machineRange(_ address: UInt64, _ count: Int) -> UInt64? {
        guard count > 0 else { return map.machineAddress(address)?.address ?? 0 }
        guard let (start, isRAM) = map.machineAddress(address), isRAM,
              let (end, endRAM) = map.machineAddress(address &+ UInt64(count) &- 1), endRAM,
              end &- start == UInt64(count) &- 1 else { return nil }
        return start
    }

    func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let ma = machineRange(address, buffer.count) else { return false }
        return machine.dmaRead(ma, into: buffer)
    }

    func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        guard let ma = machineRange(address, buffer.count) else { return false }
        return machine.dmaWrite(ma, from: buffer)
    }
}
