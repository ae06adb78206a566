// The virtualisation techniques a lab chooses between (DESIGN.md, "The modes"). Each available mode
// is one `Technique` type in Sources/Hypervisor/Techniques/; the others are named here so a lab that
// asks for them gets a clear "not available yet" rather than "unknown".

import Machine

/// How a guest's vCPUs run.
public enum ExecutionMode: String, CaseIterable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// No VMM: the guest runs on the machine directly (the baseline).
    case native
    /// The VMM runs the guest in a software CPU; every instruction is emulated and charged.
    case interpret
    /// Trap-and-emulate with shadow page tables.
    case trap
    /// Binary translation.
    case bt
    /// Para-virtualisation.
    case pv
    /// Hardware assistance (the H extension).
    case hw

    /// The modes this build implements.
    public static var available: [ExecutionMode] { [.native, .interpret, .trap, .bt, .pv, .hw] }

    public var isAvailable: Bool { Self.available.contains(self) }

    /// Whether the mode needs a VMM (and so a host carve-out for the guest's RAM).
    public var needsVMM: Bool { self != .native }

    /// Whether the mode's VMM serves its guest kernel through the built-in SBI (`trap`, `bt`, `pv`):
    /// its guest is always a kernel under that firmware, never a bare-metal program.
    public var runsKernelUnderBuiltinSBI: Bool { self == .trap || self == .bt || self == .pv || self == .hw }

    public var description: String { rawValue }

    /// The engine the mode's guests run on, given the one configured: `bt`'s translation cache
    /// is the block cache, which the block engine and the native-code engine (built on it) keep
    /// and the interpreter does not, so `bt` runs on the block engine where the interpreter was
    /// asked for. Every other mode runs on the engine configured.
    public func engine(given configured: ExecutionEngine) -> ExecutionEngine {
        self == .bt && configured == .interpreter ? .blocks : configured
    }

    /// A technique implementing this mode.
    func makeTechnique(for configuration: GuestConfiguration) throws(GuestBuildError) -> any Technique {
        switch self {
        case .native: NativeTechnique()
        case .interpret: InterpretTechnique()
        case .trap: TrapTechnique(shadowPolicy: configuration.shadowPolicy)
        case .pv: ParavirtualTechnique(policy: configuration.paravirtualPolicy)
        case .bt: BinaryTranslationTechnique(policy: configuration.binaryTranslationPolicy, shadowPolicy: configuration.shadowPolicy)
        case .hw: HardwareAssistedTechnique(policy: configuration.hardwarePolicy, shadowPolicy: configuration.shadowPolicy)
        }
    }
}
