// Pseudo-instructions (unprivileged spec, "RISC-V Assembly Programmer's Handbook", tables of
// pseudoinstructions; psABI / asm manual for `la`, `call`, `tail`). Each expands to the same
// instructions clang emits for it.

extension AssemblerSession {
    /// The pc-relative low part that completes the auipc just before the current instruction.
    func pcrelLoOfPrevious(_ loc: SourceLocation) -> Expr {
        .modifier(.pcrel_lo, .chain(.here(loc), [Expr.Operation(op: "-", operand: .number(4), location: loc)]), loc)
    }

    /// Expands `name` if it is a pseudo-instruction in this operand form; returns false otherwise.
    func pseudoInstruction(_ name: String, _ ops: [[Token]], at loc: SourceLocation) throws(AssemblyError) -> Bool {
        func emit(_ op: Opcode, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, imm: Int32 = 0,
                  _ operand: ImmediateOperand? = nil) throws(AssemblyError) {
            try emitInstruction(Instruction(opcode: op, rd: rd, rs1: rs1, rs2: rs2, imm: imm), operand, at: loc)
        }
        func fp(_ op: Opcode) throws(AssemblyError) {
            try expectCount(name, ops, 2...2, at: loc)
            let rs = try f(ops[1])
            try emit(op, rd: try f(ops[0]), rs1: rs, rs2: rs)
        }
        func branchZero(_ op: Opcode, swap: Bool) throws(AssemblyError) {
            try expectCount(name, ops, 2...2, at: loc)
            let r = try x(ops[0])
            try emit(op, rs1: swap ? 0 : r, rs2: swap ? r : 0, try immediate(ops[1], .branch))
        }
        func branchSwapped(_ op: Opcode) throws(AssemblyError) {
            try expectCount(name, ops, 3...3, at: loc)
            try emit(op, rs1: try x(ops[1]), rs2: try x(ops[0]), try immediate(ops[2], .branch))
        }
        func pcrelPair(rd: UInt8, target: [Token], second: Opcode, secondRD: UInt8) throws(AssemblyError) {
            let hi = Expr.modifier(.pcrel_hi, try expression(target), location(target))
            try emit(.auipc, rd: rd, ImmediateOperand(expr: hi, kind: .upper20, location: location(target)))
            try emit(second, rd: secondRD, rs1: rd,
                     ImmediateOperand(expr: pcrelLoOfPrevious(loc), kind: .signed12, location: location(target)))
        }
        func csrRead(_ csr: UInt16) throws(AssemblyError) {
            try expectCount(name, ops, 1...1, at: loc)
            try emit(.csrrs, rd: try x(ops[0]), imm: Int32(csr))
        }
        /// csrw/csrs/csrc take a register or, like clang, an immediate (then the *i form).
        func csrWrite(_ reg: Opcode, _ imm: Opcode) throws(AssemblyError) {
            try expectCount(name, ops, 2...2, at: loc)
            let csr = try csrNumber(ops[0])
            if ops[1].count == 2, case .identifier(let r) = ops[1][0].kind, RegisterNames.integerNumber(r.lowercased()) != nil {
                try emit(reg, rs1: try x(ops[1]), imm: csr)
            } else {
                try emit(imm, rs1: try zimm(ops[1]), imm: csr)
            }
        }
        func fcsrSwap(_ csr: UInt16) throws(AssemblyError) {  // fscsr rs / fscsr rd, rs
            try expectCount(name, ops, 1...2, at: loc)
            let rd: UInt8 = ops.count == 2 ? try x(ops[0]) : 0
            try emit(.csrrw, rd: rd, rs1: try x(ops[ops.count - 1]), imm: Int32(csr))
        }

        switch name {
        case "nop":
            try expectCount(name, ops, 0...0, at: loc)
            try emit(.addi)
        case "li":
            try expectCount(name, ops, 2...2, at: loc)
            let rd = try x(ops[0])
            let e = try expression(ops[1])
            let value: Int64
            do { value = try constantValue(e) } catch {
                throw location(ops[1]).error("'li' needs a constant: \(error.message)")
            }
            for inst in LoadImmediate.instructions(rd: rd, value: value) { try emitInstruction(inst, at: loc) }
        case "la", "lla":
            try expectCount(name, ops, 2...2, at: loc)
            let rd = try x(ops[0])
            try pcrelPair(rd: rd, target: ops[1], second: .addi, secondRD: rd)
        case "call":
            try expectCount(name, ops, 1...2, at: loc)
            let rd: UInt8 = ops.count == 2 ? try x(ops[0]) : 1
            try pcrelPair(rd: rd, target: ops[ops.count - 1], second: .jalr, secondRD: rd)
        case "tail":
            try expectCount(name, ops, 1...1, at: loc)
            try pcrelPair(rd: 6, target: ops[0], second: .jalr, secondRD: 0)
        case "mv":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.addi, rd: try x(ops[0]), rs1: try x(ops[1]))
        case "not":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.xori, rd: try x(ops[0]), rs1: try x(ops[1]), imm: -1)
        case "neg", "negw":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(name == "neg" ? .sub : .subw, rd: try x(ops[0]), rs2: try x(ops[1]))
        case "sext.w":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.addiw, rd: try x(ops[0]), rs1: try x(ops[1]))
        case "zext.b":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.andi, rd: try x(ops[0]), rs1: try x(ops[1]), imm: 255)
        case "seqz":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.sltiu, rd: try x(ops[0]), rs1: try x(ops[1]), imm: 1)
        case "snez":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.sltu, rd: try x(ops[0]), rs2: try x(ops[1]))
        case "sltz":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.slt, rd: try x(ops[0]), rs1: try x(ops[1]))
        case "sgtz":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.slt, rd: try x(ops[0]), rs2: try x(ops[1]))
        case "beqz": try branchZero(.beq, swap: false)
        case "bnez": try branchZero(.bne, swap: false)
        case "blez": try branchZero(.bge, swap: true)
        case "bgez": try branchZero(.bge, swap: false)
        case "bltz": try branchZero(.blt, swap: false)
        case "bgtz": try branchZero(.blt, swap: true)
        case "bgt": try branchSwapped(.blt)
        case "ble": try branchSwapped(.bge)
        case "bgtu": try branchSwapped(.bltu)
        case "bleu": try branchSwapped(.bgeu)
        case "j":
            try expectCount(name, ops, 1...1, at: loc)
            try emit(.jal, try immediate(ops[0], .jump))
        case "jal" where ops.count == 1:
            try emit(.jal, rd: 1, try immediate(ops[0], .jump))
        case "jr":
            try expectCount(name, ops, 1...1, at: loc)
            try emit(.jalr, rs1: try x(ops[0]))
        case "jalr" where ops.count == 1:
            try emit(.jalr, rd: 1, rs1: try x(ops[0]))
        case "jalr" where ops.count == 2 && ops[1].count == 2:  // jalr rd, rs
            try emit(.jalr, rd: try x(ops[0]), rs1: try x(ops[1]))
        case "jalr" where ops.count == 3:  // jalr rd, rs, imm
            try emit(.jalr, rd: try x(ops[0]), rs1: try x(ops[1]), try immediate(ops[2], .signed12))
        case "ret":
            try expectCount(name, ops, 0...0, at: loc)
            try emit(.jalr, rs1: 1)
        case "csrr":
            try expectCount(name, ops, 2...2, at: loc)
            try emit(.csrrs, rd: try x(ops[0]), imm: try csrNumber(ops[1]))
        case "csrw": try csrWrite(.csrrw, .csrrwi)
        case "csrs": try csrWrite(.csrrs, .csrrsi)
        case "csrc": try csrWrite(.csrrc, .csrrci)
        case "csrwi", "csrsi", "csrci":
            try expectCount(name, ops, 2...2, at: loc)
            let op: Opcode = name == "csrwi" ? .csrrwi : name == "csrsi" ? .csrrsi : .csrrci
            try emit(op, rs1: try zimm(ops[1]), imm: try csrNumber(ops[0]))
        case "rdcycle": try csrRead(CSR.cycle)
        case "rdtime": try csrRead(CSR.time)
        case "rdinstret": try csrRead(CSR.instret)
        case "frcsr": try csrRead(CSR.fcsr)
        case "frrm": try csrRead(CSR.frm)
        case "frflags": try csrRead(CSR.fflags)
        case "fscsr": try fcsrSwap(CSR.fcsr)
        case "fsrm": try fcsrSwap(CSR.frm)
        case "fsflags": try fcsrSwap(CSR.fflags)
        case "fmv.s": try fp(.fsgnj_s)
        case "fabs.s": try fp(.fsgnjx_s)
        case "fneg.s": try fp(.fsgnjn_s)
        case "fmv.d": try fp(.fsgnj_d)
        case "fabs.d": try fp(.fsgnjx_d)
        case "fneg.d": try fp(.fsgnjn_d)
        case "fence" where ops.isEmpty:
            try emitInstruction(Instruction(opcode: .fence, rm: 0xff, imm: 0xff), at: loc)
        case "fence.tso":
            try expectCount(name, ops, 0...0, at: loc)
            try emitInstruction(Instruction(opcode: .fence, rm: 0x33, imm: 0x833), at: loc)
        case "sfence.vma", "hfence.vvma", "hfence.gvma":
            guard ops.count < 2 else { return false }
            let op: Opcode = name == "sfence.vma" ? .sfence_vma : name == "hfence.vvma" ? .hfence_vvma : .hfence_gvma
            try emit(op, rs1: ops.isEmpty ? 0 : try x(ops[0]))
        case "unimp":
            try expectCount(name, ops, 0...0, at: loc)
            // With C, clang emits c.unimp (the all-zero halfword); without, `csrrw x0, cycle, x0`.
            if rvc {
                self.emit(.bytes([0, 0]), at: loc)
            } else {
                try emit(.csrrw, imm: Int32(CSR.cycle))
            }
        default:
            return false
        }
        return true
    }
}
