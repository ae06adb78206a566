// Directives, in the GNU assembler's syntax: sections, data, strings, alignment, symbols and
// `.option rvc`/`.option norvc`.

extension AssemblerSession {
    func expression(_ group: [Token]) throws(AssemblyError) -> Expr {
        var c = TokenCursor(tokens: group, index: 0)
        guard !c.atEnd else { throw c.peek.location.error("expected an expression") }
        let e = try c.parseExpression(localLabel: localLabelResolver(), symbol: symbolInForce)
        guard c.atEnd else { throw c.peek.location.error("unexpected '\(c.peek.text)' after expression") }
        return e
    }

    func identifier(_ group: [Token], _ what: String) throws(AssemblyError) -> String {
        guard group.count == 2, case .identifier(let name) = group[0].kind else {
            throw (group.first?.location ?? SourceLocation(line: 0, column: 0)).error("expected \(what)")
        }
        return name
    }

    func switchSection(_ name: String) {
        if let i = sections.firstIndex(where: { $0.name == name }) {
            current = i
        } else {
            sections.append(SectionState(name: name))
            current = sections.count - 1
        }
    }

    /// Aligns to `bytes`, a number the source wrote in `notation` (for the message if it is wrong).
    func alignTo(_ bytes: Int64, notation: NumberNotation = .decimal, fill: UInt8?, at loc: SourceLocation) throws(AssemblyError) {
        guard bytes > 0, bytes & (bytes - 1) == 0, bytes <= 1 << 16 else {
            throw loc.error("alignment \(notation.value(bytes)) is not a power of two")
        }
        sections[current].alignment = max(sections[current].alignment, UInt64(bytes))
        emit(.align(bytes: Int(bytes), fill: fill, code: sections[current].isCode, rvc: rvc), at: loc)
    }

    func directive(_ name: String, _ ops: [[Token]], at loc: SourceLocation) throws(AssemblyError) {
        func count(_ n: ClosedRange<Int>) throws(AssemblyError) {
            guard n.contains(ops.count) else {
                throw loc.error("'\(name)' expects \(n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound) to \(n.upperBound)") operand\(n.upperBound == 1 ? "" : "s"), got \(ops.count)")
            }
        }
        func byteValue(_ group: [Token]) throws(AssemblyError) -> UInt8 {
            UInt8(truncatingIfNeeded: try constantValue(try expression(group)))
        }
        switch name {
        case ".text", ".data", ".bss", ".rodata":
            try count(0...0)
            switchSection(name)
        case ".section":
            guard let first = ops.first else { throw loc.error("'.section' needs a name") }
            var sectionName = ""
            for t in first.dropLast() { sectionName += t.text }
            guard !sectionName.isEmpty else { throw loc.error("'.section' needs a name") }
            switchSection(sectionName)
        case ".globl", ".global":
            for g in ops { globals.insert(try identifier(g, "a symbol name")) }
        case ".local", ".type", ".size", ".file", ".ident", ".attribute", ".weak", ".hidden", ".end", ".cfi_startproc",
             ".cfi_endproc", ".addrsig":
            break  // object-file metadata: nothing to place in a raw image
        case ".option":
            try count(1...1)
            switch try identifier(ops[0], "an option") {
            case "rvc": rvc = true
            case "norvc": rvc = false
            case "push": rvcStack.append(rvc)
            case "pop":
                guard let saved = rvcStack.popLast() else { throw loc.error("'.option pop' without '.option push'") }
                rvc = saved
            case "relax", "norelax", "pic", "nopic": break
            case let other: throw ops[0][0].location.error("unknown option '\(other)' (expected rvc, norvc, push, pop, relax, norelax)")
            }
        case ".equ", ".set", ".equiv":
            try count(2...2)
            try define(try identifier(ops[0], "a symbol name"), try expression(ops[1]), once: name == ".equiv", at: loc)
        case ".byte", ".half", ".short", ".2byte", ".word", ".long", ".4byte", ".dword", ".quad", ".8byte":
            let width = switch name {
            case ".byte": 1
            case ".half", ".short", ".2byte": 2
            case ".word", ".long", ".4byte": 4
            default: 8
            }
            var exprs: [Expr] = []
            for g in ops { exprs.append(try expression(g)) }
            emit(.data(width: width, exprs), at: loc)
        case ".float", ".double":
            // IEEE 754 binary32/binary64, little-endian, as the data of FP labs.
            var bytes: [UInt8] = []
            for g in ops {
                var negative = false
                var k = 0
                if g.count > 2, case .punctuation("-") = g[0].kind { negative = true; k = 1 }
                guard g.count == k + 2 else { throw location(g).error("expected a number, got '\(g.dropLast().map(\.text).joined())'") }
                // Parsed from the text in the target precision, so each value is rounded once.
                let text: String
                switch g[k].kind {
                case .float(let t): text = t
                case .integer(let v): text = String(v)
                case .identifier(let word) where ["inf", "nan"].contains(word.lowercased()): text = word.lowercased()
                default: throw g[k].location.error("expected a number, got '\(g[k].text)'")
                }
                if name == ".float" {
                    let magnitude = Float(text) ?? 0
                    let bits = (negative ? -magnitude : magnitude).bitPattern
                    for b in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(b)))) }
                } else {
                    let magnitude = Double(text) ?? 0
                    let bits = (negative ? -magnitude : magnitude).bitPattern
                    for b in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(b)))) }
                }
            }
            emit(.bytes(bytes), at: loc)
        case ".ascii", ".asciz", ".string":
            guard !ops.isEmpty else { throw loc.error("'\(name)' needs a string") }
            for g in ops {
                guard g.count == 2, case .string(let s) = g[0].kind else {
                    throw g[0].location.error("expected a string, got '\(g[0].text)'")
                }
                emit(.bytes(name == ".ascii" ? s : s + [0]), at: loc)
            }
        case ".zero", ".space", ".skip":
            try count(1...2)
            let size = try expression(ops[0])
            let n = try constantValue(size)
            guard n >= 0 && n <= 64 << 20 else { throw ops[0][0].location.error("size \(size.notation.value(n)) out of range") }
            emit(.fill(count: Int(n), value: ops.count == 2 ? try byteValue(ops[1]) : 0), at: loc)
        case ".align", ".p2align":
            // On RISC-V `.align n` means 2^n bytes, like `.p2align`.
            try count(1...3)
            let power = try expression(ops[0])
            let n = try constantValue(power)
            guard n >= 0 && n <= 16 else { throw ops[0][0].location.error("alignment 2^\(power.notation.value(n)) out of range") }
            try alignTo(1 << n, fill: ops.count >= 2 && ops[1].count > 1 ? try byteValue(ops[1]) : nil, at: loc)
        case ".balign":
            try count(1...3)
            let alignment = try expression(ops[0])
            let n = try constantValue(alignment)
            try alignTo(n, notation: alignment.notation, fill: ops.count >= 2 && ops[1].count > 1 ? try byteValue(ops[1]) : nil, at: loc)
        case ".rept", ".endr", ".macro", ".endm", ".if", ".ifdef", ".ifndef", ".else", ".endif":
            throw loc.error("'\(name)' must begin its statement (put a label before it on its own line)")
        default:
            throw loc.error("unknown directive '\(name)'")
        }
    }
}
