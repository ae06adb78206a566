// Instruction → assembly text in the syntax of LLVM's and GNU's objdump: ABI register names, CSR
// names, `offset(base)` memory operands, `.aq`/`.rl` suffixes, a trailing rounding mode when it is
// not the instruction's default. The canonical style is objdump's `-M no-aliases` (every instruction
// under its own mnemonic, compressed ones as `c.*`), and it reassembles to the same bits; the alias
// style prints expanded instructions and the pseudo-instructions of the assembly manual (`li`, `mv`,
// `ret`, `csrr` ...), which reassemble to the same instructions. Immediates print in decimal
// (objdump prints hex), except upper immediates and unnamed CSRs.
//
// One class of legal encodings does not reassemble bit for bit: a fence or fence.i whose reserved
// fields (rd, rs1, unknown fm, fence.i's immediate) are non-zero prints as the fence it executes
// as, since no assembly syntax spells those fields.
//
// Branch and jump targets print as a signed byte offset from the instruction (the form the
// assembler reads back); given the instruction's address, the absolute target follows as a comment.

public enum Disassembler {
    /// How much to rewrite instructions into pseudo-instructions.
    public enum Style: Sendable {
        /// Every instruction under its own mnemonic (objdump `-M no-aliases`).
        case canonical
        /// The standard pseudo-instructions where one applies (objdump's default).
        case aliases
    }

    static let roundingModes = ["rne", "rtz", "rdn", "rup", "rmm", "frm5", "frm6", "dyn"]

    /// The text of `inst`. `pc`, when given, adds the absolute target of branches and jumps as a
    /// trailing comment.
    public static func disassemble(_ inst: Instruction, style: Style = .canonical, pc: UInt64? = nil) -> String {
        if inst.opcode == .illegal {
            return inst.length == 2 ? ".half \(hex(UInt64(inst.raw & 0xffff)))" : ".word \(hex(UInt64(inst.raw)))"
        }
        var text = style == .aliases ? (alias(inst) ?? plain(inst, compressedNames: false)) : plain(inst)
        if let pc, inst.opcode.isBranch || inst.opcode == .jal {
            text += " # \(hex(pc &+ UInt64(bitPattern: Int64(inst.imm))))"
        }
        return text
    }

    static func x(_ r: UInt8) -> String { RegisterNames.integer[Int(r & 31)] }
    static func f(_ r: UInt8) -> String { RegisterNames.floatingPoint[Int(r & 31)] }
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
    static func csrName(_ n: Int32) -> String {
        let number = UInt16(truncatingIfNeeded: n & 0xfff)
        return CSR.rv64Name(number) ?? hex(UInt64(number))
    }
    static func orderingSet(_ bits: UInt8) -> String {
        if bits == 0 { return "0" }
        var s = ""
        if bits & 8 != 0 { s += "i" }
        if bits & 4 != 0 { s += "o" }
        if bits & 2 != 0 { s += "r" }
        if bits & 1 != 0 { s += "w" }
        return s
    }

    /// The mnemonic with its ordering suffix (`lr.w.aqrl`).
    static func mnemonic(_ inst: Instruction) -> String {
        let info = inst.opcode.info
        guard info.format.hasOrdering else { return info.name }
        switch inst.rm & 3 {
        case 2: return info.name + ".aq"
        case 1: return info.name + ".rl"
        case 3: return info.name + ".aqrl"
        default: return info.name
        }
    }

    /// The canonical text (no aliases). Compressed encodings print under their `c.*` mnemonic,
    /// as `objdump -M no-aliases` shows them; HINTs print as the instruction they expand to.
    static func plain(_ inst: Instruction, compressedNames: Bool = true) -> String {
        if compressedNames, inst.length == 2, let form = CompressedForm.of(inst) { return compressed(form, inst) }
        let info = inst.opcode.info
        if inst.opcode == .fence {
            let fm = (inst.imm >> 8) & 0xf
            if fm == 8 && inst.rm == 0x33 { return "fence.tso" }
        }
        var parts: [String] = []
        for operand in info.format.operands {
            switch operand {
            case .xd: parts.append(x(inst.rd))
            case .xs1: parts.append(x(inst.rs1))
            case .xs2: parts.append(x(inst.rs2))
            case .fd: parts.append(f(inst.rd))
            case .fs1: parts.append(f(inst.rs1))
            case .fs2: parts.append(f(inst.rs2))
            case .fs3: parts.append(f(inst.rs3))
            case .imm, .shamt, .branchTarget, .jumpTarget: parts.append(String(inst.imm))
            case .upper: parts.append(hex(UInt64(UInt32(bitPattern: inst.imm) >> 12)))
            case .memory:
                parts.append("\(inst.imm)(\(x(inst.rs1)))")
            case .address: parts.append("(\(x(inst.rs1)))")
            case .csr: parts.append(csrName(inst.imm))
            case .zimm: parts.append(String(inst.rs1))
            case .roundingMode:
                if inst.rm != info.defaultRoundingMode { parts.append(roundingModes[Int(inst.rm & 7)]) }
            case .pred: parts.append(orderingSet(inst.rm >> 4))
            case .succ: parts.append(orderingSet(inst.rm & 15))
            }
        }
        let name = mnemonic(inst)
        return parts.isEmpty ? name : name + " " + parts.joined(separator: ", ")
    }

