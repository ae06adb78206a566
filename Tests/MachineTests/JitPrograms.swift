import GuestTestSupport
import Foundation

// Guest programs for the native-code engine's tests: random integer code (every instruction form
// the block compiler handles) in a loop, so that compiled and interpreted results can be compared.

enum JitPrograms {
    /// Registers the random code reads and writes (s0 = data pointer, s1 = loop counter and ra
    /// are kept out; x0 may be a destination, which the engines send to their sink register).
    static let registers = ["zero", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3", "t4", "t5"]
    static let registerOps = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
                              "addw", "subw", "sllw", "srlw", "sraw",
                              "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
                              "mulw", "divw", "divuw", "remw", "remuw"]
    static let immediateOps = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
    static let shiftOps = ["slli", "srli", "srai"]
    static let shiftWOps = ["slliw", "srliw", "sraiw"]
    static let loads: [(String, Int)] = [("lb", 1), ("lbu", 1), ("lh", 2), ("lhu", 2), ("lw", 4), ("lwu", 4), ("ld", 8)]
    static let stores: [(String, Int)] = [("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)]

    /// `system`: also CSR accesses and ecalls (which compiled code leaves to Swift: partial
    /// blocks, traps and returns into the middle of compiled code).
    static func random(seed: UInt64, instructions: Int = 400, iterations: Int = 300, system: Bool = false) -> String {
        var r = SplitMix64(state: seed)
        func reg(dest: Bool = false) -> String {
            dest ? r.pick(registers) : r.pick(Array(registers.dropFirst()) + ["zero"])
        }
        var body: [String] = []
        var label = 0
        for _ in 0..<instructions {
            if system && r.below(12) == 0 {
                switch r.below(3) {
                case 0: body.append("csrrw \(reg(dest: true)), mscratch, \(reg())")
                case 1: body.append("csrr \(reg(dest: true)), mscratch")
                default: body.append("ecall")
                }
                continue
            }
            switch r.below(20) {
            case 0..<7:
                body.append("\(r.pick(registerOps)) \(reg(dest: true)), \(reg()), \(reg())")
            case 7..<10:
                body.append("\(r.pick(immediateOps)) \(reg(dest: true)), \(reg()), \(r.below(4096) - 2048)")
            case 10:
                body.append("\(r.pick(shiftOps)) \(reg(dest: true)), \(reg()), \(r.below(64))")
            case 11:
                body.append("\(r.pick(shiftWOps)) \(reg(dest: true)), \(reg()), \(r.below(32))")
            case 12:
                body.append(r.below(2) == 0 ? "lui \(reg(dest: true)), \(r.below(1 << 20))"
                                            : "auipc \(reg(dest: true)), \(r.below(1 << 20))")
            case 13..<15:
                let (op, size) = r.pick(loads)
                // Mostly aligned (the fast path); sometimes misaligned (the slow path, in hardware).
                let offset = r.below(8) == 0 ? r.below(250) : r.below(248 / size) * size
                body.append("\(op) \(reg(dest: true)), \(offset)(s0)")
            case 15..<17:
                let (op, size) = r.pick(stores)
                let offset = r.below(8) == 0 ? r.below(250) : r.below(248 / size) * size
                body.append("\(op) \(reg()), \(offset)(s0)")
            case 17, 18:
                // A forward branch over a few instructions: more blocks, both outcomes.
                label += 1
                let br = r.pick(["beq", "bne", "blt", "bge", "bltu", "bgeu"])
                body.append("\(br) \(reg()), \(reg()), 9\(label)f")
                body.append("addi \(reg(dest: true)), \(reg()), \(r.below(64))")
                body.append("xor \(reg(dest: true)), \(reg()), \(reg())")
                body.append("9\(label):")
            default:
                body.append("call helper")   // jal ra, then jalr (ret)
            }
        }
        return """
        .globl _start
        _start:
            la t6, trap
            csrw mtvec, t6
            la s0, data
            li s1, \(iterations)
            li a0, 0x8000000000000000
            li a1, -1
            li a2, 0
            li a3, 31
            li a4, 33
            li a5, 0x7fffffff
            li a6, 0x80000000
            li a7, 0x123456789abcdef1
            li t0, 63
            li t1, -0x80000000
            li t2, 2
            li t3, 0xfedcba9876543210
            li t4, 1
            li t5, -2
        loop:
        \(body.map { "    " + $0 }.joined(separator: "\n"))
            addi s1, s1, -1
            bnez s1, loop
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
        1:  j 1b
        trap:                       # ecall: go on after it (t6 is not used by the random code)
            csrr t6, mepc
            addi t6, t6, 4
            csrw mepc, t6
            mret
        helper:
            addi a7, a7, 7
            slli t4, t4, 1
            ret
            .balign 4096
        data:
            .space 256
        """
    }
}
