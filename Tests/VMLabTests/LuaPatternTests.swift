import LuaKit
import Testing
@testable import VMLab

/// `vmlab test --filter` checks its Lua pattern up front with `LuaPattern`; it must say what Lua
/// itself says, and accept what Lua accepts.
@Suite struct LuaPatternTests {
    @Test func malformedPatternsAreNamedAsLuaNamesThem() {
        for (pattern, message) in [
            ("[", "malformed pattern (missing ']')"), ("a[", "malformed pattern (missing ']')"),
            ("[]", "malformed pattern (missing ']')"), ("[^]", "malformed pattern (missing ']')"),
            ("[%]", "malformed pattern (missing ']')"), ("%f[a", "malformed pattern (missing ']')"),
            ("%", "malformed pattern (ends with '%')"), ("a%", "malformed pattern (ends with '%')"),
            ("%b", "malformed pattern (missing arguments to '%b')"), ("%ba", "malformed pattern (missing arguments to '%b')"),
            ("%fa", "missing '[' after '%f' in pattern"),
            ("%1", "invalid capture index %1"), ("(a%1)", "invalid capture index %1"), ("%0", "invalid capture index %0"),
            (".)", "invalid pattern capture"), ("(", "unfinished capture"), ("x(a", "unfinished capture"),
            (String(repeating: "()", count: 33), "too many captures"),
        ] {
            #expect(LuaPattern.problem(pattern) == message, "\(pattern)")
        }
        for pattern in ["multipl", ")", "a › b", "%d+", "[%w_]+$", "^foo", "()", "(a)%1", "%bxy", "%f[%w]", "[]]", "[^]]",
                        "x-", "[a-z]*", "%%", "$a", "a^"] {
            #expect(LuaPattern.problem(pattern) == nil, "\(pattern)")
        }
    }

    /// Random patterns from the characters that matter, against Lua's own matcher: whenever Lua
    /// raises on some subject, the check gives the same message; when the check finds nothing,
    /// Lua raises on none.
    @Test func agreesWithLuasMatcher() throws {
        let lua = LuaState()
        let subjects = ["", "a", "ab(a)b", "aaa]", "x (a) b %", "bab1f"]
        let alphabet = Array("()[]%^$*+?.-ab1f")
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {   // a fixed sequence: the same patterns on every run
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(seed >> 33)
        }
        for _ in 0..<3000 {
            let pattern = String((0..<(1 + next() % 7)).map { _ in alphabet[next() % alphabet.count] })
            let check = LuaPattern.problem(pattern)
            for subject in subjects {
                let result = try lua.run("return pcall(string.find, ...)", args: [.string(subject), .string(pattern)])
                guard result.first == .boolean(false) else { continue }
                #expect(check == result.dropFirst().first?.string, "pattern \(pattern) on \(subject)")
            }
        }
    }
}
