// The framing of GDB's remote serial protocol (GDB manual, "Remote Protocol", "Overview"): a
// packet is `$` data `#` and two hex digits of the data's byte sum modulo 256; the receiver answers
// `+` (or `-` to ask again). In data, `}` escapes the next byte (XORed with 0x20), and `*` begins a
// run-length repeat, which GDB never sends; a lone 0x03 byte outside a packet is an interrupt
// (Ctrl-C at the GDB prompt).

/// What the byte stream from GDB carried.
enum GDBInput: Equatable {
    /// A packet with a good checksum, unescaped.
    case packet(String)
    /// A packet whose checksum did not match: to be refused with `-`.
    case corrupt
    /// 0x03: stop the running target.
    case interrupt
}

/// Splits the bytes GDB sends into packets, acknowledgements dropped.
struct GDBFramer {
    private var buffer: [UInt8] = []
    /// Bytes of a packet beyond which it is taken for garbage: four times the PacketSize offered.
    static let longestPacket = 4 * GDBStub.packetSize

    /// Adds `bytes` and returns every complete input they finish, in order.
    mutating func feed<S: Sequence>(_ bytes: S) -> [GDBInput] where S.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        var inputs: [GDBInput] = []
        while let first = buffer.first {
            switch first {
            case 0x03:
                inputs.append(.interrupt)
                buffer.removeFirst()
            case UInt8(ascii: "$"):
                // The data runs to '#', then two checksum digits. A packet that never ends (longer
                // than any GDB sends, PacketSize) is dropped rather than buffered for ever.
                guard let hash = buffer.firstIndex(of: UInt8(ascii: "#")), hash + 2 < buffer.count else {
                    if buffer.count > Self.longestPacket {
                        buffer.removeAll()
                        inputs.append(.corrupt)
                    }
                    return inputs
                }
                let data = Array(buffer[1..<hash])
                let sum = data.reduce(UInt8(0), &+)
                let given = UInt8(String(decoding: buffer[(hash + 1)...(hash + 2)], as: UTF8.self), radix: 16)
                buffer.removeFirst(hash + 3)
                inputs.append(given == sum ? .packet(Self.unescape(data)) : .corrupt)
            default:
                // '+', '-', and noise between packets.
                buffer.removeFirst()
            }
        }
        return inputs
    }

    static func unescape(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var escaped = false
        for b in data {
            if escaped {
                out.append(b ^ 0x20)
                escaped = false
            } else if b == UInt8(ascii: "}") {
                escaped = true
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `payload` framed as a packet, with `#`, `$`, `}` and `*` escaped.
    static func frame(_ payload: String) -> [UInt8] {
        var data: [UInt8] = []
        for b in payload.utf8 {
            if b == UInt8(ascii: "#") || b == UInt8(ascii: "$") || b == UInt8(ascii: "}") || b == UInt8(ascii: "*") {
                data.append(UInt8(ascii: "}"))
                data.append(b ^ 0x20)
            } else {
                data.append(b)
            }
        }
        let sum = data.reduce(UInt8(0), &+)
        let digits = Array(String(sum, radix: 16).utf8)
        return [UInt8(ascii: "$")] + data + [UInt8(ascii: "#")] + (digits.count == 1 ? [UInt8(ascii: "0")] : []) + digits
    }
}

/// Hex as the protocol writes it: two lower-case digits per byte, integers in target (little-endian)
/// byte order in register packets.
enum GDBHex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = digit(chars[i]), let lo = digit(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func digit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `value`'s `size` low bytes, little-endian.
    static func little(_ value: UInt64, size: Int = 8) -> String {
        encode((0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    /// A little-endian register value of at most 8 bytes.
    static func littleValue(_ text: Substring) -> UInt64? {
        guard let bytes = decode(text), !bytes.isEmpty, bytes.count <= 8 else { return nil }
        return bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// A big-endian number as addresses and lengths are written ("80000000").
    static func number(_ text: Substring) -> UInt64? { UInt64(text, radix: 16) }
}
