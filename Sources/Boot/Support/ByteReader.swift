// Bounds-checked reads of fixed-width integers from a byte buffer. Every file format the Boot module
// parses (ELF, flattened device trees) comes from outside vmlab, so a truncated or lying header must
// surface as `nil` for the caller to turn into a precise error, never as an out-of-bounds trap.

/// The byte order of multi-byte fields: ELF for RISC-V is little-endian, an FDT is big-endian.
enum ByteOrder: Sendable {
    case little, big
}

/// A read-only view of bytes that answers `nil` for any read that does not fit.
struct ByteReader {
    let bytes: [UInt8]
    let order: ByteOrder

    init(_ bytes: [UInt8], order: ByteOrder) {
        self.bytes = bytes
        self.order = order
    }

    var count: Int { bytes.count }

    /// Whether `[offset, offset + length)` lies inside the buffer, without overflowing.
    func contains(offset: UInt64, length: UInt64) -> Bool {
        let size = UInt64(bytes.count)
        return offset <= size && length <= size - offset
    }

    func u8(at offset: UInt64) -> UInt8? {
        guard contains(offset: offset, length: 1) else { return nil }
        return bytes[Int(offset)]
    }

    func u16(at offset: UInt64) -> UInt16? { unsigned(at: offset, width: 2).map { UInt16($0) } }
    func u32(at offset: UInt64) -> UInt32? { unsigned(at: offset, width: 4).map { UInt32($0) } }
    func u64(at offset: UInt64) -> UInt64? { unsigned(at: offset, width: 8) }

    /// `length` bytes from `offset`, or `nil` when they run past the end.
    func slice(at offset: UInt64, length: UInt64) -> ArraySlice<UInt8>? {
        guard contains(offset: offset, length: length) else { return nil }
        let start = Int(offset)
        return bytes[start..<(start + Int(length))]
    }

    /// The NUL-terminated string starting at `offset` and ending before `limit`, or `nil` when no
    /// terminator lies in that window (a string running off its table is malformed, not truncated).
    func cString(at offset: UInt64, limit: UInt64? = nil) -> String? {
        let end = min(limit ?? UInt64(bytes.count), UInt64(bytes.count))
        guard offset < end else { return nil }
        var index = Int(offset)
        while UInt64(index) < end {
            if bytes[index] == 0 {
                return String(decoding: bytes[Int(offset)..<index], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    private func unsigned(at offset: UInt64, width: Int) -> UInt64? {
        guard contains(offset: offset, length: UInt64(width)) else { return nil }
        let start = Int(offset)
        var value: UInt64 = 0
        switch order {
        case .little:
            for index in stride(from: width - 1, through: 0, by: -1) {
                value = (value << 8) | UInt64(bytes[start + index])
            }
        case .big:
            for index in 0..<width {
                value = (value << 8) | UInt64(bytes[start + index])
            }
        }
        return value
    }
}

/// Formats an address the way error messages and listings show it: `0x` and lowercase hex.
func hex(_ value: UInt64) -> String {
    "0x" + String(value, radix: 16)
}
