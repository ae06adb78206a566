// The legacy SBI v0.1 extensions (SBI v2.0 chapter 5) that early boot code and small kernels still
// use: set_timer (0x00), console_putchar (0x01), console_getchar (0x02) and shutdown (0x08). They
// return one value in a0 and preserve a1. The others (0x03–0x07) take hart masks as S-mode virtual
// addresses, are deprecated, and answer SBI_ERR_NOT_SUPPORTED here.

extension BuiltinSBI {
    func legacy(_ ext: SBIExtension, _ call: SBICall, hart: Int) -> SBIOutcome {
        switch ext {
        case .legacySetTimer:
            _ = setTimer(hart: hart, call[0])
            return .legacy(0)
        case .legacyConsolePutchar:
            platform.consoleWrite([UInt8(truncatingIfNeeded: call[0])])
            return .legacy(0)
        case .legacyConsoleGetchar:
            return .legacy(platform.consoleRead(max: 1).first.map { Int64($0) } ?? -1)
        case .legacyShutdown:
            platform.requestReset(.shutdown(failure: false))
            return .noReturn
        default:
            return .legacy(SBIError.notSupported.rawValue)
        }
    }
}
