// The `hw` VMM's choices a lab can change (`vmlab.vm{ mode = "hw", hw = { ... } }`).

/// How the `hw` VMM builds its guest's G stage.
public struct HardwareAssistedPolicy: Sendable, Equatable {
    /// The size of the G stage's leaves: 4 KiB (the default, the case [B08] counts: a miss of an
    /// Sv39 guest reads 15 entries) or 2 MiB (megapages: the G walk ends a level sooner, 11
    /// entries, and a guest superpage keeps a 2 MiB TLB entry; where the guest's RAM is not
    /// 2 MiB-aligned at its ends, 4 KiB leaves fill in).
    public var gStagePageSize: UInt64 = 4096

    /// The sizes a G stage may use.
    public static let gStagePageSizes: [UInt64] = [4096, 2 << 20]

    public init(gStagePageSize: UInt64 = 4096) {
        self.gStagePageSize = gStagePageSize
    }
}
