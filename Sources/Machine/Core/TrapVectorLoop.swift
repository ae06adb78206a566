import RISCV

/// Decides when a hart (or a VMM's virtual hart) whose trap vector cannot be fetched is stuck:
/// every trap sends it back to the fault. `Hart.raise` and `TrapMonitor.reflect` ask it once they
/// know nothing else can move the hart (`stop(hart:register:fault:translated:at:retired:previous:)`).
///
/// With translation off the loop is a certain fixed point and is reported at once. With
/// translation on (the classic kernel bug of turning paging on without mapping the code or
/// `stvec`), the fetch depends on page tables in memory, which something other than the stuck
/// hart could in principle rewrite (a hook, a scheduled fault), so the loop is reported only after
/// the same fault has come back `reportAfter` times in a row with no instruction retired in
/// between: by then no run would leave it, and without a budget it would spin for ever. The count
/// is of traps, so the report is as deterministic as the run.
public struct TrapVectorLoop: Sendable {
    /// Consecutive returns, with nothing retired, after which the loop is reported.
    public static let reportAfter: UInt64 = 100_000

    private var pc: UInt64 = 0
    private var retired: UInt64 = 0
    private var count: UInt64 = 0
    /// The trap CSRs (cause, epc, tval) before the first fault of the current run of faults: the
    /// trap that led into the loop, for the message.
    public private(set) var previous: (cause: UInt64, pc: UInt64, tval: UInt64) = (0, 0, 0)

    public init() {}

    /// The stop for hart `hart` when its fetch fault `fault` (a cause) at `pc` is where its trap
    /// vector (the CSR named `register`) sends it back to, or nil: not a fetch fault, a page fault
    /// without translation, or with translation on not yet repeated `reportAfter` times with
    /// nothing retired (`retired` instructions so far). `previous` is the trap CSRs (cause, epc,
    /// tval) before this trap. The caller has checked that nothing else can move the hart.
    public mutating func stop(hart: Int, register: String, fault: UInt64, translated: Bool, at pc: UInt64,
                              retired: UInt64, previous: (cause: UInt64, pc: UInt64, tval: UInt64)) -> StopReason? {
        let accessFault = fault == ExceptionCause.instructionAccessFault.rawValue
        guard accessFault || fault == ExceptionCause.instructionPageFault.rawValue else { return nil }
        guard translated else {
            return accessFault ? .stuckOnTrapVector(hart: hart, vector: pc, register: register, previous: previous) : nil
        }
        guard record(faultAt: pc, retired: retired, previous: previous) else { return nil }
        return .stuckOnTrapVector(hart: hart, vector: pc, register: register, previous: self.previous,
                                  fault: fault, repeats: Self.reportAfter)
    }

    /// Records a fetch fault at `pc` that the trap vector sends straight back to `pc`, with
    /// `retired` instructions retired so far and `previous` the trap CSRs before this trap. True
    /// once the same fault has come back `reportAfter` times with nothing retired.
    public mutating func record(faultAt pc: UInt64, retired: UInt64,
                                previous: (cause: UInt64, pc: UInt64, tval: UInt64)) -> Bool {
        if count > 0, pc == self.pc, retired == self.retired {
            count &+= 1
        } else {
            self.pc = pc
            self.retired = retired
            self.previous = previous
            count = 1
        }
        return count >= Self.reportAfter
    }
}

/// For snapshot files: the tuple `previous` has no coding of its own.
extension TrapVectorLoop: Codable {
    private enum CodingKeys: String, CodingKey { case pc, retired, count, previousCause, previousPC, previousTval }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pc = try c.decode(UInt64.self, forKey: .pc)
        retired = try c.decode(UInt64.self, forKey: .retired)
        count = try c.decode(UInt64.self, forKey: .count)
        previous = (try c.decode(UInt64.self, forKey: .previousCause), try c.decode(UInt64.self, forKey: .previousPC),
                    try c.decode(UInt64.self, forKey: .previousTval))
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pc, forKey: .pc)
        try c.encode(retired, forKey: .retired)
        try c.encode(count, forKey: .count)
        try c.encode(previous.cause, forKey: .previousCause)
        try c.encode(previous.pc, forKey: .previousPC)
        try c.encode(previous.tval, forKey: .previousTval)
    }
}
