// The plain data a VM and a host are built from (what `vmlab.vm{...}` and `vmlab.host{...}` fill in).
import Boot
import Machine

/// Everything needed to build one VM.
public struct GuestConfiguration: Sendable {
    /// Shown in reports; `nil` names the VM "vm<id>".
    public var name: String?
    public var mode: ExecutionMode = .native
    public var profile: CostProfile = .standard
    /// Memory (the guest-physical RAM size), harts (= vCPUs), firmware, kernel, disks, bootargs, echo.
    public var board = VirtBoardConfiguration()
    /// The para-virtual VMM's rules (batch limit, trust in the kernel's linear map, ...); used by
    /// `pv` only.
    public var paravirtualPolicy = ParavirtualPolicy()
    /// The binary translator's rules (adaptation threshold, inline emulation, afterburning); used
    /// by `bt` only.
    public var binaryTranslationPolicy = BinaryTranslationPolicy()
    /// The shadow pager's rules (unshadowing after a write flood); used by `trap` and `bt`.
    public var shadowPolicy = ShadowPolicy()
    /// The hardware-assisted VMM's rules (the G stage's page size); used by `hw` only.
    public var hardwarePolicy = HardwareAssistedPolicy()

    public init(name: String? = nil, mode: ExecutionMode = .native, profile: CostProfile = .standard,
                board: VirtBoardConfiguration = VirtBoardConfiguration(),
                paravirtualPolicy: ParavirtualPolicy = ParavirtualPolicy(),
                binaryTranslationPolicy: BinaryTranslationPolicy = BinaryTranslationPolicy(),
                shadowPolicy: ShadowPolicy = ShadowPolicy(),
                hardwarePolicy: HardwareAssistedPolicy = HardwareAssistedPolicy()) {
        self.name = name
        self.mode = mode
        self.profile = profile
        self.board = board
        self.paravirtualPolicy = paravirtualPolicy
        self.binaryTranslationPolicy = binaryTranslationPolicy
        self.shadowPolicy = shadowPolicy
        self.hardwarePolicy = hardwarePolicy
    }
}

/// Why a VM could not be built: a message in the Lua error style.
public struct GuestBuildError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The physical machine a VMM runs on.
public struct HostConfiguration: Sendable {
    /// Host RAM that VMs are carved from (lazily backed: only touched pages cost host memory).
    public var memory: UInt64 = 1 << 30
    public var harts: Int = 1
    /// Guest instructions per VM turn of the round-robin scheduler.
    public var slice: UInt64 = 100_000
    /// The profile that prices the host's own work (each VM is priced by its configuration's).
    public var profile: CostProfile = .standard

    public init(memory: UInt64 = 1 << 30, harts: Int = 1, slice: UInt64 = 100_000, profile: CostProfile = .standard) {
        self.memory = memory
        self.harts = harts
        self.slice = slice
        self.profile = profile
    }
}
