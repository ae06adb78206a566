// Assembly expressions: integers, symbols, `.` (the current address), unary - ~ !, binary operators
// and the relocation modifiers %hi, %lo, %pcrel_hi, %pcrel_lo (psABI, "Assembler Relocation
// Functions"). Operator precedence follows the GNU assembler syntax as LLVM implements it, from
// loosest to tightest: || &&, then == != < <= > >=, then + -, then | ^ & !, then * / % << >>.
// Numbers are 64-bit: at most 2^64 - 1, and with a minus sign before them at least -2^63. Arithmetic
// wraps at 64 bits; a shift amount must be 0 to 63; `>>` shifts in zeros (LLVM's choice for RISC-V).
//
// Neither parsing nor evaluation recurses: both keep stacks of their own, so no expression and no
// chain of symbol definitions can overflow the thread's stack. The parser bounds the depth of the
// tree at `Expr.maximumNesting` levels all the same (counting parentheses, unary operators,
// modifiers, and rows of binary operators), since a tree is still released recursively; operators
// of one precedence in a row (`1+2-3+...`) make one node, so a long sum is not deep.

enum RelocationModifier: String, Sendable {
    case hi, lo, pcrel_hi, pcrel_lo
}

indirect enum Expr: Sendable {
    /// A number, with its text when the source wrote it (for messages: see `notation`).
    case number(Int64, spelling: String? = nil)
    case symbol(String, SourceLocation)
    case here(SourceLocation)
    case unary(String, Expr)
    /// `first op e op e ...`: operators of one precedence, applied from left to right. One node for
    /// the whole row keeps a long sum shallow (a left-deep tree would be as deep as it is long).
    case chain(Expr, [Operation])
    case modifier(RelocationModifier, Expr, SourceLocation)

    /// One step of a chain: the operator, its right operand and where the operator stands.
    struct Operation: Sendable {
        var op: String
        var operand: Expr
        var location: SourceLocation
    }

    /// How many levels an expression may nest (see the top of this file): far more than any real
    /// program needs, and a tree this deep is released well within the stack of a secondary
    /// thread (512 KiB on macOS): a debug build takes about 100 bytes a level, 26 KiB in all.
    static let maximumNesting = 256

    static func tooDeep(_ loc: SourceLocation) -> AssemblyError {
        loc.error("expression nested too deeply (more than \(maximumNesting) levels)")
    }

    /// Whether the expression or a part of it is one that `test` accepts (a walk without recursion).
    func contains(where test: (Expr) -> Bool) -> Bool {
        var work = [self]
        while let e = work.popLast() {
            if test(e) { return true }
            switch e {
            case .unary(_, let operand), .modifier(_, let operand, _): work.append(operand)
            case .chain(let first, let rest): work.append(first); work += rest.map(\.operand)
            default: break
            }
        }
        return false
    }

    /// The expression with each `.` in it replaced by `replacement(location of the '.')`, rebuilt
    /// with a stack of its own rather than by recursion.
    func replacingHere(with replacement: (SourceLocation) -> Expr) -> Expr {
        guard contains(where: { if case .here = $0 { true } else { false } }) else { return self }
        enum Step {
            case visit(Expr)
            case unary(String)
            case chain([Operation])
            case modifier(RelocationModifier, SourceLocation)
        }
        var work: [Step] = [.visit(self)]
        var built: [Expr] = []
        while let step = work.popLast() {
            switch step {
            case .visit(let e):
                switch e {
                case .here(let loc): built.append(replacement(loc))
                case .number, .symbol: built.append(e)
                case .unary(let op, let operand):
                    work.append(.unary(op))
                    work.append(.visit(operand))
                case .chain(let first, let rest):
                    // Built first, then the operands in order; the chain is put together last.
                    work.append(.chain(rest))
                    for operation in rest.reversed() { work.append(.visit(operation.operand)) }
                    work.append(.visit(first))
                case .modifier(let m, let operand, let loc):
                    work.append(.modifier(m, loc))
                    work.append(.visit(operand))
                }
            case .unary(let op):
                built.append(.unary(op, built.removeLast()))
            case .chain(var rest):
                let operands = built.suffix(rest.count)
                for k in rest.indices { rest[k].operand = operands[operands.startIndex + k] }
                built.removeLast(rest.count)
                built.append(.chain(built.removeLast(), rest))
            case .modifier(let m, let loc):
                built.append(.modifier(m, built.removeLast(), loc))
            }
        }
        return built[0]
    }

    /// Whether the expression mentions a modifier (so it is never a plain constant operand).
    var hasModifier: Bool { contains { if case .modifier = $0 { true } else { false } } }

    /// Whether the expression mentions a symbol or `.`, so that its value may depend on where it is
    /// used.
    var refersToSymbols: Bool {
        contains {
            switch $0 {
            case .symbol, .here: true
            default: false
            }
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

/// What a symbol stands for during evaluation.
enum SymbolValue {
    /// A label's address or a known constant.
    case value(ExprValue)
    /// An `.equ`/`.set` definition, evaluated where the symbol is used.
    case definition(Expr)
}

/// What evaluation needs from the assembler.
struct ExprEnvironment {
    /// The address of the instruction or data being assembled, if known.
    var pc: UInt64?
    /// Resolves a symbol: nil if unknown (or, for parse-time evaluation, not yet constant).
    var lookup: (String, SourceLocation) throws(AssemblyError) -> SymbolValue?
    /// The operand of the `%pcrel_hi` at `anchor`, for `%pcrel_lo(anchor)`: evaluated with `.` at
    /// the anchor.
    var pcrelHiTarget: (UInt64, SourceLocation) throws(AssemblyError) -> Expr
}

extension Expr {
    /// Nested symbol definitions and nested `%pcrel_lo` → `%pcrel_hi` targets allowed in one
    /// evaluation: beyond them a definition or a `%pcrel_lo` must refer to itself.
    static let maximumSymbolNesting = 64
    static let maximumPcrelNesting = 16

    /// The name a symbol has in the source: a later definition of a redefined `.set` symbol is
    /// evaluated under its name with ` #n` after it (see `AssemblerSession.definitionKey`).
    static func sourceName(_ name: String) -> String {
        guard name.contains(" #"), let space = name.firstIndex(of: " ") else { return name }
        return String(name[..<space])
    }

    /// What is left to do in an evaluation.
    private enum Step {
        /// Evaluate an expression with `.` at `pc`, pushing its value.
        case visit(Expr, pc: UInt64?)
        case unary(String)
        /// Apply an operator of a chain to the last two values.
        case operation(Operation)
        case modifier(RelocationModifier, SourceLocation, pc: UInt64?)
        /// The value on top is a `%pcrel_hi` target: the low part of its distance from `anchor`.
        case pcrelLo(anchor: Int64)
        /// A symbol's definition has been evaluated.
        case endOfDefinition
    }

    /// The value of the expression. It is evaluated with a stack of steps rather than by
    /// recursion, symbols' definitions and `%pcrel_lo` targets included.
    func evaluate(_ env: ExprEnvironment) throws(AssemblyError) -> ExprValue {
        var work: [Step] = [.visit(self, pc: env.pc)]
        var values: [ExprValue] = []
        var definitions = 0, pcrelTargets = 0
        while let step = work.popLast() {
            switch step {
            case .visit(let e, let pc):
                switch e {
                case .number(let v, _):
                    values.append(ExprValue(value: v, isAddress: false))
                case .symbol(let name, let loc):
                    switch try env.lookup(name, loc) {
                    case nil: throw loc.error("undefined symbol '\(name)'")
                    case .value(let v)?: values.append(v)
                    case .definition(let d)?:
                        definitions += 1
                        guard definitions < Self.maximumSymbolNesting else { throw loc.error("recursive definition of '\(Self.sourceName(name))'") }
                        work.append(.endOfDefinition)
                        work.append(.visit(d, pc: pc))
                    }
                case .here(let loc):
                    guard let pc else { throw loc.error("'.' is not known here") }
                    values.append(ExprValue(value: Int64(bitPattern: pc), isAddress: true))
                case .unary(let op, let operand):
                    work.append(.unary(op))
                    work.append(.visit(operand, pc: pc))
                case .chain(let first, let rest):
                    // first, then each operand followed by its operator: pushed last to first.
                    for operation in rest.reversed() {
                        work.append(.operation(operation))
                        work.append(.visit(operation.operand, pc: pc))
                    }
                    work.append(.visit(first, pc: pc))
                case .modifier(let m, let operand, let loc):
                    work.append(.modifier(m, loc, pc: pc))
                    work.append(.visit(operand, pc: pc))
                }
            case .unary(let op):
                values.append(Self.apply(unary: op, values.removeLast()))
            case .operation(let operation):
                let y = values.removeLast(), x = values.removeLast()
                values.append(try Self.apply(operation.op, x, y, right: operation.operand, operation.location))
            case .modifier(.pcrel_lo, let loc, _):
                // The operand names the auipc whose %pcrel_hi this completes (psABI).
                let anchor = values.removeLast().value
                let target = try env.pcrelHiTarget(UInt64(bitPattern: anchor), loc)
                pcrelTargets += 1
                guard pcrelTargets < Self.maximumPcrelNesting else { throw loc.error("%pcrel_lo refers to itself") }
                work.append(.pcrelLo(anchor: anchor))
                work.append(.visit(target, pc: UInt64(bitPattern: anchor)))
            case .modifier(let m, let loc, let pc):
                values.append(try Self.apply(m, values.removeLast().value, pc: pc, loc))
            case .pcrelLo(let anchor):
                pcrelTargets -= 1
                let target = values.removeLast().value
                values.append(ExprValue(value: signExtend12(target &- anchor), isAddress: false))
            case .endOfDefinition:
                definitions -= 1
            }
        }
        return values[0]
    }

    static func apply(unary op: String, _ v: ExprValue) -> ExprValue {
        switch op {
        case "-": ExprValue(value: 0 &- v.value, isAddress: false)
        case "~": ExprValue(value: ~v.value, isAddress: false)
        case "!": ExprValue(value: v.value == 0 ? 1 : 0, isAddress: false)
        default: v  // unary +
        }
    }

    /// `x op y`; `right` is the expression `y` is the value of, for how a message shows it.
    static func apply(_ op: String, _ x: ExprValue, _ y: ExprValue, right: Expr, _ loc: SourceLocation) throws(AssemblyError) -> ExprValue {
        let l = x.value, r = y.value
        switch op {
        case "+": return ExprValue(value: l &+ r, isAddress: x.isAddress != y.isAddress)
        case "-": return ExprValue(value: l &- r, isAddress: x.isAddress && !y.isAddress)
        case "*": return ExprValue(value: l &* r, isAddress: false)
        case "/", "%":
            guard r != 0 else { throw loc.error("division by zero") }
            if l == .min && r == -1 { return ExprValue(value: op == "/" ? l : 0, isAddress: false) }
            return ExprValue(value: op == "/" ? l / r : l % r, isAddress: false)
        case "<<", ">>":
            // A shift by a negative amount or by 64 or more is an error: GNU as warns and yields 0,
            // LLVM takes the amount modulo 64, and neither is likely what was meant.
            guard r >= 0 && r < 64 else { throw loc.error("shift amount \(right.notation.range(r, 0, 63))") }
            // `>>` is a logical shift, as in LLVM's assembler.
            return ExprValue(value: op == "<<" ? l << r : Int64(bitPattern: UInt64(bitPattern: l) >> UInt64(r)), isAddress: false)
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
    }

    /// %hi, %lo and %pcrel_hi of a value (%pcrel_lo needs its target evaluated first).
    static func apply(_ m: RelocationModifier, _ v: Int64, pc: UInt64?, _ loc: SourceLocation) throws(AssemblyError) -> ExprValue {
        switch m {
        case .hi:
            // lui sign-extends on RV64, so %hi reaches only values that are sign-extended
            // 32-bit numbers (what the linker checks for R_RISCV_HI20).
            guard v &+ 0x800 >= -0x8000_0000 && v &+ 0x800 < 0x8000_0000 else {
                throw loc.error("%hi: value 0x\(String(UInt64(bitPattern: v), radix: 16)) is out of range of a sign-extended 32-bit address")
            }
            return ExprValue(value: ((v &+ 0x800) >> 12) & 0xfffff, isAddress: false)
        case .lo, .pcrel_lo:  // evaluate() hands %pcrel_lo the distance from its anchor
            return ExprValue(value: signExtend12(v), isAddress: false)
        case .pcrel_hi:
            guard let pc else { throw loc.error("%pcrel_hi needs an instruction address") }
            let delta = v &- Int64(bitPattern: pc)
            guard delta &+ 0x800 >= -0x8000_0000 && delta &+ 0x800 < 0x8000_0000 else {
                throw loc.error("%pcrel_hi: target is more than 2 GiB away")
            }
            return ExprValue(value: ((delta &+ 0x800) >> 12) & 0xfffff, isAddress: false)
        }
    }
}

@inline(__always) func signExtend12(_ v: Int64) -> Int64 { (v << 52) >> 52 }

/// How a message writes a value and the numbers it is compared with, so that it reads as the
/// source does: `addi a0, a0, 0x1000` is told "immediate 0x1000 out of range [-0x800, 0x7ff]".
struct NumberNotation {
    /// Hexadecimal rather than decimal.
    var hex: Bool
    /// The text of the expression when it is one number (or a negated one): the value as written.
    var literal: String?

    /// Decimal, without a literal: for values the source wrote no number of (a distance to a label).
    static let decimal = NumberNotation(hex: false, literal: nil)

    /// A number in this notation: `-0x801` in hex (but 0 as `0`).
    func format(_ v: Int64) -> String {
        guard hex, v != 0 else { return String(v) }
        return (v < 0 ? "-0x" : "0x") + String(v.magnitude, radix: 16)
    }

    /// The value of the expression this notation is of (its literal, if it is one).
    func value(_ v: Int64) -> String { literal ?? format(v) }

    /// "<value> out of range [<low>, <high>]".
    func range(_ v: Int64, _ low: Int64, _ high: Int64) -> String {
        "\(value(v)) out of range [\(format(low)), \(format(high))]"
    }
}

extension Expr {
    /// How a message about this expression's value writes it: a lone number (`0x1000`, `-0b1`,
    /// `'a'`) as the source wrote it; otherwise in hex when any number in the expression was
    /// written in hex (`0x800 + 0x800` is 0x1000), else in decimal. Symbols' definitions are not
    /// looked into. Bounds compared with the value are in hex when the value is.
    var notation: NumberNotation {
        func isHex(_ spelling: String) -> Bool { spelling.lowercased().hasPrefix("0x") }
        var e = self, sign = ""
        if case .unary("-", let operand) = e { (e, sign) = (operand, "-") }
        if case .number(_, let spelling?) = e { return NumberNotation(hex: isHex(spelling), literal: sign + spelling) }
        let hex = contains { if case .number(_, let spelling?) = $0 { isHex(spelling) } else { false } }
        return NumberNotation(hex: hex, literal: nil)
    }
}

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

    // MARK: Expressions (operator precedence, with explicit stacks)

    static let precedence: [String: Int] = [
        "||": 1, "&&": 1,
        "==": 2, "!=": 2, "<": 2, "<=": 2, ">": 2, ">=": 2,
        "+": 3, "-": 3,
        "|": 4, "^": 4, "&": 4, "!": 4,
        "*": 5, "/": 5, "%": 5, "<<": 5, ">>": 5,
    ]

    /// The operator at the cursor and how many tokens it takes, if it is a binary operator.
    func binaryOperator() -> (op: String, width: Int, precedence: Int)? {
        guard case .punctuation(let op) = peek.kind else { return nil }
        // '<' '=' and '>' '=' arrive as two tokens.
        if (op == "<" || op == ">") && isPunctuation("=", offset: 1) { return (op + "=", 2, 2) }
        guard let prec = Self.precedence[op] else { return nil }
        return (op, 1, prec)
    }

    /// What an expression being parsed has open, waiting for operands.
    private enum Pending {
        case parenthesis
        case unary(String)
        case modifier(RelocationModifier, SourceLocation)  // `%hi(` and the like
        case binary(String, precedence: Int, SourceLocation)
    }

    /// An operand parsed so far and its height, counting parentheses: a leaf is 1.
    private typealias Operand = (expr: Expr, height: Int)

    /// Parses an expression up to the first token that cannot continue it. Local label references
    /// are resolved to internal names by the caller's `localLabel` closure, and other symbols by its
    /// `symbol` closure (which picks the definition of a redefined `.set` symbol in force here).
    ///
    /// The parser keeps its operands and open constructs on stacks of its own instead of
    /// recursing, and rejects an expression deeper than `Expr.maximumNesting` as soon as it gets
    /// there. The depth is that of the tree it builds, where parentheses count as a level:
    /// `open` is how many levels stand above the next operand (open parentheses, unary operators,
    /// modifiers and rows of binary operators).
    mutating func parseExpression(
        localLabel: (Int, Bool, SourceLocation) throws(AssemblyError) -> String,
        symbol: (String) -> String
    ) throws(AssemblyError) -> Expr
    {
        var operands: [Operand] = []
        var pending: [Pending] = []
        var open = 0

        /// Folds the row of binary operators of one precedence on top of `pending` into one node.
        func reduceRow() {
            guard case .binary(_, let prec, _)? = pending.last else { return }
            var ops: [(String, SourceLocation)] = []
            while case .binary(let op, let p, let loc)? = pending.last, p == prec {
                ops.append((op, loc))
                pending.removeLast()
            }
            let first = operands.count - ops.count - 1
            var height = operands[first].height
            var rest: [Expr.Operation] = []
            rest.reserveCapacity(ops.count)
            for (k, (op, loc)) in ops.reversed().enumerated() {
                let operand = operands[first + 1 + k]
                rest.append(Expr.Operation(op: op, operand: operand.expr, location: loc))
                height = max(height, operand.height)
            }
            let node: Operand = (.chain(operands[first].expr, rest), height + 1)
            operands.removeSubrange(first...)
            operands.append(node)
            open -= 1
        }

        while true {
            // An operand: any prefixes, then a number, a symbol or `.`.
            let t = next()
            switch t.kind {
            case .integer(let v):
                operands.append((.number(v, spelling: t.spelling), 1))
            case .localLabelRef(let n, let forward):
                operands.append((.symbol(try localLabel(n, forward, t.location), t.location), 1))
            case .identifier(let name):
                operands.append((name == "." ? .here(t.location) : .symbol(symbol(name), t.location), 1))
            case .float:
                throw t.location.error("a floating-point number is allowed only in .float and .double")
            case .punctuation(let p) where p == "(" || p == "-" || p == "~" || p == "!" || p == "+" || p == "%":
                // A prefix: the operand to come stands one level further down.
                guard open + 1 < Expr.maximumNesting else { throw Expr.tooDeep(t.location) }
                open += 1
                if p == "(" {
                    pending.append(.parenthesis)
                } else if p == "%" {
                    let nameToken = next()
                    guard case .identifier(let name) = nameToken.kind, let m = RelocationModifier(rawValue: name) else {
                        throw nameToken.location.error("unknown relocation modifier '%\(nameToken.text)'")
                    }
                    try expect("(")
                    pending.append(.modifier(m, t.location))
                } else {
                    // A minus sign directly before a number makes a negative number, which must
                    // fit in 64 bits too: at least -2^63 (clang would wrap -9223372036854775809).
                    if p == "-", case .integer(let v) = peek.kind, UInt64(bitPattern: v) > UInt64(1) << 63 {
                        throw t.location.error("number '-\(UInt64(bitPattern: v))' does not fit in 64 bits")
                    }
                    pending.append(.unary(p))
                }
                continue
            default:
                throw t.location.error("expected an expression, got '\(t.text)'")
            }

            // After an operand: apply unary operators, close parentheses, then an operator or the end.
            while true {
                while case .unary(let op)? = pending.last {
                    pending.removeLast()
                    open -= 1
                    let e = operands.removeLast()
                    operands.append((.unary(op, e.expr), e.height + 1))
                }
                if let next = binaryOperator() {
                    // Tighter rows before this operator are complete.
                    while case .binary(_, let p, _)? = pending.last, p > next.precedence { reduceRow() }
                    // The operator goes on a row (`1 + 2 - 3` is one node) or starts one, one level
                    // deep, over the operand just parsed.
                    if case .binary(_, let p, _)? = pending.last, p == next.precedence {} else {
                        guard open + operands[operands.count - 1].height < Expr.maximumNesting else {
                            throw Expr.tooDeep(peek.location)
                        }
                        open += 1
                    }
                    pending.append(.binary(next.op, precedence: next.precedence, peek.location))
                    index += next.width
                    break
                }
                // Anything else ends the operand's rows.
                while case .binary? = pending.last { reduceRow() }
                if isPunctuation(")"), let last = pending.last {
                    index += 1
                    pending.removeLast()
                    open -= 1
                    let e = operands.removeLast()
                    switch last {
                    case .modifier(let m, let loc): operands.append((.modifier(m, e.expr, loc), e.height + 1))
                    // Parentheses make no node but count as a level, as they nest.
                    default: operands.append((e.expr, e.height + 1))
                    }
                    continue
                }
                // The end of the expression: nothing may be left open.
                guard pending.isEmpty else { throw peek.location.error("expected ')', got '\(peek.text)'") }
                return operands[0].expr
            }
        }
    }
}
