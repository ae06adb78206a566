// SBI Base extension (EID 0x10; SBI v2.0 chapter 4): versions, implementation identity, probing.
// Every Base function succeeds; an unknown FID is the only error.

extension BuiltinSBI {
    func base(_ fid: UInt64, _ call: SBICall) -> SBIResult {
        switch fid {
        case 0: return .success(Self.specVersion)
        case 1: return .success(Self.implementationID)
        case 2: return .success(Self.implementationVersion)
        case 3: return .success(probe(call[0]) ? 1 : 0)
        case 4: return .success(platform.machineIDs.vendor)
        case 5: return .success(platform.machineIDs.architecture)
        case 6: return .success(platform.machineIDs.implementation)
        default: return .failure(.notSupported)
        }
    }

    /// Whether extension `eid` is available (`sbi_probe_extension`).
    public func probe(_ eid: UInt64) -> Bool {
        SBIExtension(rawValue: eid) != nil
    }
}
