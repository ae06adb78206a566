// The RISC-V assembler: RV64GC with the privileged and hypervisor instructions, the common
// pseudo-instructions, labels (including numeric local labels 1f/1b), a useful set of GNU-style
// directives and expressions with %hi/%lo/%pcrel_hi/%pcrel_lo. Its output for a source is
// byte-identical to `clang --target=riscv64 -mno-relax` + `llvm-objcopy -O binary` (checked by
// the tests), so lab material can be written in either.
//
// It works in three steps: parse every statement into items (instructions with their expression
// operand still symbolic, data, alignment); lay the items out, growing jumps and branches whose
// targets turn out to be too far (c.j → jal; c.beqz → beq → inverted branch over jal) until
// nothing changes; then evaluate and encode.

public enum Assembler {
    /// Assembles `source`. Throws an `AssemblyError` pointing at the first problem.
    public static func assemble(_ source: String, options: AssemblerOptions = AssemblerOptions())
        throws(AssemblyError) -> AssembledProgram
    {
        let session = AssemblerSession(options: options)
        try session.parse(source)
        return try session.finish()
    }

    /// Assembles `source` and returns only the flat image.
    public static func bytes(_ source: String, options: AssemblerOptions = AssemblerOptions())
        throws(AssemblyError) -> [UInt8]
    {
        try assemble(source, options: options).bytes
    }
}

final class AssemblerSession {
    let options: AssemblerOptions
    var sections: [SectionState] = [SectionState(name: ".text")]
    var current = 0
    var rvc: Bool
    var rvcStack: [Bool] = []
    /// Labels: name → (section, index of the item that follows the label).
    var labels: [String: (section: Int, item: Int, location: SourceLocation)] = [:]
    /// `.equ`/`.set` definitions. The first definition of a name is kept under the name itself
    /// (what a use before any definition refers to, as in clang), each later one under a key of its
    /// own (see `definitionKey`), so that a use takes the definition in force where it stands.
    var equates: [String: Expr] = [:]
    /// How many times each `.equ`/`.set` name has been defined so far.
    var definitionCounts: [String: Int] = [:]
    /// Names defined by `.equiv`, which no definition may follow.
    var equivalences: Set<String> = []
    var globals: Set<String> = []
    /// How many times each numeric local label has been defined so far.
    var localLabelCounts: [Int: Int] = [:]
    /// Forward references to numeric local labels, checked at the end.
    var pendingForward: [(name: String, location: SourceLocation)] = []
    /// How many labels stand for `.` in `.equ`/`.set` definitions (see `define`).
    var locationLabelCount = 0
    /// `%pcrel_hi` targets by auipc address, filled before encoding.
    var pcrelHi: [UInt64: (Expr, SourceLocation)] = [:]
    /// Statements parsed so far, counting `.rept` copies: a bound that keeps a runaway repeat
    /// from exhausting the host.
    var statementsParsed = 0
    static let maximumStatements = 1_000_000
    /// Macros by lower-cased name, and how deeply expansions nest right now.
    var macros: [String: Macro] = [:]
    var macroDepth = 0
    /// The expansion of the macro the current statement invoked, for `run` to assemble next.
    var macroExpansion: [Token]?

    init(options: AssemblerOptions) {
        self.options = options
        self.rvc = options.compressed
    }

    // MARK: Statements

    func parse(_ source: String) throws(AssemblyError) {
        let tokens = try Lexer.tokenize(source)
        try run(tokens, from: 0, to: tokens.count)
    }

    /// The index just after the end of the statement starting at `index`.
    func nextStatement(_ tokens: [Token], after index: Int) -> Int {
        var i = index
        while i < tokens.count, tokens[i].kind != .endOfStatement { i += 1 }
        return i + 1
    }

    /// The directive name a statement starts with, if it is `.rept` or `.endr`.
    func repetitionDirective(_ tokens: [Token], at index: Int) -> String? {
        guard index < tokens.count, case .identifier(let word) = tokens[index].kind else { return nil }
        let lower = word.lowercased()
        return lower == ".rept" || lower == ".endr" ? lower : nil
    }

