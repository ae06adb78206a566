// SBI Debug Console extension (EID "DBCN"; SBI v2.0 chapter 12).
//
//   FID 0 console_write(num_bytes, base_addr_lo, base_addr_hi) -> bytes written
//   FID 1 console_read(num_bytes, base_addr_lo, base_addr_hi)  -> bytes read
//   FID 2 console_write_byte(byte)
//
// Buffers are physical memory; one that is not wholly RAM is SBI_ERR_INVALID_PARAM (the spec's
// error for a bad shared-memory range here). Transfers are capped at `debugConsoleChunk` bytes,
// which the spec permits: both calls may move fewer bytes than asked and say how many.

extension BuiltinSBI {
    func debugConsole(_ fid: UInt64, _ call: SBICall) -> SBIResult {
        switch fid {
        case 0: return consoleWrite(count: call[0], low: call[1], high: call[2])
        case 1: return consoleRead(count: call[0], low: call[1], high: call[2])
        case 2:
            platform.consoleWrite([UInt8(truncatingIfNeeded: call[0])])
            return .success()
        default: return .failure(.notSupported)
        }
    }

    private func consoleWrite(count: UInt64, low: UInt64, high: UInt64) -> SBIResult {
        guard high == 0 else { return .failure(.invalidParam) }   // beyond a 64-bit physical space
        let length = Int(min(count, UInt64(Self.debugConsoleChunk)))
        guard length > 0 else { return .success(0) }
        var buffer = [UInt8](repeating: 0, count: length)
        let ok = buffer.withUnsafeMutableBytes { platform.memory.dmaRead(low, into: $0) }
        guard ok else { return .failure(.invalidParam) }
        platform.consoleWrite(buffer)
        return .success(UInt64(length))
    }

    private func consoleRead(count: UInt64, low: UInt64, high: UInt64) -> SBIResult {
        guard high == 0 else { return .failure(.invalidParam) }
        let length = Int(min(count, UInt64(Self.debugConsoleChunk)))
        guard length > 0 else { return .success(0) }
        // Check the whole destination before consuming input, so a bad buffer loses no keystrokes.
        var probe = [UInt8](repeating: 0, count: length)
        let valid = probe.withUnsafeMutableBytes { platform.memory.dmaRead(low, into: $0) }
        guard valid else { return .failure(.invalidParam) }
        let input = platform.consoleRead(max: length)
        guard !input.isEmpty else { return .success(0) }
        let ok = input.withUnsafeBytes { platform.memory.dmaWrite(low, from: $0) }
        return ok ? .success(UInt64(input.count)) : .failure(.failed)
    }
}
