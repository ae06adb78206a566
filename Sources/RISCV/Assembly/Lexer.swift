// Splits assembly source into tokens. Statements end at a newline or `;`; comments start at `#` or
// `//` and run to the end of the line, or sit between `/*` and `*/`. Numbers are decimal, 0x hex,
// 0b binary, 0o/leading-0 octal or a character literal ('a'); decimal literals with a point or an
// exponent are floating-point (for .float/.double); `1f`/`1b` are references to numeric local
// labels; `\name` is a macro parameter.

enum TokenKind: Equatable, Sendable {
    case identifier(String)     // mnemonics, registers, symbols, directives (with their leading '.')
    case integer(Int64)
    case float(String)          // decimal text; only .float and .double take these
    case localLabelRef(Int, forward: Bool)
    case string([UInt8])
    case punctuation(String)    // , ( ) : + - * / % << >> & | ^ ~ ! =
    case macroParameter(String) // \name inside a .macro body
    case endOfStatement
}

struct Token: Sendable {
    var kind: TokenKind
    var location: SourceLocation
    /// A number's text as the source wrote it (`0x1F`, `'a'`), for messages about its value.
    var spelling: String? = nil

    var text: String {
        switch kind {
        case .identifier(let s): s
        case .integer(let v): String(v)
        case .float(let v): v
        case .localLabelRef(let n, let forward): "\(n)\(forward ? "f" : "b")"
        case .string: "string"
        case .punctuation(let p): p
        case .macroParameter(let name): "\\" + name
        case .endOfStatement: "end of statement"
        }
    }
}