    /// A `.rept` block starting at `index`: its count, body range and the index after its `.endr`.
    func repetition(_ tokens: [Token], at index: Int, end: Int) throws(AssemblyError) -> (count: Int64, body: Range<Int>, after: Int) {
        let loc = tokens[index].location
        var cursor = TokenCursor(tokens: tokens, index: index + 1)
        let countExpr = try cursor.parseExpression(localLabel: localLabelResolver(), symbol: symbolInForce)
        let count = try constantValue(countExpr)
        guard cursor.atEnd else { throw cursor.peek.location.error("unexpected '\(cursor.peek.text)' after expression") }
        guard count >= 0 && count <= Int64(Self.maximumStatements) else { throw loc.error("repeat count \(countExpr.notation.value(count)) out of range") }
        // Find the matching .endr, allowing nested blocks.
        let bodyStart = nextStatement(tokens, after: index)
        var depth = 1
        var scan = bodyStart
        while scan < end {
            switch repetitionDirective(tokens, at: scan) {
            case ".rept":
                // Too deep to assemble: said at once, rather than after scans of every level.
                depth += 1
                guard depth <= Self.maximumBlockNesting else { throw Self.blocksTooDeep(tokens[scan].location) }
            case ".endr": depth -= 1
            default: break
            }
            if depth == 0 { break }
            scan = nextStatement(tokens, after: scan)
        }
        guard depth == 0 else { throw loc.error("'.rept' without '.endr'") }
        return (count, bodyStart..<scan, nextStatement(tokens, after: scan))
    }

    /// How many statements tokens[start..<end] expand to, `.rept` blocks multiplied out (capped).
    /// A stack of the `.rept` blocks open stands in for recursion, bounded like the blocks `run`
    /// opens.
    func expandedSize(_ tokens: [Token], from start: Int, to end: Int) throws(AssemblyError) -> Int64 {
        let cap = Int64(Self.maximumStatements)
        // Each level: where it has got to, where it ends, its statements so far, its repeat count.
        var levels: [(index: Int, end: Int, total: Int64, count: Int64)] = [(start, end, 0, 1)]
        while true {
            let top = levels.count - 1
            if levels[top].index >= levels[top].end || levels[top].total > cap {
                let level = levels.removeLast()
                let (product, overflow) = level.count.multipliedReportingOverflow(by: level.total)
                let size = overflow || product > cap ? cap + 1 : product
                if levels.isEmpty { return size }
                levels[top - 1].total += size
                continue
            }
            let index = levels[top].index
            if repetitionDirective(tokens, at: index) == ".rept" {
                guard levels.count <= Self.maximumBlockNesting else { throw Self.blocksTooDeep(tokens[index].location) }
                let block = try repetition(tokens, at: index, end: levels[top].end)
                levels[top].index = block.after
                levels.append((block.body.lowerBound, block.body.upperBound, 0, block.count))
            } else {
                levels[top].total += 1
                levels[top].index = nextStatement(tokens, after: index)
            }
        }
    }

    /// A stretch of statements being assembled: the source, a `.rept` body (with the passes left
    /// to make after this one), an `.if` branch or a macro's expansion.
    struct Block {
        var tokens: [Token]
        var start: Int
        var end: Int
        var index: Int
        var passesLeft: Int64 = 0
        var isMacroExpansion = false

        init(_ tokens: [Token], _ range: Range<Int>, passesLeft: Int64 = 0, isMacroExpansion: Bool = false) {
            self.tokens = tokens
            (start, end, index) = (range.lowerBound, range.upperBound, range.lowerBound)
            self.passesLeft = passesLeft
            self.isMacroExpansion = isMacroExpansion
        }
    }

    /// How many blocks (`.rept` bodies, `.if` branches, macro expansions) may be open at once.
    static let maximumBlockNesting = 256

