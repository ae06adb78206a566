// The virtualisation techniques a lab chooses between (DESIGN.md, "The modes"). Each available mode
// is one `Technique` type in Sources/Hypervisor/Techniques/; the others are named here so a lab that
// asks for them gets a clear "not available yet" rather than "unknown".

/// How a guest's vCPUs run.
public enum ExecutionMode: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
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
    public static var available: [ExecutionMode] { [.native, .interpret, .trap] }

    public var isAvailable: Bool { Self.available.contains(self) }

    /// Whether the mode needs a VMM (and so a host carve-out for the guest's RAM).
    public var needsVMM: Bool { self != .native }

    public var description: String { rawValue }

    /// A technique implementing this mode.
    func makeTechnique() throws(GuestBuildError) -> any Technique {
        switch self {
        case .native: NativeTechnique()
        case .interpret: InterpretTechnique()
        case .trap: TrapTechnique()
        case .bt, .pv, .hw:
            throw GuestBuildError("mode '\(rawValue)' is not available yet (available: \(Self.available.map(\.rawValue).joined(separator: ", ")))")
        }
    }
}
