/// Why `Machine.run` returned.
public enum StopReason: Sendable, Equatable, CustomStringConvertible {
    /// The instruction or cycle budget was used up; the machine can run on.
    case budgetExhausted
    /// A device (syscon, HTIF, SBI system reset) powered the machine off with an exit code.
    case poweredOff(code: Int)
    /// A device requested a reset; the host decides what a reset means (reload images and start again).
    case reset
    /// A hart reached a host breakpoint (before executing the instruction at `pc`).
    case breakpoint(hart: Int, pc: UInt64)
    /// Every hart waits (WFI or stopped) and nothing can ever wake one: no interrupt is pending and
    /// no device has a deadline.
    case idle
    /// The host asked the machine to stop (`Machine.requestStop`).
    case hostStop(String)
    /// A hart's data access met a watchpoint (`Machine.watchpoints`). The accessing instruction at
    /// `pc` completed; `address` is the first watched byte it touched (physical).
    case watchpoint(hart: Int, pc: UInt64, address: UInt64, isWrite: Bool)
    /// The machine's one hart took an instruction access fault at `pc`, and `pc` is where its trap
    /// vector sends it: mtvec in M-mode, or stvec in S-mode without translation under firmware
    /// that leaves S-mode alone. Every later step would take the same trap again, for good (see
    /// `Hart.raise`). `why` says how it got there, for a person.
    case stuck(hart: Int, pc: UInt64, why: String)

    public var description: String {
        switch self {
        case .budgetExhausted: "budget exhausted"
        case .poweredOff(let code): "powered off (code \(code))"
        case .reset: "reset requested"
        case .breakpoint(let hart, let pc): "breakpoint on hart \(hart) at 0x\(String(pc, radix: 16))"
        case .idle: "idle: all harts wait and nothing can wake them"
        case .hostStop(let why): "stopped by host: \(why)"
        case .watchpoint(let hart, let pc, let address, let isWrite):
            "watchpoint: hart \(hart) \(isWrite ? "wrote" : "read") 0x\(String(address, radix: 16)) at pc 0x\(String(pc, radix: 16))"
        case .stuck(_, _, let why): why
        }
    }
}

/// A privilege mode (privileged spec, "Privilege Levels"); the raw value is the encoding of
/// `mstatus.MPP`.
public enum PrivilegeMode: UInt8, Sendable, Comparable {
    case user = 0
    case supervisor = 1
    case machine = 3

    public static func < (a: PrivilegeMode, b: PrivilegeMode) -> Bool { a.rawValue < b.rawValue }
}

/// Whether a hart fetches instructions (SBI HSM's view of it).
public enum HartRunState: Sendable, Equatable {
    /// Running (or about to run) instructions.
    case started
    /// Halted by `stopHart` (SBI `hart_stop`) or never started; ignores interrupts until started.
    case stopped
    /// Executed WFI and waits for an interrupt to become pending.
    case waitingForInterrupt
}