    static func blocksTooDeep(_ loc: SourceLocation) -> AssemblyError {
        loc.error("blocks nested too deeply (more than \(maximumBlockNesting) of .rept, .if and macros)")
    }

    /// Parses the statements in tokens[start..<end], expanding `.rept n` ... `.endr` blocks,
    /// conditionals and macros. The blocks open are kept on a stack of their own, not by
    /// recursion, so that no nesting can overflow the thread's stack; it is bounded all the same
    /// (`maximumBlockNesting`), as finding each block's end takes a scan of it.
    func run(_ tokens: [Token], from start: Int, to end: Int) throws(AssemblyError) {
        var blocks = [Block(tokens, start..<end)]
        func open(_ block: Block, at loc: SourceLocation) throws(AssemblyError) {
            guard blocks.count <= Self.maximumBlockNesting else { throw Self.blocksTooDeep(loc) }
            blocks.append(block)
        }
        while let block = blocks.last {
            let top = blocks.count - 1
            guard block.index < block.end else {
                if block.passesLeft > 0 {
                    blocks[top].passesLeft -= 1
                    blocks[top].index = block.start
                } else {
                    if block.isMacroExpansion { macroDepth -= 1 }
                    blocks.removeLast()
                }
                continue
            }
            let (tokens, index, end) = (block.tokens, block.index, block.end)
            if repetitionDirective(tokens, at: index) == ".rept" {
                let rept = try repetition(tokens, at: index, end: end)
                // Refuse a runaway expansion before building any of it.
                let size = try expandedSize(tokens, from: rept.body.lowerBound, to: rept.body.upperBound)
                let (product, overflow) = rept.count.multipliedReportingOverflow(by: size)
                guard !overflow, product <= Int64(Self.maximumStatements - statementsParsed) else {
                    throw tokens[index].location.error("'.rept' expands to more than \(Self.maximumStatements) statements")
                }
                blocks[top].index = rept.after
                if rept.count > 0 { try open(Block(tokens, rept.body, passesLeft: rept.count - 1), at: tokens[index].location) }
                continue
            }
            if repetitionDirective(tokens, at: index) == ".endr" {
                throw tokens[index].location.error("'.endr' without '.rept'")
            }
            switch conditionalDirective(tokens, at: index) {
            case ".if", ".ifdef", ".ifndef":
                let conditional = try conditional(tokens, at: index, end: end)
                blocks[top].index = conditional.after
                if let branch = conditional.branch { try open(Block(tokens, branch), at: tokens[index].location) }
                continue
            case ".else", ".endif":
                throw tokens[index].location.error("'\(conditionalDirective(tokens, at: index)!)' without '.if'")
            default: break
            }
            if startsWith(".macro", tokens, at: index) {
                blocks[top].index = try defineMacro(tokens, at: index, end: end)
                continue
            }
            if startsWith(".endm", tokens, at: index) {
                throw tokens[index].location.error("'.endm' without '.macro'")
            }
            statementsParsed += 1
            guard statementsParsed <= Self.maximumStatements else {
                throw tokens[index].location.error("more than \(Self.maximumStatements) statements")
            }
            var cursor = TokenCursor(tokens: tokens, index: index)
            try statement(&cursor)
            blocks[top].index = nextStatement(tokens, after: index)
            // A macro invoked by the statement: its expansion comes next.
            if let expansion = macroExpansion {
                macroExpansion = nil
                try open(Block(expansion, 0..<expansion.count, isMacroExpansion: true), at: tokens[index].location)
            }
        }
    }

    func localLabelName(_ n: Int, _ instance: Int) -> String { ".L\(n)$local\(instance)" }

    /// How the labels standing for `.` in `.equ`/`.set` definitions begin: with a space, so no
    /// source can name one.
    static let locationLabelPrefix = ". "

    /// Whether a label is the assembler's own (a numeric local label or a `.` of a definition),
    /// left out of the symbol table.
    func isInternalLabel(_ name: String) -> Bool {
        name.contains("$local") || name.hasPrefix(Self.locationLabelPrefix)
    }

