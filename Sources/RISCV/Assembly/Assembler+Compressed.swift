// Explicit compressed mnemonics (`c.addi a0, 1`, `c.lwsp ra, 8(sp)` ...), in the operand syntax
// of LLVM's `-M no-aliases` disassembly, so that objdump output assembles back to the same
// halfwords whatever `.option rvc` says.

extension AssemblerSession {
    func compressedInstruction(_ name: String, _ ops: [[Token]], at loc: SourceLocation) throws(AssemblyError) {
        if name == "c.unimp" {
            try expectCount(name, ops, 0...0, at: loc)
            emit(.bytes([0, 0]), at: loc)  // the defined-illegal all-zero halfword
            return
        }
        guard let form = CompressedForm(rawValue: name) else { throw loc.error("unknown instruction '\(name)'") }
        var inst = Instruction(opcode: .addi)
        var operand: ImmediateOperand?
        func count(_ n: Int) throws(AssemblyError) { try expectCount(name, ops, n...n, at: loc) }
        func stackPointer(_ g: [Token]) throws(AssemblyError) {
            guard try x(g) == 2 else { throw location(g).error("'\(name)' needs sp here") }
        }
        switch form {
        case .nop:
            try count(0)
        case .addi, .addiw, .andi:
            try count(2)
            inst.opcode = form == .addi ? .addi : form == .addiw ? .addiw : .andi
            inst.rd = try x(ops[0])
            inst.rs1 = inst.rd
            operand = try immediate(ops[1], .signed12)
        case .li:
            try count(2)
            inst.rd = try x(ops[0])
            operand = try immediate(ops[1], .signed12)
        case .lui:
            try count(2)
            inst.opcode = .lui
            inst.rd = try x(ops[0])
            operand = try immediate(ops[1], .upper20)
        case .addi16sp:
            try count(2)
            try stackPointer(ops[0])
            inst.rd = 2
            inst.rs1 = 2
            operand = try immediate(ops[1], .signed12)
        case .addi4spn:
            try count(3)
            inst.rd = try x(ops[0])
            try stackPointer(ops[1])
            inst.rs1 = 2
            operand = try immediate(ops[2], .signed12)
        case .slli, .srli, .srai:
            try count(2)
            inst.opcode = form == .slli ? .slli : form == .srli ? .srli : .srai
            inst.rd = try x(ops[0])
            inst.rs1 = inst.rd
            operand = try immediate(ops[1], .shamt(63))
        case .sub, .xor, .or, .and, .subw, .addw, .add:
            try count(2)
            inst.opcode = switch form {
            case .sub: .sub
            case .xor: .xor
            case .or: .or
            case .and: .and
            case .subw: .subw
            case .addw: .addw
            default: .add
            }
            inst.rd = try x(ops[0])
            inst.rs1 = inst.rd
            inst.rs2 = try x(ops[1])
        case .mv:
            try count(2)
            inst.opcode = .add
            inst.rd = try x(ops[0])
            inst.rs2 = try x(ops[1])
        case .j:
            try count(1)
            inst.opcode = .jal
            operand = try immediate(ops[0], .jump)
        case .beqz, .bnez:
            try count(2)
            inst.opcode = form == .beqz ? .beq : .bne
            inst.rs1 = try x(ops[0])
            operand = try immediate(ops[1], .branch)
        case .jr, .jalr:
            try count(1)
            inst.opcode = .jalr
            inst.rd = form == .jr ? 0 : 1
            inst.rs1 = try x(ops[0])
        case .ebreak:
            try count(0)
            inst.opcode = .ebreak
        case .lw, .ld, .fld, .lwsp, .ldsp, .fldsp:
            try count(2)
            inst.opcode = form == .lw || form == .lwsp ? .lw : form == .ld || form == .ldsp ? .ld : .fld
            inst.rd = inst.opcode == .fld ? try f(ops[0]) : try x(ops[0])
            let (offset, base) = try memory(ops[1])
            inst.rs1 = base
            operand = offset
        case .sw, .sd, .fsd, .swsp, .sdsp, .fsdsp:
            try count(2)
            inst.opcode = form == .sw || form == .swsp ? .sw : form == .sd || form == .sdsp ? .sd : .fsd
            inst.rs2 = inst.opcode == .fsd ? try f(ops[0]) : try x(ops[0])
            let (offset, base) = try memory(ops[1])
            inst.rs1 = base
            operand = offset
        }
        var compressed: UInt16?
        if operand == nil || isConstant(operand!.expr) && !operand!.expr.hasModifier {
            let resolved = try resolve(inst, operand, pc: 0)
            guard let half = form.encode(resolved) else {
                throw (operand?.location ?? loc).error("operands do not fit '\(name)'")
            }
            compressed = half
        }
        sections[current].items.append(Item(kind: .instruction(inst, operand, compressed: compressed, relax: .form(form)), location: loc))
    }
}