struct Lexer {
    /// The tokens of a whole source text; statements are separated by `.endOfStatement` tokens.
    static func tokenize(_ source: String) throws(AssemblyError) -> [Token] {
        var tokens: [Token] = []
        let bytes = Array(source.utf8)
        var i = 0
        var line = 1
        var lineStart = 0
        func loc(_ at: Int) -> SourceLocation { SourceLocation(line: line, column: at - lineStart + 1) }
        func isIdentStart(_ c: UInt8) -> Bool {
            // '@' for ELF type tags such as @function and @progbits
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c == 46 || c == 36 || c == 64
        }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func isIdentBody(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }

        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case 10:  // newline
                tokens.append(Token(kind: .endOfStatement, location: loc(i)))
                i += 1
                line += 1
                lineStart = i
            case 32, 9, 13:
                i += 1
            case 59:  // ';'
                tokens.append(Token(kind: .endOfStatement, location: loc(i)))
                i += 1
            case 35:  // '#'
                while i < bytes.count && bytes[i] != 10 { i += 1 }
            case 47 where i + 1 < bytes.count && bytes[i + 1] == 47:  // "//"
                while i < bytes.count && bytes[i] != 10 { i += 1 }
            case 47 where i + 1 < bytes.count && bytes[i + 1] == 42:  // "/* ... */"
                let start = loc(i)
                i += 2
                while i + 1 < bytes.count && !(bytes[i] == 42 && bytes[i + 1] == 47) {
                    if bytes[i] == 10 { line += 1; lineStart = i + 1 }
                    i += 1
                }
                guard i + 1 < bytes.count else { throw start.error("unterminated comment") }
                i += 2
            case 34:  // string literal
                let start = loc(i)
                i += 1
                var value: [UInt8] = []
                while true {
                    guard i < bytes.count, bytes[i] != 10 else { throw start.error("unterminated string") }
                    let ch = bytes[i]
                    if ch == 34 { i += 1; break }
                    if ch == 92 {
                        i += 1
                        guard i < bytes.count else { throw start.error("unterminated string") }
                        let (byte, used) = try escape(bytes, i, start)
                        value.append(byte)
                        i += used
                    } else {
                        value.append(ch)
                        i += 1
                    }
                }
                tokens.append(Token(kind: .string(value), location: start))
            case 92 where i + 1 < bytes.count && isIdentStart(bytes[i + 1]):  // \name: a macro parameter
                let start = loc(i)
                var j = i + 1
                while j < bytes.count && isIdentBody(bytes[j]) { j += 1 }
                tokens.append(Token(kind: .macroParameter(String(decoding: bytes[(i + 1)..<j], as: UTF8.self)), location: start))
                i = j
            case 39:  // character literal
                let start = loc(i)
                let first = i
                i += 1
                guard i < bytes.count else { throw start.error("unterminated character literal") }
                var value: UInt8
                if bytes[i] == 92 {
                    let (byte, used) = try escape(bytes, i + 1, start)
                    value = byte
                    i += 1 + used
                } else {
                    value = bytes[i]
                    i += 1
                }
                guard i < bytes.count, bytes[i] == 39 else { throw start.error("unterminated character literal") }
                i += 1
                tokens.append(Token(kind: .integer(Int64(value)), location: start,
                                    spelling: String(decoding: bytes[first..<i], as: UTF8.self)))
            case _ where isDigit(c):
                let start = loc(i)
                let first = i
                var j = i
                while j < bytes.count && isIdentBody(bytes[j]) { j += 1 }
                var text = String(decoding: bytes[i..<j], as: UTF8.self).lowercased()
                // A decimal floating-point literal (1.5, 2e10, 6.02e-23) for .float/.double.
                let decimal = !text.hasPrefix("0x") && !text.hasPrefix("0b")
                if decimal, text.hasSuffix("e"), j + 1 < bytes.count, bytes[j] == 43 || bytes[j] == 45, isDigit(bytes[j + 1]) {
                    var k = j + 1
                    while k < bytes.count && isDigit(bytes[k]) { k += 1 }
                    text = String(decoding: bytes[i..<k], as: UTF8.self).lowercased()
                    j = k
                }
                i = j
                if decimal, text.contains(".") || text.contains("e"), Double(text) != nil {
                    tokens.append(Token(kind: .float(text), location: start))
                    continue
                }
                // 1f / 1b: a reference to a numeric local label
                if let last = text.last, last == "f" || last == "b", text.count > 1,
                   text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text.dropLast()) {
                    tokens.append(Token(kind: .localLabelRef(n, forward: last == "f"), location: start))
                    continue
                }
                guard let (value, fits) = parseInteger(text) else { throw start.error("invalid number '\(text)'") }
                guard fits else { throw start.error("number '\(text)' does not fit in 64 bits") }
                tokens.append(Token(kind: .integer(value), location: start,
                                    spelling: String(decoding: bytes[first..<i], as: UTF8.self)))
            case _ where isIdentStart(c):
                let start = loc(i)
                var j = i
                while j < bytes.count && isIdentBody(bytes[j]) { j += 1 }
                tokens.append(Token(kind: .identifier(String(decoding: bytes[i..<j], as: UTF8.self)), location: start))
                i = j
            default:
                let start = loc(i)
                if i + 1 < bytes.count {
                    let two = String(decoding: bytes[i...(i + 1)], as: UTF8.self)
                    if ["<<", ">>", "&&", "||", "==", "!="].contains(two) {
                        tokens.append(Token(kind: .punctuation(two), location: start))
                        i += 2
                        continue
                    }
                }
                let one = String(UnicodeScalar(c))
                guard ",():+-*/%&|^~!=<>".contains(one) else {
                    // A control byte, or a byte of a multi-byte character, is named by its code:
                    // printed raw it would not show, or would garble the terminal.
                    let hex = String(c, radix: 16)
                    let shown = c < 0x20 || c >= 0x7F ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : one
                    throw start.error("unexpected character '\(shown)'")
                }
                tokens.append(Token(kind: .punctuation(one), location: start))
                i += 1
            }
        }
        tokens.append(Token(kind: .endOfStatement, location: loc(i)))
        return tokens
    }

    static func escape(_ bytes: [UInt8], _ i: Int, _ at: SourceLocation) throws(AssemblyError) -> (UInt8, Int) {
        switch bytes[i] {
        case 110: return (10, 1)    // \n
        case 116: return (9, 1)     // \t
        case 114: return (13, 1)    // \r
        case 48...55:               // octal, up to three digits
            var v = 0, n = 0
            while n < 3, i + n < bytes.count, bytes[i + n] >= 48, bytes[i + n] <= 55 {
                v = v * 8 + Int(bytes[i + n] - 48)
                n += 1
            }
            return (UInt8(truncatingIfNeeded: v), n)
        case 120:                   // \xHH
            var v = 0, n = 1
            while n < 3, i + n < bytes.count, let d = hexDigit(bytes[i + n]) {
                v = v * 16 + d
                n += 1
            }
            guard n > 1 else { throw at.error("invalid escape '\\x'") }
            return (UInt8(truncatingIfNeeded: v), n)
        case 97: return (7, 1)      // \a
        case 98: return (8, 1)      // \b
        case 102: return (12, 1)    // \f
        case 118: return (11, 1)    // \v
        default: return (bytes[i], 1)  // \\, \", \' and any other character stand for themselves
        }
    }

    static func hexDigit(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: Int(c - 48)
        case 97...102: Int(c - 87)
        case 65...70: Int(c - 55)
        default: nil
        }
    }

    /// Parses a number token (already lowercased) into its 64-bit pattern, and whether it fits:
    /// a number above 2^64 - 1 does not (clang's "literal value out of range"). Nil if it is not a
    /// number at all.
    static func parseInteger(_ text: String) -> (value: Int64, fits: Bool)? {
        var digits = Substring(text)
        var radix = 10
        if text.hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
        else if text.hasPrefix("0b") { radix = 2; digits = digits.dropFirst(2) }
        else if text.hasPrefix("0o") { radix = 8; digits = digits.dropFirst(2) }
        else if text.count > 1 && text.hasPrefix("0") { radix = 8; digits = digits.dropFirst(1) }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        var fits = true
        for ch in digits {
            guard let d = ch.hexDigitValue, d < radix else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: UInt64(radix))
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { fits = false }
            value = s
        }
        return (Int64(bitPattern: value), fits)
    }
}
