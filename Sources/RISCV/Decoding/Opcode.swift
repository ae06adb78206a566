// The opcode set of RV64GC + Zicsr + Zifencei + the privileged and hypervisor instructions.
// Compressed (C) encodings have no cases of their own: the decoder expands them to these base
// opcodes with `Instruction.length == 2` (unprivileged spec, "Compressed Instruction Formats").
// The order of the cases is part of the contract with the interpreter (raw values are stable) and
// indexes `InstructionTable.entries`.

/// Every instruction the hart implements, plus `.illegal` for reserved encodings.
public enum Opcode: UInt16, CaseIterable, Sendable {
    case illegal
    case lui, auipc, jal, jalr, beq, bne, blt, bge, bltu, bgeu, lb, lh, lw, ld, lbu, lhu, lwu,
         sb, sh, sw, sd, addi, slti, sltiu, xori, ori, andi, slli, srli, srai, add, sub, sll, slt, sltu,
         xor, srl, sra, or, and, addiw, slliw, srliw, sraiw, addw, subw, sllw, srlw, sraw,
         fence, fence_i, ecall, ebreak, mret, sret, wfi, sfence_vma,
         csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci,
         mul, mulh, mulhsu, mulhu, div, divu, rem, remu, mulw, divw, divuw, remw, remuw,
         lr_w, sc_w, amoswap_w, amoadd_w, amoxor_w, amoand_w, amoor_w, amomin_w, amomax_w, amominu_w, amomaxu_w,
         lr_d, sc_d, amoswap_d, amoadd_d, amoxor_d, amoand_d, amoor_d, amomin_d, amomax_d, amominu_d, amomaxu_d,
         flw, fsw, fmadd_s, fmsub_s, fnmsub_s, fnmadd_s, fadd_s, fsub_s, fmul_s, fdiv_s, fsqrt_s,
         fsgnj_s, fsgnjn_s, fsgnjx_s, fmin_s, fmax_s, fcvt_w_s, fcvt_wu_s, fmv_x_w, feq_s, flt_s, fle_s,
         fclass_s, fcvt_s_w, fcvt_s_wu, fmv_w_x, fcvt_l_s, fcvt_lu_s, fcvt_s_l, fcvt_s_lu,
         fld, fsd, fmadd_d, fmsub_d, fnmsub_d, fnmadd_d, fadd_d, fsub_d, fmul_d, fdiv_d, fsqrt_d,
         fsgnj_d, fsgnjn_d, fsgnjx_d, fmin_d, fmax_d, fcvt_s_d, fcvt_d_s, feq_d, flt_d, fle_d, fclass_d,
         fcvt_w_d, fcvt_wu_d, fcvt_d_w, fcvt_d_wu, fcvt_l_d, fcvt_lu_d, fmv_x_d, fcvt_d_l, fcvt_d_lu, fmv_d_x,
         hfence_vvma, hfence_gvma, hlv_b, hlv_bu, hlv_h, hlv_hu, hlvx_hu, hlv_w, hlvx_wu, hlv_wu, hlv_d,
         hsv_b, hsv_h, hsv_w, hsv_d
}