    /// How to name a symbol in a message: numeric local labels by their number, the `.` of a
    /// definition as '.'.
    func displayName(_ name: String) -> String {
        if name.hasPrefix(Self.locationLabelPrefix) { return "'.'" }
        if name.contains(" #") { return "'\(Expr.sourceName(name))'" }
        if name.hasPrefix(".L"), let dollar = name.firstIndex(of: "$"), name.contains("$local") {
            return "local label \(name[name.index(name.startIndex, offsetBy: 2)..<dollar])"
        }
        return "'\(name)'"
    }

    /// The key in `equates` of definition `n` (from 0) of `name`: the name itself for the first,
    /// then the name with ` #n` after it, which no source can spell.
    static func definitionKey(_ name: String, _ n: Int) -> String { n == 0 ? name : "\(name) #\(n)" }

    /// The symbol a use of `name` refers to here: the latest definition of a `.equ`/`.set` name so
    /// far, or the name itself (a label, or a forward reference, which takes the first definition,
    /// as in clang).
    func symbolInForce(_ name: String) -> String {
        guard let count = definitionCounts[name] else { return name }
        return Self.definitionKey(name, count - 1)
    }

    func localLabelResolver() -> (Int, Bool, SourceLocation) throws(AssemblyError) -> String {
        return { [self] (n: Int, forward: Bool, loc: SourceLocation) throws(AssemblyError) -> String in
            let count = localLabelCounts[n, default: 0]
            if forward {
                let name = localLabelName(n, count)
                pendingForward.append((name, loc))
                return name
            }
            guard count > 0 else { throw loc.error("no earlier definition of local label \(n)") }
            return localLabelName(n, count - 1)
        }
    }

    func defineLabel(_ name: String, at loc: SourceLocation) throws(AssemblyError) {
        if labels[name] != nil || equates[name] != nil { throw loc.error("symbol '\(name)' is already defined") }
        labels[name] = (current, sections[current].items.count, loc)
    }

    func statement(_ c: inout TokenCursor) throws(AssemblyError) {
        // Labels: `name:` or `1:`, any number of them.
        while !c.atEnd {
            let t = c.peek
            if case .identifier(let name) = t.kind, c.isPunctuation(":", offset: 1) {
                try defineLabel(name, at: t.location)
                c.index += 2
            } else if case .integer(let n) = t.kind, c.isPunctuation(":", offset: 1) {
                guard n >= 0 else { throw t.location.error("invalid local label") }
                let count = localLabelCounts[Int(n), default: 0]
                try defineLabel(localLabelName(Int(n), count), at: t.location)
                localLabelCounts[Int(n)] = count + 1
                c.index += 2
            } else {
                break
            }
        }
        if c.atEnd { return }
        let head = c.next()
        guard case .identifier(let word) = head.kind else {
            throw head.location.error("expected an instruction or directive, got '\(head.text)'")
        }
        if c.isPunctuation("=") {  // `name = expr` is .set
            c.index += 1
            let e = try c.parseExpression(localLabel: localLabelResolver(), symbol: symbolInForce)
            try define(word, e, at: head.location)
            return
        }
        let operands = splitOperands(&c)
        if let macro = macros[word.lowercased()] {
            try expandMacro(macro, name: word, operands, at: head.location)
            return
        }
        if word.hasPrefix(".") && word.count > 1 {
            try directive(word.lowercased(), operands, at: head.location)
        } else {
            try instruction(word.lowercased(), operands, at: head.location)
        }
    }

    /// Operand token groups, split at top-level commas, each ending in an end-of-statement token.
    func splitOperands(_ c: inout TokenCursor) -> [[Token]] {
        var groups: [[Token]] = []
        var group: [Token] = []
        var depth = 0
        while !c.atEnd {
            let t = c.next()
            if case .punctuation(let p) = t.kind {
                if p == "(" { depth += 1 }
                if p == ")" { depth -= 1 }
                if p == "," && depth == 0 {
                    groups.append(group + [Token(kind: .endOfStatement, location: t.location)])
                    group = []
                    continue
                }
            }
            group.append(t)
        }
        if !group.isEmpty || !groups.isEmpty {
            groups.append(group + [Token(kind: .endOfStatement, location: c.peek.location)])
        }
        return groups
    }

