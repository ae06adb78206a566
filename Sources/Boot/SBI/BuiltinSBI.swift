// vmlab's SBI implementation in Swift (RISC-V SBI specification v2.0): what OpenSBI does in M-mode,
// done by the host when a hart's S-mode `ecall` reaches it, so a kernel boots without firmware
// instructions to simulate. Extensions: Base, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy
// set_timer / console_putchar / console_getchar / shutdown. Each extension is one file
// (`BuiltinSBI+<Extension>.swift`); this file dispatches and holds the shared state.
//
// Guest arguments are untrusted: every bad value becomes an SBI error code in `a0`, never a trap.
import Machine

/// The built-in SBI of one machine. It is also the timer device behind the TIME extension.
public final class BuiltinSBI {
    /// SBI specification v2.0: major in bits 30:24, minor in bits 23:0.
    public static let specVersion: UInt64 = 2 << 24 | 0
    /// No implementation ID is registered for vmlab (SBI v2.0 "SBI Implementation IDs" lists
    /// 0–11), so it reports the ASCII of "vmlb", well clear of the registered ones.
    public static let implementationID: UInt64 = 0x766D_6C62
    public static let implementationVersion: UInt64 = 1 << 16 | 0
    /// The most bytes one DBCN read or write moves; the spec allows partial transfers, and the cap
    /// keeps a guest's `num_bytes = 2^64 - 1` from becoming a host allocation.
    public static let debugConsoleChunk = 4096

    /// Held strongly: the platform adapter is the SBI's alone; it refers to the machine weakly.
    let platform: any SBIPlatform
    /// Per hart: the TIME extension's deadline (`nil` when none is pending).
    var timerDeadlines: [UInt64?]
    /// Per hart: suspended through HSM (as opposed to sleeping in a WFI of its own).
    var suspended: [Bool]
    /// Calls made, by extension ID (unknown IDs included), for statistics.
    public internal(set) var callCounts: [UInt64: UInt64] = [:]

    /// Calls made to implemented extensions, by `SBIExtension.name` (plain data for `vm:stats()`).
    public var callsByExtension: [String: UInt64] {
        var result: [String: UInt64] = [:]
        for (eid, count) in callCounts {
            if let ext = SBIExtension(rawValue: eid) { result[ext.name, default: 0] += count }
        }
        return result
    }

    public init(platform: any SBIPlatform) {
        self.platform = platform
        timerDeadlines = Array(repeating: nil, count: platform.hartCount)
        suspended = Array(repeating: false, count: platform.hartCount)
    }

    /// Back to the power-on state: no timer pending (STIP dropped), no hart suspended.
    public func reset() {
        for hart in timerDeadlines.indices {
            timerDeadlines[hart] = nil
            suspended[hart] = false
            platform.setSupervisorTimerPending(hart: hart, false)
        }
        platform.timerDeadlineChanged(self)
    }

    /// Serves the `ecall` `hart` just made from S-mode: reads `a0`–`a7`, runs the call and writes
    /// the results back as the outcome says. The caller has already moved the pc past the `ecall`.
    @discardableResult
    public func handleEcall(hart: Int) -> SBIOutcome {
        let p = platform
        // a0–a7 are x10–x17.
        let call = SBICall(extensionID: p.register(17, hart: hart), functionID: p.register(16, hart: hart),
                           p.register(10, hart: hart), p.register(11, hart: hart), p.register(12, hart: hart),
                           p.register(13, hart: hart), p.register(14, hart: hart), p.register(15, hart: hart))
        let outcome = handle(call, hart: hart)
        switch outcome {
        case .returns(let result):
            p.setRegister(10, hart: hart, value: UInt64(bitPattern: result.error.rawValue))
            p.setRegister(11, hart: hart, value: result.value)
        case .legacy(let value):
            p.setRegister(10, hart: hart, value: UInt64(bitPattern: value))
        case .noReturn:
            break
        }
        return outcome
    }

    /// Runs one call for `hart` and says how the hart continues; registers are not touched.
    public func handle(_ call: SBICall, hart: Int) -> SBIOutcome {
        guard hart >= 0, hart < platform.hartCount else { return .returns(.failure(.failed)) }
        // EIDs and FIDs are signed 32-bit values passed sign-extended (SBI v2.0 "Binary
        // Encoding"); every defined one is positive, so a register with stray upper bits names no
        // extension — the full value is compared, as OpenSBI does.
        let eid = call.extensionID
        let fid = call.functionID
        callCounts[eid, default: 0] &+= 1
        // A hart making a call is running, whatever suspend it came back from.
        suspended[hart] = false
        guard let ext = SBIExtension(rawValue: eid) else {
            // Legacy EIDs are below 0x10; they answer in a0 alone.
            return eid < 0x10 ? .legacy(SBIError.notSupported.rawValue) : .returns(.failure(.notSupported))
        }
        switch ext {
        case .base: return .returns(base(fid, call))
        case .timer: return .returns(fid == 0 ? setTimer(hart: hart, call[0]) : .failure(.notSupported))
        case .ipi: return .returns(fid == 0 ? sendIPI(mask: call[0], base: call[1]) : .failure(.notSupported))
        case .remoteFence: return .returns(remoteFence(fid, call))
        case .hartStateManagement: return hartStateManagement(fid, call, hart: hart)
        case .systemReset: return systemReset(fid, call)
        case .debugConsole: return .returns(debugConsole(fid, call))
        case .legacySetTimer, .legacyConsolePutchar, .legacyConsoleGetchar, .legacyShutdown:
            return legacy(ext, call, hart: hart)
        }
    }

    /// The harts a (hart_mask, hart_mask_base) pair names (SBI v2.0 "Hart list parameter"), or
    /// `nil` when it names a hart that does not exist.
    func harts(mask: UInt64, base: UInt64) -> [Int]? {
        let count = platform.hartCount
        if base == UInt64.max { return Array(0..<count) }
        var result: [Int] = []
        for bit in 0..<64 where (mask >> UInt64(bit)) & 1 != 0 {
            let (id, overflow) = base.addingReportingOverflow(UInt64(bit))
            guard !overflow, id < UInt64(count) else { return nil }
            result.append(Int(id))
        }
        return result
    }
}
