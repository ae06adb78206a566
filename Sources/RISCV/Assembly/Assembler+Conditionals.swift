// Conditional assembly: `.if expr`, `.ifdef sym`, `.ifndef sym`, an optional `.else`, `.endif`;
// nestable. The condition is evaluated where it stands, so it may use `.equ` constants and macro
// arguments but not labels defined later.

extension AssemblerSession {
    static let conditionalOpeners: Set<String> = [".if", ".ifdef", ".ifndef"]

    func conditionalDirective(_ tokens: [Token], at index: Int) -> String? {
        guard index < tokens.count, case .identifier(let word) = tokens[index].kind else { return nil }
        let lower = word.lowercased()
        return Self.conditionalOpeners.contains(lower) || lower == ".else" || lower == ".endif" ? lower : nil
    }

    /// The branch of the conditional at `index` that its condition selects (nil if none), for
    /// `run` to assemble, and the index after its `.endif`.
    func conditional(_ tokens: [Token], at index: Int, end: Int) throws(AssemblyError) -> (branch: Range<Int>?, after: Int) {
        let loc = tokens[index].location
        let kind = conditionalDirective(tokens, at: index)!
        var cursor = TokenCursor(tokens: tokens, index: index + 1)
        let condition: Bool
        if kind == ".if" {
            condition = try constantValue(try cursor.parseExpression(localLabel: localLabelResolver(), symbol: symbolInForce)) != 0
        } else {
            let t = cursor.next()
            guard case .identifier(let name) = t.kind else { throw t.location.error("'\(kind)' needs a symbol name") }
            let defined = labels[name] != nil || equates[name] != nil
            condition = kind == ".ifdef" ? defined : !defined
        }
        guard cursor.atEnd else { throw cursor.peek.location.error("unexpected '\(cursor.peek.text)' after condition") }

        // Find this conditional's .else and .endif, skipping nested ones.
        let thenStart = nextStatement(tokens, after: index)
        var elseAt: Int?
        var depth = 1
        var scan = thenStart
        while scan < end {
            switch conditionalDirective(tokens, at: scan) {
            case ".if", ".ifdef", ".ifndef":
                // Too deep to assemble: said at once, rather than after scans of every level.
                depth += 1
                guard depth <= Self.maximumBlockNesting else { throw Self.blocksTooDeep(tokens[scan].location) }
            case ".endif": depth -= 1
            case ".else" where depth == 1:
                guard elseAt == nil else { throw tokens[scan].location.error("second '.else' for one '.if'") }
                elseAt = scan
            default: break
            }
            if depth == 0 { break }
            scan = nextStatement(tokens, after: scan)
        }
        guard depth == 0 else { throw loc.error("'\(kind)' without '.endif'") }
        let after = nextStatement(tokens, after: scan)
        if condition { return (thenStart..<(elseAt ?? scan), after) }
        if let elseAt { return (nextStatement(tokens, after: elseAt)..<scan, after) }
        return (nil, after)
    }
}
