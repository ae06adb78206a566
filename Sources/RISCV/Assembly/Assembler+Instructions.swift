// Instructions: operand parsing driven by the instruction table's formats, and the choice between
// the 4-byte and the compressed encoding.

extension AssemblerSession {
    // MARK: Operands

    func location(_ g: [Token]) -> SourceLocation { g[0].location }

    /// Whether a name looks like an architectural register (x0–x99, f0–f99), to say "unknown register".
    func looksLikeRegister(_ name: String) -> Bool {
        guard let first = name.first, first == "x" || first == "f" else { return false }
        let rest = name.dropFirst()
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isNumber }
    }

    func register(_ g: [Token], floatingPoint: Bool) throws(AssemblyError) -> UInt8 {
        guard g.count == 2, case .identifier(let raw) = g[0].kind else {
            throw location(g).error("expected \(floatingPoint ? "a floating-point" : "an integer") register, got '\(g.dropLast().map(\.text).joined())'")
        }
        let name = raw.lowercased()
        if floatingPoint, let r = RegisterNames.floatingPointNumber(name) { return r }
        if !floatingPoint, let r = RegisterNames.integerNumber(name) { return r }
        if looksLikeRegister(name) && RegisterNames.integerNumber(name) == nil && RegisterNames.floatingPointNumber(name) == nil {
            throw location(g).error("unknown register '\(raw)'")
        }
        throw location(g).error("expected \(floatingPoint ? "a floating-point" : "an integer") register, got '\(raw)'")
    }

    func x(_ g: [Token]) throws(AssemblyError) -> UInt8 { try register(g, floatingPoint: false) }
    func f(_ g: [Token]) throws(AssemblyError) -> UInt8 { try register(g, floatingPoint: true) }

    func immediate(_ g: [Token], _ kind: ImmediateKind) throws(AssemblyError) -> ImmediateOperand {
        ImmediateOperand(expr: try expression(g), kind: kind, location: location(g))
    }

    /// `offset(base)`, `(base)` or `%lo(sym)(base)`.
    func memory(_ g: [Token]) throws(AssemblyError) -> (ImmediateOperand, UInt8) {
        let n = g.count - 1  // without the end token
        guard n >= 3, case .punctuation(")") = g[n - 1].kind, case .punctuation("(") = g[n - 3].kind else {
            throw location(g).error("expected a memory operand 'offset(register)', got '\(g.dropLast().map(\.text).joined())'")
        }
        let base = try x([g[n - 2], g[n]])
        let offsetTokens = Array(g[0..<(n - 3)])
        let expr: Expr = offsetTokens.isEmpty ? .number(0) : try expression(offsetTokens + [g[n]])
        return (ImmediateOperand(expr: expr, kind: .signed12, location: location(g)), base)
    }

    /// `(base)`, also written `0(base)`, for atomics and hypervisor loads/stores.
    func address(_ g: [Token]) throws(AssemblyError) -> UInt8 {
        let (offset, base) = try memory(g)
        guard (try? constantValue(offset.expr)) == 0 else {
            throw location(g).error("this instruction takes no offset: expected '(register)'")
        }
        return base
    }

    func roundingMode(_ g: [Token]) throws(AssemblyError) -> UInt8 {
        if g.count == 2, case .identifier(let name) = g[0].kind,
           let i = Disassembler.roundingModes.firstIndex(of: name.lowercased()), i != 5, i != 6 {
            return UInt8(i)
        }
        throw location(g).error("expected a rounding mode (rne, rtz, rdn, rup, rmm, dyn), got '\(g.dropLast().map(\.text).joined())'")
    }

    func csrNumber(_ g: [Token]) throws(AssemblyError) -> Int32 {
        if g.count == 2, case .identifier(let name) = g[0].kind, let n = CSR.number(name.lowercased()) {
            guard !CSR.isRV32Only(n) else { throw location(g).error("system register '\(name)' is RV32 only") }
            return Int32(n)
        }
        if g.count == 2, case .identifier(let name) = g[0].kind, equates[name] == nil {
            throw location(g).error("unknown CSR '\(name)'")
        }
        let e = try expression(g)
        let v = try constantValue(e)
        guard v >= 0 && v <= 4095 else { throw location(g).error("CSR number \(e.notation.range(v, 0, 4095))") }
        return Int32(v)
    }

    func zimm(_ g: [Token]) throws(AssemblyError) -> UInt8 {
        let e = try expression(g)
        let v = try constantValue(e)
        guard v >= 0 && v <= 31 else { throw location(g).error("immediate \(e.notation.range(v, 0, 31))") }
        return UInt8(v)
    }

    /// A fence ordering set: a subsequence of "iorw", or 0.
    func fenceSet(_ g: [Token]) throws(AssemblyError) -> UInt8 {
        if g.count == 2, case .integer(0) = g[0].kind { return 0 }
        if g.count == 2, case .identifier(let s) = g[0].kind {
            var bits: UInt8 = 0
            var order = Array("iorw")
            var ok = !s.isEmpty
            for ch in s.lowercased() {
                guard let k = order.firstIndex(of: ch) else { ok = false; break }
                bits |= 8 >> UInt8(Array("iorw").firstIndex(of: ch)!)
                order.removeFirst(k + 1)
            }
            if ok { return bits }
        }
        throw location(g).error("expected a fence set (a subsequence of 'iorw', or 0), got '\(g.dropLast().map(\.text).joined())'")
    }

    // MARK: Emission

    /// Appends an instruction, choosing the compressed form under `.option rvc` when one exists.
    func emitInstruction(_ inst: Instruction, _ operand: ImmediateOperand? = nil, at loc: SourceLocation) throws(AssemblyError) {
        var compressed: UInt16?
        var relax = Relaxation.none
        if let operand, !operand.expr.hasModifier, isConstant(operand.expr) {
            // Constant operand: check it now, and decide the size now.
            let resolved = try resolve(inst, operand, pc: 0)
            if rvc { compressed = Compressor.compress(resolved) }
        } else if operand == nil {
            if rvc { compressed = Compressor.compress(inst) }
        } else if inst.opcode.isBranch {
            // A label operand: the size is decided during layout.
            let zeroTest = (inst.opcode == .beq || inst.opcode == .bne)
                && ((inst.rs2 == 0 && (8...15).contains(inst.rs1)) || (inst.rs1 == 0 && (8...15).contains(inst.rs2)))
            relax = .branch(compressible: rvc && zeroTest)
        } else if rvc && inst.opcode == .jal && inst.rd == 0 {
            relax = .jump
        }
        sections[current].items.append(Item(kind: .instruction(inst, operand, compressed: compressed, relax: relax),
                                            location: loc, stage: relax == .branch(compressible: false) ? 1 : 0))
    }

    func expectCount(_ name: String, _ ops: [[Token]], _ n: ClosedRange<Int>, at loc: SourceLocation) throws(AssemblyError) {
        guard n.contains(ops.count) else {
            let want = n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound) or \(n.upperBound)"
            throw loc.error("'\(name)' expects \(want) operand\(n.upperBound == 1 ? "" : "s"), got \(ops.count)")
        }
    }

    // MARK: Instructions

    func instruction(_ name: String, _ ops: [[Token]], at loc: SourceLocation) throws(AssemblyError) {
        if try pseudoInstruction(name, ops, at: loc) { return }
        if name.hasPrefix("c.") {
            try compressedInstruction(name, ops, at: loc)
            return
        }
        var base = name
        var ordering: UInt8 = 0
        for (suffix, bits) in [(".aqrl", UInt8(3)), (".aq", 2), (".rl", 1)] where name.hasSuffix(suffix) {
            let stem = String(name.dropLast(suffix.count))
            if let op = InstructionTable.byName[stem], op.info.format.hasOrdering {
                base = stem
                ordering = bits
                break
            }
        }
        guard let opcode = InstructionTable.byName[base] else { throw loc.error("unknown instruction '\(name)'") }
        try realInstruction(opcode, name: name, ordering: ordering, ops, at: loc)
    }

    func endsWithParenthesis(_ g: [Token]) -> Bool {
        guard g.count >= 2, case .punctuation(")") = g[g.count - 2].kind else { return false }
        return true
    }

    /// `lw rd, symbol` and `sw rs, symbol, temp` (and the FP forms): a pc-relative access through
    /// auipc, as the GNU and LLVM assemblers expand it. Loads use rd as the temporary.
    func symbolAccess(_ opcode: Opcode, name: String, _ ops: [[Token]], at loc: SourceLocation) throws(AssemblyError) {
        let format = opcode.info.format
        let isLoad = format == .load || format == .fpLoad
        let floating = format == .fpLoad || format == .fpStore
        try expectCount(name, ops, (isLoad && !floating ? 2 : 3)...(isLoad && !floating ? 2 : 3), at: loc)
        let data = floating ? try f(ops[0]) : try x(ops[0])
        let temp = isLoad && !floating ? data : try x(ops[2])
        let hi = Expr.modifier(.pcrel_hi, try expression(ops[1]), location(ops[1]))
        try emitInstruction(Instruction(opcode: .auipc, rd: temp), ImmediateOperand(expr: hi, kind: .upper20, location: location(ops[1])), at: loc)
        var access = Instruction(opcode: opcode, rs1: temp)
        if isLoad { access.rd = data } else { access.rs2 = data }
        try emitInstruction(access, ImmediateOperand(expr: pcrelLoOfPrevious(loc), kind: .signed12, location: location(ops[1])), at: loc)
    }

    func realInstruction(_ opcode: Opcode, name: String, ordering: UInt8, _ ops: [[Token]], at loc: SourceLocation) throws(AssemblyError) {
        let info = opcode.info
        if [.load, .store, .fpLoad, .fpStore].contains(info.format), ops.count >= 2, !endsWithParenthesis(ops[1]) {
            try symbolAccess(opcode, name: name, ops, at: loc)
            return
        }
        let kinds = info.format.operands
        let required = kinds.filter { $0 != .roundingMode }.count
        try expectCount(name, ops, required...kinds.count, at: loc)
        var inst = Instruction(opcode: opcode)
        if info.format.hasRoundingMode { inst.rm = info.defaultRoundingMode }
        if info.format.hasOrdering { inst.rm = ordering }
        var operand: ImmediateOperand?
        for (k, kind) in kinds.enumerated() where k < ops.count {
            let g = ops[k]
            switch kind {
            case .xd: inst.rd = try x(g)
            case .xs1: inst.rs1 = try x(g)
            case .xs2: inst.rs2 = try x(g)
            case .fd: inst.rd = try f(g)
            case .fs1: inst.rs1 = try f(g)
            case .fs2: inst.rs2 = try f(g)
            case .fs3: inst.rs3 = try f(g)
            case .imm: operand = try immediate(g, .signed12)
            case .shamt: operand = try immediate(g, .shamt(info.format == .shift32 ? 31 : 63))
            case .upper: operand = try immediate(g, .upper20)
            case .branchTarget: operand = try immediate(g, .branch)
            case .jumpTarget: operand = try immediate(g, .jump)
            case .memory:
                let (offset, base) = try memory(g)
                operand = offset
                inst.rs1 = base
            case .address: inst.rs1 = try address(g)
            case .csr: inst.imm = try csrNumber(g)
            case .zimm: inst.rs1 = try zimm(g)
            case .roundingMode: inst.rm = try roundingMode(g)
            case .pred:
                let set = try fenceSet(g)
                inst.rm |= set << 4
                inst.imm |= Int32(set) << 4
            case .succ:
                let set = try fenceSet(g)
                inst.rm |= set
                inst.imm |= Int32(set)
            }
        }
        try emitInstruction(inst, operand, at: loc)
    }
}
