import RISCV

// F and D (unprivileged spec, "F" and "D" chapters): legality (mstatus.FS, rounding mode), NaN-boxing
// of singles in the 64-bit f registers, fflags accumulation and FS dirtiness; the arithmetic itself
// is `SoftFloat`'s.

extension Hart {
    @inline(__always) static func unbox(_ v: UInt64) -> UInt32 {
        // An improperly NaN-boxed single reads as the canonical NaN ("NaN Boxing of Narrower Values").
        v >> 32 == 0xFFFF_FFFF ? UInt32(truncatingIfNeeded: v) : 0x7FC0_0000
    }
    @inline(__always) static func box(_ v: UInt32) -> UInt64 { 0xFFFF_FFFF_0000_0000 | UInt64(v) }

    @inline(never)
    func executeFloat(_ op: DecodedOp) -> Flow {
        let s = state
        // The engines send the hypervisor extension's instructions here with F and D (one case
        // of their dispatch); they have nothing to do with FS.
        switch op.opcode {
        case .hfence_vvma, .hfence_gvma, .hlv_b, .hlv_bu, .hlv_h, .hlv_hu, .hlvx_hu, .hlv_w, .hlvx_wu, .hlv_wu,
             .hlv_d, .hsv_b, .hsv_h, .hsv_w, .hsv_d:
            return executeHypervisor(op)  // Execute+Hypervisor.swift
        default: break
        }
        guard s.pointee.fpEnabled else { return illegal(op) }
        let x = s.pointee.regs
        let f = x + 32
        let rd = Int(op.rd), rs1 = Int(op.rs1), rs2 = Int(op.rs2), rs3 = Int(op.rs3)
        var flags: UInt8 = 0
        let next = s.pointee.pc &+ UInt64(op.length)

        // Loads and stores (no rounding mode, no NaN-boxing check on stores).
        switch op.opcode {
        case .flw, .fld:
            let size: UInt64 = op.opcode == .flw ? 4 : 8
            guard let v = loadSlow(x[rs1] &+ UInt64(bitPattern: Int64(op.imm)), size: size) else { return .trapped }
            f[rd] = size == 4 ? Hart.box(UInt32(truncatingIfNeeded: v)) : v
            markFPDirty()
            s.pointee.pc = next
            return s.pointee.exitSlice != .none ? .exit : .next
        case .fsw, .fsd:
            let size: UInt64 = op.opcode == .fsw ? 4 : 8
            guard storeSlow(x[rs1] &+ UInt64(bitPattern: Int64(op.imm)), size: size, value: f[rs2]) else { return .trapped }
            s.pointee.pc = next
            return s.pointee.exitSlice != .none ? .exit : .next
        default: break
        }

        // The rounding mode, for the instructions that have one: 5 and 6 are reserved, and a dynamic
        // mode with an invalid frm is illegal too.
        var rmValue = op.rm == 7 ? UInt8(s.pointee.frm) : op.rm
        let usesRM: Bool
        switch op.opcode {
        case .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fmv_x_w, .feq_s, .flt_s, .fle_s, .fclass_s,
             .fmv_w_x, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d, .feq_d, .flt_d, .fle_d, .fclass_d,
             .fmv_x_d, .fmv_d_x:
            usesRM = false
        default:
            usesRM = true
        }
        if usesRM && rmValue > 4 { return illegal(op) }
        if !usesRM { rmValue = 0 }
        let rm = RoundingMode(rawValue: rmValue) ?? .rne

        let a32 = Hart.unbox(f[rs1]), b32 = Hart.unbox(f[rs2]), c32 = Hart.unbox(f[rs3])
        let a64 = f[rs1], b64 = f[rs2], c64 = f[rs3]
        let sign32: UInt32 = 1 << 31, sign64: UInt64 = 1 << 63
        var intResult: UInt64? = nil
        var fResult: UInt64? = nil
        @inline(__always) func sx32(_ v: UInt32) -> UInt64 { UInt64(bitPattern: Int64(Int32(bitPattern: v))) }

        switch op.opcode {
        case .fadd_s: fResult = Hart.box(SoftFloat.add32(a32, b32, rm, &flags))
        case .fsub_s: fResult = Hart.box(SoftFloat.sub32(a32, b32, rm, &flags))
        case .fmul_s: fResult = Hart.box(SoftFloat.mul32(a32, b32, rm, &flags))
        case .fdiv_s: fResult = Hart.box(SoftFloat.div32(a32, b32, rm, &flags))
        case .fsqrt_s: fResult = Hart.box(SoftFloat.sqrt32(a32, rm, &flags))
        case .fmadd_s: fResult = Hart.box(SoftFloat.fma32(a32, b32, c32, rm, &flags))
        case .fmsub_s: fResult = Hart.box(SoftFloat.fma32(a32, b32, c32 ^ sign32, rm, &flags))
        case .fnmsub_s: fResult = Hart.box(SoftFloat.fma32(a32 ^ sign32, b32, c32, rm, &flags))
        case .fnmadd_s: fResult = Hart.box(SoftFloat.fma32(a32 ^ sign32, b32, c32 ^ sign32, rm, &flags))
        case .fsgnj_s: fResult = Hart.box((a32 & ~sign32) | (b32 & sign32))
        case .fsgnjn_s: fResult = Hart.box((a32 & ~sign32) | (~b32 & sign32))
        case .fsgnjx_s: fResult = Hart.box(a32 ^ (b32 & sign32))
        case .fmin_s: fResult = Hart.box(SoftFloat.min32(a32, b32, &flags))
        case .fmax_s: fResult = Hart.box(SoftFloat.max32(a32, b32, &flags))
        case .fcvt_w_s: intResult = sx32(UInt32(bitPattern: SoftFloat.f32ToI32(a32, rm, &flags)))
        case .fcvt_wu_s: intResult = sx32(SoftFloat.f32ToU32(a32, rm, &flags))
        case .fcvt_l_s: intResult = UInt64(bitPattern: SoftFloat.f32ToI64(a32, rm, &flags))
        case .fcvt_lu_s: intResult = SoftFloat.f32ToU64(a32, rm, &flags)
        case .fmv_x_w: intResult = sx32(UInt32(truncatingIfNeeded: f[rs1]))
        case .feq_s: intResult = SoftFloat.eq32(a32, b32, &flags) ? 1 : 0
        case .flt_s: intResult = SoftFloat.lt32(a32, b32, &flags) ? 1 : 0
        case .fle_s: intResult = SoftFloat.le32(a32, b32, &flags) ? 1 : 0
        case .fclass_s: intResult = SoftFloat.classify32(a32)
        case .fcvt_s_w: fResult = Hart.box(SoftFloat.i32ToF32(Int32(truncatingIfNeeded: x[rs1]), rm, &flags))
        case .fcvt_s_wu: fResult = Hart.box(SoftFloat.u32ToF32(UInt32(truncatingIfNeeded: x[rs1]), rm, &flags))
        case .fcvt_s_l: fResult = Hart.box(SoftFloat.i64ToF32(Int64(bitPattern: x[rs1]), rm, &flags))
        case .fcvt_s_lu: fResult = Hart.box(SoftFloat.u64ToF32(x[rs1], rm, &flags))
        case .fmv_w_x: fResult = Hart.box(UInt32(truncatingIfNeeded: x[rs1]))

        case .fadd_d: fResult = SoftFloat.add64(a64, b64, rm, &flags)
        case .fsub_d: fResult = SoftFloat.sub64(a64, b64, rm, &flags)
        case .fmul_d: fResult = SoftFloat.mul64(a64, b64, rm, &flags)
        case .fdiv_d: fResult = SoftFloat.div64(a64, b64, rm, &flags)
        case .fsqrt_d: fResult = SoftFloat.sqrt64(a64, rm, &flags)
        case .fmadd_d: fResult = SoftFloat.fma64(a64, b64, c64, rm, &flags)
        case .fmsub_d: fResult = SoftFloat.fma64(a64, b64, c64 ^ sign64, rm, &flags)
        case .fnmsub_d: fResult = SoftFloat.fma64(a64 ^ sign64, b64, c64, rm, &flags)
        case .fnmadd_d: fResult = SoftFloat.fma64(a64 ^ sign64, b64, c64 ^ sign64, rm, &flags)
        case .fsgnj_d: fResult = (a64 & ~sign64) | (b64 & sign64)
        case .fsgnjn_d: fResult = (a64 & ~sign64) | (~b64 & sign64)
        case .fsgnjx_d: fResult = a64 ^ (b64 & sign64)
        case .fmin_d: fResult = SoftFloat.min64(a64, b64, &flags)
        case .fmax_d: fResult = SoftFloat.max64(a64, b64, &flags)
        case .fcvt_s_d: fResult = Hart.box(SoftFloat.f64ToF32(a64, rm, &flags))
        case .fcvt_d_s: fResult = SoftFloat.f32ToF64(a32, rm, &flags)
        case .feq_d: intResult = SoftFloat.eq64(a64, b64, &flags) ? 1 : 0
        case .flt_d: intResult = SoftFloat.lt64(a64, b64, &flags) ? 1 : 0
        case .fle_d: intResult = SoftFloat.le64(a64, b64, &flags) ? 1 : 0
        case .fclass_d: intResult = SoftFloat.classify64(a64)
        case .fcvt_w_d: intResult = sx32(UInt32(bitPattern: SoftFloat.f64ToI32(a64, rm, &flags)))
        case .fcvt_wu_d: intResult = sx32(SoftFloat.f64ToU32(a64, rm, &flags))
        case .fcvt_l_d: intResult = UInt64(bitPattern: SoftFloat.f64ToI64(a64, rm, &flags))
        case .fcvt_lu_d: intResult = SoftFloat.f64ToU64(a64, rm, &flags)
        case .fcvt_d_w: fResult = SoftFloat.i32ToF64(Int32(truncatingIfNeeded: x[rs1]), rm, &flags)
        case .fcvt_d_wu: fResult = SoftFloat.u32ToF64(UInt32(truncatingIfNeeded: x[rs1]), rm, &flags)
        case .fcvt_d_l: fResult = SoftFloat.i64ToF64(Int64(bitPattern: x[rs1]), rm, &flags)
        case .fcvt_d_lu: fResult = SoftFloat.u64ToF64(x[rs1], rm, &flags)
        case .fmv_x_d: intResult = f[rs1]
        case .fmv_d_x: fResult = x[rs1]
        default:
            return illegal(op)
        }
        if let v = fResult {
            f[rd] = v
            markFPDirty()
        }
        if let v = intResult {
            x[rd] = v
            x[0] = 0
        }
        if flags != 0 {
            s.pointee.fflags |= UInt64(flags)
            markFPDirty()
        }
        s.pointee.pc = next
        return .next
    }
}
