// Assembly expressions: integers, symbols, `.` (the current address), unary - ~ !, binary operators
// and the relocation modifiers %hi, %lo, %pcrel_hi, %pcrel_lo (psABI, "Assembler Relocation
// Functions"). Operator precedence follows the GNU assembler syntax as LLVM implements it, from
// loosest to tightest: || &&, then == != < <= > >=, then + -, then | ^ & !, then * / % << >>.
// Arithmetic wraps at 64 bits; `>>` shifts in zeros (LLVM's choice for RISC-V).

enum RelocationModifier: String, Sendable {
    case hi, lo, pcrel_hi, pcrel_lo
}

indirect enum Expr: Sendable {
    case number(Int64)
    case symbol(String, SourceLocation)
    case here(SourceLocation)
    case unary(String, Expr)
    case binary(String, Expr, Expr, SourceLocation)
    case modifier(RelocationModifier, Expr, SourceLocation)

    /// Whether the expression mentions a modifier (so it is never a plain constant operand).
    var hasModifier: Bool {
        switch self {
        case .modifier: true
        case .unary(_, let e): e.hasModifier
        case .binary(_, let a, let b, _): a.hasModifier || b.hasModifier
        default: false
        }
    }

    /// The modifier at the top of the expression, if it is one.
    var topModifier: RelocationModifier? {
        if case .modifier(let m, _, _) = self { return m }
        return nil
    }
}

/// A value and whether it is an address (derived from a label or `.`), as opposed to a constant.
struct ExprValue {
    var value: Int64
    var isAddress: Bool
}

/// What evaluation needs from the assembler.
struct ExprEnvironment {
    /// The address of the instruction or data being assembled, if known.
    var pc: UInt64?
    /// Resolves a symbol: nil if unknown (or, for parse-time evaluation, not yet constant).
    var lookup: (String, SourceLocation) throws(AssemblyError) -> ExprValue?
    /// The target of the `%pcrel_hi` at `anchor`, for `%pcrel_lo(anchor)`.
    var pcrelHiTarget: (UInt64, SourceLocation) throws(AssemblyError) -> Int64
}

extension Expr {
    func evaluate(_ env: ExprEnvironment) throws(AssemblyError) -> ExprValue {
        switch self {
        case .number(let v):
            return ExprValue(value: v, isAddress: false)
        case .symbol(let name, let loc):
            guard let v = try env.lookup(name, loc) else { throw loc.error("undefined symbol '\(name)'") }
            return v
        case .here(let loc):
            guard let pc = env.pc else { throw loc.error("'.' is not known here") }
            return ExprValue(value: Int64(bitPattern: pc), isAddress: true)
        case .unary(let op, let e):
            let v = try e.evaluate(env)
            switch op {
            case "-": return ExprValue(value: 0 &- v.value, isAddress: false)
            case "~": return ExprValue(value: ~v.value, isAddress: false)
            case "!": return ExprValue(value: v.value == 0 ? 1 : 0, isAddress: false)
            default: return v  // unary +
            }
        case .binary(let op, let a, let b, let loc):
            let x = try a.evaluate(env), y = try b.evaluate(env)
            let l = x.value, r = y.value
            switch op {
            case "+": return ExprValue(value: l &+ r, isAddress: x.isAddress != y.isAddress)
            case "-": return ExprValue(value: l &- r, isAddress: x.isAddress && !y.isAddress)
            case "*": return ExprValue(value: l &* r, isAddress: false)
            case "/", "%":
                guard r != 0 else { throw loc.error("division by zero") }
                if l == .min && r == -1 { return ExprValue(value: op == "/" ? l : 0, isAddress: false) }
                return ExprValue(value: op == "/" ? l / r : l % r, isAddress: false)
            case "<<": return ExprValue(value: r >= 64 || r < 0 ? 0 : l << r, isAddress: false)
            // `>>` is a logical shift, as in LLVM's assembler.
            case ">>": return ExprValue(value: r >= 64 || r < 0 ? 0 : Int64(bitPattern: UInt64(bitPattern: l) >> UInt64(r)), isAddress: false)
            case "&": return ExprValue(value: l & r, isAddress: false)
            case "|": return ExprValue(value: l | r, isAddress: false)
            case "^": return ExprValue(value: l ^ r, isAddress: false)
            case "!": return ExprValue(value: l | ~r, isAddress: false)  // GNU "or not"
            case "&&": return ExprValue(value: l != 0 && r != 0 ? 1 : 0, isAddress: false)
            case "||": return ExprValue(value: l != 0 || r != 0 ? 1 : 0, isAddress: false)
            // Comparisons yield -1 for true, as in the GNU assembler.
            case "==": return ExprValue(value: l == r ? -1 : 0, isAddress: false)
            case "!=": return ExprValue(value: l != r ? -1 : 0, isAddress: false)
            case "<": return ExprValue(value: l < r ? -1 : 0, isAddress: false)
            case "<=": return ExprValue(value: l <= r ? -1 : 0, isAddress: false)
            case ">": return ExprValue(value: l > r ? -1 : 0, isAddress: false)
            case ">=": return ExprValue(value: l >= r ? -1 : 0, isAddress: false)
            default: throw loc.error("unknown operator '\(op)'")
            }
        case .modifier(let m, let e, let loc):
            let v = try e.evaluate(env).value
            switch m {
            case .hi:
                // lui sign-extends on RV64, so %hi reaches only values that are sign-extended
                // 32-bit numbers (what the linker checks for R_RISCV_HI20).
                guard v &+ 0x800 >= -0x8000_0000 && v &+ 0x800 < 0x8000_0000 else {
                    throw loc.error("%hi: value 0x\(String(UInt64(bitPattern: v), radix: 16)) is out of range of a sign-extended 32-bit address")
                }
                return ExprValue(value: ((v &+ 0x800) >> 12) & 0xfffff, isAddress: false)
            case .lo:
                return ExprValue(value: signExtend12(v), isAddress: false)
            case .pcrel_hi:
                guard let pc = env.pc else { throw loc.error("%pcrel_hi needs an instruction address") }
                let delta = v &- Int64(bitPattern: pc)
                guard delta &+ 0x800 >= -0x8000_0000 && delta &+ 0x800 < 0x8000_0000 else {
                    throw loc.error("%pcrel_hi: target is more than 2 GiB away")
                }
                return ExprValue(value: ((delta &+ 0x800) >> 12) & 0xfffff, isAddress: false)
            case .pcrel_lo:
                // The operand names the auipc whose %pcrel_hi this completes (psABI).
                let anchor = UInt64(bitPattern: v)
                let target = try env.pcrelHiTarget(anchor, loc)
                return ExprValue(value: signExtend12(target &- v), isAddress: false)
            }
        }
    }
}

