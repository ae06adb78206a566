import RISCV

/// Why `Machine.run` returned.
public enum StopReason: Sendable, Equatable, Codable, CustomStringConvertible {
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
    /// that leaves S-mode alone (see `Hart.raise`), or a VMM's virtual stvec in the same case.
    /// Every later step would take the same trap again, for good. With translation on, the same
    /// loop on a page or access fault, once it has come back `TrapVectorLoop.reportAfter` times
    /// with nothing retired. `why` says how it got there, for a person (`stuckOnTrapVector`).
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

extension StopReason {
    /// `.stuck` for hart `hart`, whose trap vector `vector` (the CSR named `register`) cannot be
    /// fetched. `previous` is what the trap CSRs (xcause, xepc, xtval) held before this trap: when
    /// it was another trap (not this same fault, and not the all-zero state of a hart that never
    /// trapped), it is the one that led here, and the message names it. One wording for the hart
    /// and for a VMM's virtual hart.
    ///
    /// `fault` is the cause of the fetch fault (an access fault, or with translation on a page
    /// fault); `repeats`, when the loop was recognised by repetition (``TrapVectorLoop``), how many
    /// times it came back.
    public static func stuckOnTrapVector(hart: Int, vector: UInt64, register: String,
                                         previous: (cause: UInt64, pc: UInt64, tval: UInt64),
                                         fault: UInt64 = ExceptionCause.instructionAccessFault.rawValue,
                                         repeats: UInt64? = nil) -> StopReason {
        let hex = { (v: UInt64) in "0x" + String(v, radix: 16) }
        let faultName = (ExceptionCause(rawValue: fault)?.name ?? "cause \(fault)").split(separator: "_").joined(separator: " ")
        var why = "hart \(hart) is stuck: its trap vector \(hex(vector)) (\(register)) cannot be fetched (\(faultName)), so every trap returns to it"
        if let repeats {
            why += " (with translation on: it came back \(repeats) times in a row, no instruction retired)"
        }
        let none = previous.cause == 0 && previous.pc == 0 && previous.tval == 0
        if !none, previous.cause >> 63 == 0, previous.cause != fault || previous.pc != vector {
            let name = ExceptionCause(rawValue: previous.cause)?.name ?? "cause \(previous.cause)"
            why += "; the trap that led there: \(name) at pc \(hex(previous.pc)) (tval \(hex(previous.tval)))"
        }
        return .stuck(hart: hart, pc: vector, why: why)
    }
}

/// A privilege mode (privileged spec, "Privilege Levels"); the raw value is the encoding of
/// `mstatus.MPP`.
public enum PrivilegeMode: UInt8, Sendable, Comparable, Codable {
    case user = 0
    case supervisor = 1
    case machine = 3

    public static func < (a: PrivilegeMode, b: PrivilegeMode) -> Bool { a.rawValue < b.rawValue }
}

/// Whether a hart fetches instructions (SBI HSM's view of it).
public enum HartRunState: Sendable, Equatable, Codable {
    /// Running (or about to run) instructions.
    case started
    /// Halted by `stopHart` (SBI `hart_stop`) or never started; ignores interrupts until started.
    case stopped
    /// Executed WFI and waits for an interrupt to become pending.
    case waitingForInterrupt
}
