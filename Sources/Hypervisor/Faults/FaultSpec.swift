// Fault injection as plain data: which injector, its parameters, and when it fires. Every fault
// that fires is recorded with where the guest was (instructions, cycles, pc) and what it did, in a
// sentence, so a run's results always say which faults shaped them.
import Machine

/// An injector (the raw value is its `vmlab.faults()` name).
public enum FaultKind: String, CaseIterable, Sendable, Hashable {
    case memoryBitflip = "bitflip_memory"
    case registerBitflip = "bitflip_register"
    case pteBitflip = "bitflip_pte"
    case interruptDrop = "interrupt_drop"
    case interruptDelay = "interrupt_delay"
    case interruptSpurious = "interrupt_spurious"
    case deviceFailure = "device_failure"
    case linkDown = "link_down"
    case linkUp = "link_up"

    public var name: String { rawValue }
}

/// A parameter value, as it arrives from Lua.
public enum FaultParameter: Sendable, Equatable, Hashable, CustomStringConvertible {
    case integer(UInt64)
    case string(String)

    public var description: String {
        switch self {
        case .integer(let v): v > 0xFFFF ? "0x" + String(v, radix: 16) : String(v)
        case .string(let s): s
        }
    }
}

/// When a fault fires.
public enum FaultTrigger: Sendable, Equatable, CustomStringConvertible {
    /// When scheduled.
    case now
    /// When the guest has retired this many instructions (all vCPUs; the count since it was built).
    case instructions(UInt64)
    /// When the guest's modelled clock reaches this cycle (at the first instruction boundary at or
    /// after it).
    case cycles(UInt64)
    /// Before the guest executes the instruction at this pc.
    case pc(UInt64)
    /// Right after the `count`th event of `kind` counted from scheduling (inside the event: the
    /// guest resumes after the instruction that caused it).
    case event(GuestEventKind, count: Int)

    public var description: String {
        switch self {
        case .now: "now"
        case .instructions(let n): "at instruction \(n)"
        case .cycles(let c): "at cycle \(c)"
        case .pc(let pc): "at pc 0x\(String(pc, radix: 16))"
        case .event(let kind, let count): "at \(kind.rawValue) event #\(count)"
        }
    }
}

/// One fault to inject.
public struct FaultSpec: Sendable, Equatable {
    public var kind: FaultKind
    public var parameters: [String: FaultParameter]
    public var trigger: FaultTrigger

    public init(kind: FaultKind, parameters: [String: FaultParameter] = [:], trigger: FaultTrigger = .now) {
        self.kind = kind
        self.parameters = parameters
        self.trigger = trigger
    }
}

/// A fault that fired.
public struct InjectedFault: Sendable, Equatable {
    public var id: Int
    public var kind: FaultKind
    public var parameters: [String: FaultParameter]
    public var trigger: FaultTrigger
    /// The guest's retired instructions and modelled cycles when it fired, and vCPU 0's pc (or the
    /// pc of the vCPU the fault concerns).
    public var instructions: UInt64
    public var cycles: UInt64
    public var pc: UInt64
    /// What it did, in a sentence. Faults that act later (drops, delays, device failures) update
    /// it as they take effect.
    public var effect: String
}

/// A fault that cannot be scheduled: a message in the Lua error style.
public struct FaultError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
