// SBI System Reset extension (EID "SRST"; SBI v2.0 chapter 10):
// `sbi_system_reset(reset_type, reset_reason)`, both 32-bit.
//
//   reset_type   0 shutdown, 1 cold reboot, 2 warm reboot; 0x3–0xEFFFFFFF reserved,
//                0xF0000000–0xFFFFFFFF vendor-specific (none implemented)
//   reset_reason 0 no reason, 1 system failure; 0x2–0xDFFFFFFF reserved, higher ranges SBI- and
//                vendor-specific (none implemented)
//
// On success the call does not return: the machine stops and the run reports why.

extension BuiltinSBI {
    func systemReset(_ fid: UInt64, _ call: SBICall) -> SBIOutcome {
        guard fid == 0 else { return .returns(.failure(.notSupported)) }
        let type = UInt32(truncatingIfNeeded: call[0])
        let reason = UInt32(truncatingIfNeeded: call[1])
        guard reason <= 1 else { return .returns(.failure(.invalidParam)) }
        let request: SBIResetRequest
        switch type {
        case 0: request = .shutdown(failure: reason == 1)
        case 1: request = .coldReboot
        case 2: request = .warmReboot
        default: return .returns(.failure(.invalidParam))
        }
        platform.requestReset(request)
        return .noReturn
    }
}