    /// A compressed instruction in LLVM's operand syntax for its form.
    static func compressed(_ form: CompressedForm, _ inst: Instruction) -> String {
        let n = form.name
        switch form {
        case .nop, .ebreak: return n
        case .addi, .addiw, .li, .andi, .slli, .srli, .srai: return "\(n) \(x(inst.rd)), \(inst.imm)"
        case .addi16sp: return "\(n) sp, \(inst.imm)"
        case .addi4spn: return "\(n) \(x(inst.rd)), sp, \(inst.imm)"
        case .lui: return "\(n) \(x(inst.rd)), \(hex(UInt64(UInt32(bitPattern: inst.imm) >> 12)))"
        case .sub, .xor, .or, .and, .subw, .addw, .mv, .add: return "\(n) \(x(inst.rd)), \(x(inst.rs2))"
        case .j: return "\(n) \(inst.imm)"
        case .beqz, .bnez: return "\(n) \(x(inst.rs1)), \(inst.imm)"
        case .jr, .jalr: return "\(n) \(x(inst.rs1))"
        case .lw, .ld, .lwsp, .ldsp: return "\(n) \(x(inst.rd)), \(inst.imm)(\(x(inst.rs1)))"
        case .fld, .fldsp: return "\(n) \(f(inst.rd)), \(inst.imm)(\(x(inst.rs1)))"
        case .sw, .sd, .swsp, .sdsp: return "\(n) \(x(inst.rs2)), \(inst.imm)(\(x(inst.rs1)))"
        case .fsd, .fsdsp: return "\(n) \(f(inst.rs2)), \(inst.imm)(\(x(inst.rs1)))"
        }
    }

    /// The pseudo-instruction form, if one applies (the assembly manual's tables of pseudo-instructions).
    static func alias(_ inst: Instruction) -> String? {
        let rd = inst.rd, rs1 = inst.rs1, rs2 = inst.rs2, imm = inst.imm
        switch inst.opcode {
        case .addi:
            if rd == 0 && rs1 == 0 && imm == 0 { return "nop" }
            if rs1 == 0 { return "li \(x(rd)), \(imm)" }
            if imm == 0 { return "mv \(x(rd)), \(x(rs1))" }
        case .addiw where imm == 0: return "sext.w \(x(rd)), \(x(rs1))"
        case .xori where imm == -1: return "not \(x(rd)), \(x(rs1))"
        case .sub where rs1 == 0: return "neg \(x(rd)), \(x(rs2))"
        case .subw where rs1 == 0: return "negw \(x(rd)), \(x(rs2))"
        case .sltiu where imm == 1: return "seqz \(x(rd)), \(x(rs1))"
        case .sltu where rs1 == 0: return "snez \(x(rd)), \(x(rs2))"
        case .slt where rs2 == 0: return "sltz \(x(rd)), \(x(rs1))"
        case .slt where rs1 == 0: return "sgtz \(x(rd)), \(x(rs2))"
        case .add where rs1 == 0 && inst.isCompressed: return "mv \(x(rd)), \(x(rs2))"
        case .beq where rs2 == 0: return "beqz \(x(rs1)), \(imm)"
        case .bne where rs2 == 0: return "bnez \(x(rs1)), \(imm)"
        case .bge where rs1 == 0: return "blez \(x(rs2)), \(imm)"
        case .bge where rs2 == 0: return "bgez \(x(rs1)), \(imm)"
        case .blt where rs2 == 0: return "bltz \(x(rs1)), \(imm)"
        case .blt where rs1 == 0: return "bgtz \(x(rs2)), \(imm)"
        case .jal where rd == 0: return "j \(imm)"
        case .jal where rd == 1: return "jal \(imm)"
        case .jalr where imm == 0 && rd == 0 && rs1 == 1: return "ret"
        case .jalr where imm == 0 && rd == 0: return "jr \(x(rs1))"
        case .jalr where imm == 0 && rd == 1: return "jalr \(x(rs1))"
        case .csrrs where rs1 == 0:
            switch inst.imm & 0xfff {
            case Int32(CSR.cycle): return "rdcycle \(x(rd))"
            case Int32(CSR.time): return "rdtime \(x(rd))"
            case Int32(CSR.instret): return "rdinstret \(x(rd))"
            default: return "csrr \(x(rd)), \(csrName(imm))"
            }
        case .csrrw where rd == 0: return "csrw \(csrName(imm)), \(x(rs1))"
        case .csrrs where rd == 0: return "csrs \(csrName(imm)), \(x(rs1))"
        case .csrrc where rd == 0: return "csrc \(csrName(imm)), \(x(rs1))"
        case .csrrwi where rd == 0: return "csrwi \(csrName(imm)), \(rs1)"
        case .csrrsi where rd == 0: return "csrsi \(csrName(imm)), \(rs1)"
        case .csrrci where rd == 0: return "csrci \(csrName(imm)), \(rs1)"
        case .fsgnj_s where rs1 == rs2: return "fmv.s \(f(rd)), \(f(rs1))"
        case .fsgnjx_s where rs1 == rs2: return "fabs.s \(f(rd)), \(f(rs1))"
        case .fsgnjn_s where rs1 == rs2: return "fneg.s \(f(rd)), \(f(rs1))"
        case .fsgnj_d where rs1 == rs2: return "fmv.d \(f(rd)), \(f(rs1))"
        case .fsgnjx_d where rs1 == rs2: return "fabs.d \(f(rd)), \(f(rs1))"
        case .fsgnjn_d where rs1 == rs2: return "fneg.d \(f(rd)), \(f(rs1))"
        case .fence where inst.rm == 0xff && inst.imm == 0xff && inst.rd == 0 && inst.rs1 == 0: return "fence"
        case .sfence_vma where rs2 == 0: return rs1 == 0 ? "sfence.vma" : "sfence.vma \(x(rs1))"
        default: break
        }
        return nil
    }
}

extension Instruction: CustomStringConvertible {
    /// The canonical disassembly, for debugging and test messages.
    public var description: String { Disassembler.disassemble(self) }
}
