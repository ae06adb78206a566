/// Lua 5.4's pattern syntax, checked without matching: `vmlab test --filter` checks its pattern
/// once, up front, instead of letting every worker fail on it. Lua reports a malformed pattern
/// only when a match reaches the bad part (and "unfinished capture" only when a match succeeds),
/// so a pattern cannot be checked by matching it once; this walks it as lstrlib.c's `do_match`
/// and `classEnd` do and gives the error Lua would raise there.
public enum LuaPattern {
    /// What Lua would say about `pattern`, or nil when it is well formed.
    public static func problem(_ pattern: String) -> String? {
        let p = Array(pattern.utf8)
        // Without any of these, string.find searches for the text as it is (lstrlib's nospecials).
        guard p.contains(where: { "^$*+?.([%-".utf8.contains($0) }) else { return nil }
        var closed: [Bool] = []   // per capture, in order of opening: closed yet?
        var i = p.first == UInt8(ascii: "^") ? 1 : 0
        while i < p.count {
            switch p[i] {
            case UInt8(ascii: "("):
                guard closed.count < 32 else { return "too many captures" }
                let position = i + 1 < p.count && p[i + 1] == UInt8(ascii: ")")   // "()" captures a position
                closed.append(position)
                i += position ? 2 : 1
                continue
            case UInt8(ascii: ")"):
                guard let open = closed.lastIndex(of: false) else { return "invalid pattern capture" }
                closed[open] = true
                i += 1
                continue
            case UInt8(ascii: "$") where i + 1 == p.count:
                i += 1
                continue
            case UInt8(ascii: "%") where i + 1 < p.count:
                let next = p[i + 1]
                if next == UInt8(ascii: "b") {
                    guard i + 3 < p.count else { return "malformed pattern (missing arguments to '%b')" }
                    i += 4
                    continue
                }
                if next == UInt8(ascii: "f") {
                    i += 2
                    guard i < p.count, p[i] == UInt8(ascii: "[") else { return "missing '[' after '%f' in pattern" }
                    switch classEnd(p, i) {
                    case .success(let end): i = end
                    case .failure(let problem): return problem.message
                    }
                    continue
                }
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    let index = Int(next) - Int(UInt8(ascii: "1"))
                    guard index >= 0, index < closed.count, closed[index] else { return "invalid capture index %\(index + 1)" }
                    i += 2
                    continue
                }
            default:
                break
            }
            // A single-character class, then an optional repetition.
            switch classEnd(p, i) {
            case .success(let end):
                i = end
                if i < p.count, "?*+-".utf8.contains(p[i]) { i += 1 }
            case .failure(let problem):
                return problem.message
            }
        }
        return closed.contains(false) ? "unfinished capture" : nil
    }

    struct Malformed: Error {
        var message: String
    }

    /// Where the class starting at `i` ends (lstrlib's `classEnd`).
    private static func classEnd(_ p: [UInt8], _ start: Int) -> Result<Int, Malformed> {
        var i = start
        let c = p[i]
        i += 1
        if c == UInt8(ascii: "%") {
            guard i < p.count else { return .failure(Malformed(message: "malformed pattern (ends with '%')")) }
            return .success(i + 1)
        }
        guard c == UInt8(ascii: "[") else { return .success(i) }
        if i < p.count && p[i] == UInt8(ascii: "^") { i += 1 }
        // The first character is the set's even when it is ']' ("[]]"); '%' escapes the next.
        repeat {
            guard i < p.count else { return .failure(Malformed(message: "malformed pattern (missing ']')")) }
            let d = p[i]
            i += 1
            if d == UInt8(ascii: "%") && i < p.count { i += 1 }
        } while i >= p.count || p[i] != UInt8(ascii: "]")
        return .success(i + 1)
    }
}
