import LuaKit

/// `vmlab.hex`: Lua integers are signed 64-bit, so addresses and register values above 2^63 print
/// as negative numbers with `tostring`; `hex` shows their unsigned bit pattern.
enum Formatting {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(hex)
    }

    static let hex = LuaFunction(
        "hex",
        summary: "Unsigned hexadecimal text of a 64-bit integer, \"0x\"-prefixed: `vmlab.hex(-1)` is \"0xffffffffffffffff\".",
        parameters: [
            .required("x", .integer, "The integer; negative values print as their two's-complement bit pattern."),
            .optional("digits", .integer, "Minimum number of hex digits (zero-padded), 1 to 16."),
        ],
        returns: [LuaReturn(.string, "text")]
    ) { call in
        let value = try call.uint64(1)
        let digits = try call.optionalInteger(2) ?? 1
        guard (1...16).contains(digits) else {
            throw LuaRaise.argument(2, "digits must be between 1 and 16, got \(digits)")
        }
        return [.string(hexText(value, digits: Int(digits)))]
    }

    /// "0x" followed by at least `digits` lowercase hex digits.
    static func hexText(_ value: UInt64, digits: Int = 1) -> String {
        let text = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
