// GNU-style macros: `.macro name param, param=default` ... `.endm`, with `\param` in the body
// replaced by the tokens of the argument. Expansion re-enters the statement parser, so a macro
// may use labels (numeric local labels are the safe kind), `.rept` and other macros; recursion is
// bounded.

struct Macro {
    var parameters: [(name: String, defaultValue: [Token]?)]
    var body: [Token]
}

extension AssemblerSession {
    static let maximumMacroDepth = 64

    /// Whether the statement at `index` starts with the directive `name`.
    func startsWith(_ name: String, _ tokens: [Token], at index: Int) -> Bool {
        guard index < tokens.count, case .identifier(let word) = tokens[index].kind else { return false }
        return word.lowercased() == name
    }

    /// Records the `.macro` starting at `index`; returns the index after its `.endm`.
    func defineMacro(_ tokens: [Token], at index: Int, end: Int) throws(AssemblyError) -> Int {
        let loc = tokens[index].location
        var i = index + 1
        guard case .identifier(let name) = tokens[i].kind else { throw tokens[i].location.error("'.macro' needs a name") }
        i += 1
        var parameters: [(name: String, defaultValue: [Token]?)] = []
        while tokens[i].kind != .endOfStatement {
            if tokens[i].kind == .punctuation(",") { i += 1; continue }
            guard case .identifier(let parameter) = tokens[i].kind else {
                throw tokens[i].location.error("expected a macro parameter name, got '\(tokens[i].text)'")
            }
            i += 1
            var defaultValue: [Token]?
            if tokens[i].kind == .punctuation("=") {
                i += 1
                var value: [Token] = []
                while tokens[i].kind != .endOfStatement && tokens[i].kind != .punctuation(",") {
                    value.append(tokens[i])
                    i += 1
                }
                defaultValue = value
            }
            parameters.append((parameter, defaultValue))
        }
        let bodyStart = nextStatement(tokens, after: index)
        var scan = bodyStart
        while scan < end && !startsWith(".endm", tokens, at: scan) {
            if startsWith(".macro", tokens, at: scan) { throw tokens[scan].location.error("'.macro' inside a macro definition") }
            scan = nextStatement(tokens, after: scan)
        }
        guard scan < end else { throw loc.error("'.macro' without '.endm'") }
        macros[name.lowercased()] = Macro(parameters: parameters, body: Array(tokens[bodyStart..<scan]))
        return nextStatement(tokens, after: scan)
    }

    /// Expands a macro invocation whose arguments are `args`.
    func expandMacro(_ macro: Macro, name: String, _ args: [[Token]], at loc: SourceLocation) throws(AssemblyError) {
        guard args.count <= macro.parameters.count else {
            throw loc.error("macro '\(name)' takes \(macro.parameters.count) argument\(macro.parameters.count == 1 ? "" : "s"), got \(args.count)")
        }
        var bindings: [String: [Token]] = [:]
        for (k, parameter) in macro.parameters.enumerated() {
            if k < args.count && args[k].count > 1 {
                bindings[parameter.name] = Array(args[k].dropLast())
            } else if let value = parameter.defaultValue {
                bindings[parameter.name] = value
            } else {
                throw loc.error("missing argument '\(parameter.name)' to macro '\(name)'")
            }
        }
        var expanded: [Token] = []
        for t in macro.body {
            if case .macroParameter(let parameter) = t.kind {
                guard let value = bindings[parameter] else { throw t.location.error("unknown macro parameter '\\\(parameter)'") }
                expanded += value
            } else {
                expanded.append(t)
            }
        }
        // `run` assembles the expansion next, and counts the depth down when it is done.
        macroDepth += 1
        guard macroDepth <= Self.maximumMacroDepth else { throw loc.error("macro '\(name)' nests too deeply (recursive?)") }
        macroExpansion = expanded
    }
}
