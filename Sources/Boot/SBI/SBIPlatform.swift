// What the built-in SBI needs from the machine it serves. The SBI stands where M-mode firmware
// would, so it needs M-mode's powers: the calling hart's registers, the timebase, the interrupt pins,
// starting and stopping harts, flushing their TLBs and instruction caches, stopping the machine, the
// console and physical memory. Keeping them behind this protocol lets the SBI be tested with fakes
// and lets the board adapt it to the real `Machine`.
import Machine

/// Whether a hart runs, sleeps in WFI, or is stopped (the facts HSM's states are derived from).
public enum SBIHartActivity: Sendable, Equatable {
    case running
    case waitingForInterrupt
    case stopped
}

/// Which translations a remote fence drops (SBI v2.0 "RFENCE Extension").
public struct SBITLBFlush: Sendable, Equatable {
    public enum Stage: Sendable, Equatable {
        /// `sfence.vma`: the supervisor's (or, with H, the host's) stage.
        case supervisor
        /// `hfence.gvma`: G-stage translations, optionally only one VMID's.
        case guestPhysical(vmid: UInt64?)
        /// `hfence.vvma`: VS-stage translations of the current VMID.
        case virtualSupervisor
    }

    public var stage: Stage
    /// The virtual (or guest-physical) range, or `nil` for the whole address space.
    public var range: MemoryRange?
    /// Only this address space's entries, or `nil` for all of them.
    public var asid: UInt64?

    public init(stage: Stage, range: MemoryRange?, asid: UInt64?) {
        self.stage = stage
        self.range = range
        self.asid = asid
    }
}

/// How the machine should stop after an SRST call or a legacy shutdown.
public enum SBIResetRequest: Sendable, Equatable {
    /// Power off; `failure` when the reason was "system failure" (the run fails).
    case shutdown(failure: Bool)
    case coldReboot
    case warmReboot
}

/// The machine as the built-in SBI sees it.
public protocol SBIPlatform: AnyObject {
    var hartCount: Int { get }
    /// The platform timebase (10 MHz ticks).
    var mtime: UInt64 { get }
    /// Physical memory, for the debug console's buffers.
    var memory: any DMAMemory { get }
    /// Whether the harts implement the H extension (enables the RFENCE `hfence` functions).
    var hasHypervisorExtension: Bool { get }
    /// `mvendorid`, `marchid`, `mimpid` of the harts.
    var machineIDs: (vendor: UInt64, architecture: UInt64, implementation: UInt64) { get }

    /// Integer register `x<index>` of `hart`.
    func register(_ index: Int, hart: Int) -> UInt64
    func setRegister(_ index: Int, hart: Int, value: UInt64)

    /// Drives `mip.STIP` of `hart`: a level the SBI holds until the next `set_timer` (S-mode cannot
    /// clear STIP itself).
    func setSupervisorTimerPending(hart: Int, _ pending: Bool)
    /// Programs `hart`'s own timer compare for `deadline` and returns true, where the hart has one
    /// that S-mode's STIP follows (Sstc's `stimecmp`, enabled): OpenSBI serves `set_timer` so when
    /// the hart has Sstc, and the SBI keeps no deadline of its own. False: the SBI times it.
    func programSupervisorTimerCompare(hart: Int, _ deadline: UInt64) -> Bool
    /// Sets the software-writable `mip.SSIP` of `hart`, as M-mode firmware does for an IPI; the
    /// receiving S-mode clears it through `sip`, so this is an edge, not a held level.
    func raiseSupervisorSoftwareInterrupt(hart: Int)
    /// The SBI's timer deadline moved: the machine must re-read `timer.nextDeadline`
    /// (`Machine.timedDeviceChanged`), since nothing else tells it.
    func timerDeadlineChanged(_ timer: any TimedDevice)

    func activity(ofHart hart: Int) -> SBIHartActivity
    /// Whether S-mode may execute at `address` (RAM, PMP permitting).
    func isExecutable(physicalAddress address: UInt64) -> Bool
    /// Starts `hart` in S-mode at `address` with `a0`, `a1` set, `satp = 0` and `sstatus.SIE = 0`
    /// (SBI v2.0 "HSM Hart Start Register State"); the hart runs from its next turn.
    func enterSupervisor(hart: Int, at address: UInt64, a0: UInt64, a1: UInt64)
    /// Stops `hart`: it executes nothing and ignores interrupts until started again.
    func stopHart(_ hart: Int)
    /// Puts `hart` to sleep as WFI does, until an interrupt becomes pending.
    func waitForInterrupt(hart: Int)

    func flushInstructionCache(hart: Int)
    func flushTLB(hart: Int, _ flush: SBITLBFlush)
    func requestReset(_ request: SBIResetRequest)

    func consoleWrite(_ bytes: [UInt8])
    /// Up to `max` bytes of pending console input, possibly none (never blocks).
    func consoleRead(max: Int) -> [UInt8]
}

extension SBIPlatform {
    /// A VMM's virtual SBI times the guest's requests itself.
    public func programSupervisorTimerCompare(hart: Int, _ deadline: UInt64) -> Bool { false }
}