@inline(__always) func signExtend12(_ v: Int64) -> Int64 { (v << 52) >> 52 }

/// Reads tokens of one statement.
struct TokenCursor {
    let tokens: [Token]
    var index: Int

    var peek: Token { tokens[index] }
    var atEnd: Bool { if case .endOfStatement = tokens[index].kind { return true } else { return false } }
    mutating func next() -> Token {
        let t = tokens[index]
        if !atEnd { index += 1 }
        return t
    }
    func isPunctuation(_ p: String, offset: Int = 0) -> Bool {
        guard index + offset < tokens.count else { return false }
        if case .punctuation(let q) = tokens[index + offset].kind { return q == p }
        return false
    }
    mutating func expect(_ p: String) throws(AssemblyError) {
        guard isPunctuation(p) else { throw peek.location.error("expected '\(p)', got '\(peek.text)'") }
        index += 1
    }

    // MARK: Expressions (precedence climbing)

    static let precedence: [String: Int] = [
        "||": 1, "&&": 1,
        "==": 2, "!=": 2, "<": 2, "<=": 2, ">": 2, ">=": 2,
        "+": 3, "-": 3,
        "|": 4, "^": 4, "&": 4, "!": 4,
        "*": 5, "/": 5, "%": 5, "<<": 5, ">>": 5,
    ]

    /// Local label references are resolved to internal names by the caller's closure.
    mutating func parseExpression(localLabel: (Int, Bool, SourceLocation) throws(AssemblyError) -> String,
                                  minPrecedence: Int = 1) throws(AssemblyError) -> Expr {
        var lhs = try parsePrimary(localLabel: localLabel)
        while true {
            guard case .punctuation(var op) = peek.kind else { break }
            let loc = peek.location
            // '<' '=' and '>' '=' arrive as two tokens.
            if (op == "<" || op == ">") && isPunctuation("=", offset: 1) { op += "=" }
            guard let prec = Self.precedence[op], prec >= minPrecedence else { break }
            index += op.count == 2 && (op == "<=" || op == ">=") ? 2 : 1
            let rhs = try parseExpression(localLabel: localLabel, minPrecedence: prec + 1)
            lhs = .binary(op, lhs, rhs, loc)
        }
        return lhs
    }

    mutating func parsePrimary(localLabel: (Int, Bool, SourceLocation) throws(AssemblyError) -> String) throws(AssemblyError) -> Expr {
        let t = next()
        switch t.kind {
        case .integer(let v): return .number(v)
        case .float: throw t.location.error("a floating-point number is allowed only in .float and .double")
        case .localLabelRef(let n, let forward): return .symbol(try localLabel(n, forward, t.location), t.location)
        case .identifier(let name):
            if name == "." { return .here(t.location) }
            return .symbol(name, t.location)
        case .punctuation("("):
            let e = try parseExpression(localLabel: localLabel)
            try expect(")")
            return e
        case .punctuation(let op) where op == "-" || op == "~" || op == "!" || op == "+":
            return .unary(op, try parsePrimary(localLabel: localLabel))
        case .punctuation("%"):
            let nameToken = next()
            guard case .identifier(let name) = nameToken.kind, let m = RelocationModifier(rawValue: name) else {
                throw nameToken.location.error("unknown relocation modifier '%\(nameToken.text)'")
            }
            try expect("(")
            let e = try parseExpression(localLabel: localLabel)
            try expect(")")
            return .modifier(m, e, t.location)
        default:
            throw t.location.error("expected an expression, got '\(t.text)'")
        }
    }
}