    /// Defines `name` as `e` for `.equ`, `.set` and `=`, which may redefine a name so defined,
    /// or, with `once`, for `.equiv`, which may not define a name defined before (as a label or
    /// by any of the four, as in clang and GNU as); nothing may redefine a name `.equiv` defined.
    func define(_ name: String, _ e: Expr, once: Bool = false, at loc: SourceLocation) throws(AssemblyError) {
        if labels[name] != nil || once && definitionCounts[name] != nil {
            throw loc.error("symbol '\(name)' is already defined")
        }
        if equivalences.contains(name) { throw loc.error("symbol '\(name)' is already defined by '.equiv'") }
        // `.` in the definition is where the definition stands (as in the GNU and LLVM assemblers),
        // not where the symbol is used: it becomes a label of its own at this point.
        var anchor: String?
        let e = e.replacingHere { [self] at in
            if anchor == nil {
                let label = Self.locationLabelPrefix + String(locationLabelCount)
                locationLabelCount += 1
                labels[label] = (current, sections[current].items.count, at)
                anchor = label
            }
            return .symbol(anchor!, at)
        }
        // A redefinition (allowed for .equ, .set and = alike, as in clang) is kept apart from the
        // earlier ones: uses that stand before it keep the value they saw. Symbols in the value
        // were resolved to the definitions in force here when it was parsed.
        let n = definitionCounts[name, default: 0]
        let key = Self.definitionKey(name, n)
        do throws(AssemblyError) {
            equates[key] = .number(try constantValue(e))
        } catch {
            // Numbers alone that cannot be evaluated (a division by zero, a shift by 64) are wrong
            // wherever the symbol is used, or if it is never used.
            guard e.refersToSymbols else { throw error }
            equates[key] = e
        }
        definitionCounts[name] = n + 1
        if once { equivalences.insert(name) }
    }

    func emit(_ kind: ItemKind, at loc: SourceLocation) {
        sections[current].items.append(Item(kind: kind, location: loc))
    }

    // MARK: Evaluation

    /// The value of `e` when it must be known while parsing (li, .zero counts, CSR numbers...).
    func constantValue(_ e: Expr) throws(AssemblyError) -> Int64 {
        let env = ExprEnvironment(pc: nil, lookup: { [self] name, loc throws(AssemblyError) in
            if labels[name] != nil || name.hasPrefix(".L") && name.contains("$local") {
                throw loc.error("\(displayName(name)) is not a constant")
            }
            guard let eq = equates[name] else { throw loc.error("\(displayName(name)) is not a constant (undefined here)") }
            return .definition(eq)
        }, pcrelHiTarget: { _, loc throws(AssemblyError) in
            throw loc.error("%pcrel_lo needs a label")
        })
        return try e.evaluate(env).value
    }

    func isConstant(_ e: Expr) -> Bool { (try? constantValue(e)) != nil }

    func labelAddress(_ name: String) -> UInt64? {
        guard let l = labels[name] else { return nil }
        let s = sections[l.section]
        return s.address &+ (l.item < s.items.count ? s.items[l.item].offset : s.size)
    }

    /// The environment for evaluating at `pc` once the layout is known.
    func environment(pc: UInt64?) -> ExprEnvironment {
        ExprEnvironment(pc: pc, lookup: { [self] name, _ in
            if let a = labelAddress(name) { return .value(ExprValue(value: Int64(bitPattern: a), isAddress: true)) }
            return equates[name].map { .definition($0) }
        }, pcrelHiTarget: { [self] anchor, loc throws(AssemblyError) in
            guard let (target, _) = pcrelHi[anchor] else {
                throw loc.error("%pcrel_lo does not name an auipc with %pcrel_hi")
            }
            return target
        })
    }
}
