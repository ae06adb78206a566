import GuestTestSupport
@testable import RISCV

/// Random, valid instances of every opcode, with every operand field drawn from its whole range
/// and the other fields zero — exactly the form the decoder produces.
enum InstructionGenerator {
    static func random(_ op: Opcode, _ rng: inout SplitMix64) -> Instruction {
        func reg() -> UInt8 { UInt8(rng.next() % 32) }
        func signed(_ bits: Int) -> Int32 { Int32(truncatingIfNeeded: Int64(bitPattern: rng.next()) >> (64 - bits)) }
        let info = op.info
        var inst = Instruction(opcode: op)
        for operand in info.format.operands {
            switch operand {
            case .xd, .fd: inst.rd = reg()
            case .xs1, .fs1, .address: inst.rs1 = reg()
            case .xs2, .fs2: inst.rs2 = reg()
            case .fs3: inst.rs3 = reg()
            case .imm: inst.imm = signed(12)
            case .memory:
                inst.rs1 = reg()
                inst.imm = signed(12)
            case .shamt: inst.imm = Int32(rng.next() % (info.format == .shift32 ? 32 : 64))
            case .upper: inst.imm = signed(32) & ~0xfff
            case .branchTarget: inst.imm = signed(13) & ~1
            case .jumpTarget: inst.imm = signed(21) & ~1
            case .csr:
                // Any number but the RV32-only ones, which RV64 assemblers refuse by name.
                repeat { inst.imm = Int32(rng.next() % 4096) } while CSR.isRV32Only(UInt16(inst.imm))
            case .zimm: inst.rs1 = reg()
            case .roundingMode: inst.rm = [0, 1, 2, 3, 4, 7][Int(rng.next() % 6)]
            case .pred:
                let set = UInt8(rng.next() % 16)
                inst.rm |= set << 4
                inst.imm |= Int32(set) << 4
            case .succ:
                let set = UInt8(rng.next() % 16)
                inst.rm |= set
                inst.imm |= Int32(set)
            }
        }
        if info.format.hasOrdering { inst.rm = UInt8(rng.next() % 4) }
        inst.raw = Encoder.encode(inst)
        return inst
    }

    /// A deterministic sample: `perOpcode` random instances of every opcode, plus the extremes.
    static func corpus(perOpcode: Int, seed: UInt64) -> [Instruction] {
        var rng = SplitMix64(seed: seed)
        var out: [Instruction] = []
        for op in Opcode.allCases where op != .illegal {
            for _ in 0..<perOpcode { out.append(random(op, &rng)) }
        }
        return out
    }
}
