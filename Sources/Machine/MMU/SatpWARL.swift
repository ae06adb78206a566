// satp's MODE and ASID fields are WARL (privileged spec, "Supervisor Address Translation and
// Protection (satp) Register"): a write of a MODE the hart does not implement has no effect at all,
// and ASID bits beyond ASIDLEN read as zero. The harts' satp and vsatp follow this rule, and so
// does a VMM's virtual satp, which offers its guest what its shadow pager can build.

/// The WARL rule of satp-like registers, for the harts and for VMMs that emulate one.
public enum SatpWARL {
    /// The levels of translation MODE `mode` (8 Sv39: 3, 9 Sv48: 4, 10 Sv57: 5), or nil for Bare
    /// and reserved modes.
    public static func levels(mode: UInt64) -> Int? {
        (8...10).contains(mode) ? Int(mode) - 5 : nil
    }

    /// What a satp that implements Bare and each translation mode of at most `widestLevels` levels,
    /// with `asidBits` of ASID, holds after a write of `value`; nil when MODE is not implemented
    /// and the write has no effect.
    public static func legal(_ value: UInt64, asidBits: Int, widestLevels: Int) -> UInt64? {
        let mode = value >> 60
        guard mode == 0 || levels(mode: mode).map({ $0 <= widestLevels }) == true else { return nil }
        let asidMask: UInt64 = ((1 << UInt64(max(0, min(16, asidBits)))) - 1) << 44
        return (value & ((0xF << 60) | ((1 << 44) - 1))) | (value & asidMask)
    }
}

extension MachineConfiguration {
    /// The levels of the widest translation the harts implement: 5 with Sv57, else 4 (Sv48).
    public var widestTranslationLevels: Int { sv57 ? 5 : 4 }
}
