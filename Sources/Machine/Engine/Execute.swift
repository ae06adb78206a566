import RISCV

// The meaning of each integer instruction (unprivileged spec, "RV32I", "RV64I", "M"), with the
// load/store fast path: a soft TLB tag compare and a host-pointer add. Everything else is called
// out of line.

extension Hart {
    // `exit` is set only by the slow path: a soft-TLB hit touches plain RAM that holds no decoded
    // code (such pages never enter the store TLB) and no device, so it cannot end the slice.
    @inline(__always)
    func load<T: FixedWidthInteger>(_ va: UInt64, _: T.Type, _ tlb: UnsafeMutablePointer<SoftTLBEntry>,
                                    _ c: inout SliceCounts, _ remaining: inout UInt64, pc: UInt64,
                                    exit: inout Bool) -> UInt64? {
        let size = UInt64(MemoryLayout<T>.size)
        let e = tlb[Int(truncatingIfNeeded: va &>> 12) & (softTLBSize - 1)]
        if e.tag == va & (~0xFFF | (size &- 1)) {
            c.loadHits &+= 1
            let p = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: va &+ e.addend)).unsafelyUnwrapped
            return UInt64(truncatingIfNeeded: p.load(as: T.self))
        }
        commitInFlight(&c, &remaining)
        state.pointee.pc = pc   // a fault reports this instruction
        let value = loadSlow(va, size: size)
        exit = state.pointee.exitSlice != .none
        return value
    }

    @inline(__always)
    func store<T: FixedWidthInteger>(_ va: UInt64, _ value: UInt64, _: T.Type,
                                     _ tlb: UnsafeMutablePointer<SoftTLBEntry>,
                                     _ c: inout SliceCounts, _ remaining: inout UInt64, pc: UInt64,
                                     exit: inout Bool) -> Bool {
        let size = UInt64(MemoryLayout<T>.size)
        let e = tlb[Int(truncatingIfNeeded: va &>> 12) & (softTLBSize - 1)]
        if e.tag == va & (~0xFFF | (size &- 1)) {
            c.storeHits &+= 1
            let p = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: va &+ e.addend)).unsafelyUnwrapped
            p.storeBytes(of: T(truncatingIfNeeded: value), as: T.self)
            return true
        }
        commitInFlight(&c, &remaining)
        state.pointee.pc = pc   // a fault reports this instruction
        let stored = storeSlow(va, size: size, value: value)
        exit = state.pointee.exitSlice != .none
        return stored
    }

    @inline(__always)
    func execute(_ p: UnsafePointer<DecodedOp>, _ pc: inout UInt64, _ x: UnsafeMutablePointer<UInt64>,
                 _ loadTLB: UnsafeMutablePointer<SoftTLBEntry>, _ storeTLB: UnsafeMutablePointer<SoftTLBEntry>,
                 _ c: inout SliceCounts, _ remaining: inout UInt64) -> Flow {
        execute(p, &pc, x, loadTLB, storeTLB, &c, &remaining, length: UInt64(p.pointee.length))
    }

    /// `execute` with the slot's length given: a caller that has branched on the length passes
    /// a constant, so that the next pc does not wait for the slot's length to be loaded (see the
    /// interpreter's loop). `len` must equal `p.pointee.length` except for markers (length 0).
    /// Transparent: the interpreter inlines it twice, and `@inline(__always)` inlined only one.
    @_transparent
    func execute(_ p: UnsafePointer<DecodedOp>, _ pc: inout UInt64, _ x: UnsafeMutablePointer<UInt64>,
                 _ loadTLB: UnsafeMutablePointer<SoftTLBEntry>, _ storeTLB: UnsafeMutablePointer<SoftTLBEntry>,
                 _ c: inout SliceCounts, _ remaining: inout UInt64, length len: UInt64) -> Flow {
        // The slot is read field by field where a case needs it, not copied whole: copying the
        // 16-byte record loaded every field (rs3, rm, raw too) before the dispatch and spilled
        // registers in the hot loop (cpu bench 238 → ~400 MIPS). Slow paths take a copy
        // (`p.pointee`) before they run. (Loading the first eight bytes as one word and taking
        // the fields by shifts was tried: 7% more host instructions and slower, cpu 0.46 → 0.53 s.)
        // Loads read rd before the access: a slow path may drop this very slot (a store to code
        // invalidates it in DecodedCode), and the instruction must still complete as decoded.
        var rd: Int { Int(p.pointee.rd) }
        var rs1: Int { Int(p.pointee.rs1) }
        var rs2: Int { Int(p.pointee.rs2) }
        var imm: UInt64 { UInt64(bitPattern: Int64(p.pointee.imm)) }
        @inline(__always) func sx32(_ v: UInt64) -> UInt64 { UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v))) }
        // Branches report `.jumped`, taken or not: the interpreter then finds the slot from pc.
        @inline(__always) func branch(_ taken: Bool) -> Flow { pc = taken ? pc &+ imm : pc &+ len; return .jumped }

        switch p.pointee.opcode {
        // RV64I: upper immediates and jumps
        case .lui: x[rd] = imm; pc &+= len
        case .auipc: x[rd] = pc &+ imm; pc &+= len
        case .jal: x[rd] = pc &+ len; pc = pc &+ imm; return .jumped
        case .jalr:
            let target = (x[rs1] &+ imm) & ~1
            x[rd] = pc &+ len
            pc = target
            return .jumped
        case .beq: return branch(x[rs1] == x[rs2])
        case .bne: return branch(x[rs1] != x[rs2])
        case .blt: return branch(Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]))
        case .bge: return branch(Int64(bitPattern: x[rs1]) >= Int64(bitPattern: x[rs2]))
        case .bltu: return branch(x[rs1] < x[rs2])
        case .bgeu: return branch(x[rs1] >= x[rs2])

        // Loads and stores
        case .lb:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt8.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v))); pc &+= len
            if exit { return .exit }
        case .lh:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt16.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v))); pc &+= len
            if exit { return .exit }
        case .lw:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt32.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = sx32(v); pc &+= len
            if exit { return .exit }
        case .ld:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt64.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = v; pc &+= len
            if exit { return .exit }
        case .lbu:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt8.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = v; pc &+= len
            if exit { return .exit }
        case .lhu:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt16.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = v; pc &+= len
            if exit { return .exit }
        case .lwu:
            let d = rd
            var exit = false
            guard let v = load(x[rs1] &+ imm, UInt32.self, loadTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            x[d] = v; pc &+= len
            if exit { return .exit }
        case .sb:
            var exit = false
            guard store(x[rs1] &+ imm, x[rs2], UInt8.self, storeTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            pc &+= len
            if exit { return .exit }
        case .sh:
            var exit = false
            guard store(x[rs1] &+ imm, x[rs2], UInt16.self, storeTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            pc &+= len
            if exit { return .exit }
        case .sw:
            var exit = false
            guard store(x[rs1] &+ imm, x[rs2], UInt32.self, storeTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            pc &+= len
            if exit { return .exit }
        case .sd:
            var exit = false
            guard store(x[rs1] &+ imm, x[rs2], UInt64.self, storeTLB, &c, &remaining, pc: pc, exit: &exit) else { return .trapped }
            pc &+= len
            if exit { return .exit }

        // Register-immediate
        case .addi: x[rd] = x[rs1] &+ imm; pc &+= len
        case .slti: x[rd] = Int64(bitPattern: x[rs1]) < Int64(p.pointee.imm) ? 1 : 0; pc &+= len
        case .sltiu: x[rd] = x[rs1] < imm ? 1 : 0; pc &+= len
        case .xori: x[rd] = x[rs1] ^ imm; pc &+= len
        case .ori: x[rd] = x[rs1] | imm; pc &+= len
        case .andi: x[rd] = x[rs1] & imm; pc &+= len
        case .slli: x[rd] = x[rs1] &<< (imm & 63); pc &+= len
        case .srli: x[rd] = x[rs1] &>> (imm & 63); pc &+= len
        case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) &>> Int64(imm & 63)); pc &+= len
        case .addiw: x[rd] = sx32(x[rs1] &+ imm); pc &+= len
        case .slliw: x[rd] = sx32(x[rs1] &<< (imm & 31)); pc &+= len
        case .srliw: x[rd] = sx32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) &>> UInt32(imm & 31))); pc &+= len
        case .sraiw:
            x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) &>> Int32(imm & 31))); pc &+= len

        // Register-register
        case .add: x[rd] = x[rs1] &+ x[rs2]; pc &+= len
        case .sub: x[rd] = x[rs1] &- x[rs2]; pc &+= len
        case .sll: x[rd] = x[rs1] &<< (x[rs2] & 63); pc &+= len
        case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0; pc &+= len
        case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0; pc &+= len
        case .xor: x[rd] = x[rs1] ^ x[rs2]; pc &+= len
        case .srl: x[rd] = x[rs1] &>> (x[rs2] & 63); pc &+= len
        case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) &>> Int64(x[rs2] & 63)); pc &+= len
        case .or: x[rd] = x[rs1] | x[rs2]; pc &+= len
        case .and: x[rd] = x[rs1] & x[rs2]; pc &+= len
        case .addw: x[rd] = sx32(x[rs1] &+ x[rs2]); pc &+= len
        case .subw: x[rd] = sx32(x[rs1] &- x[rs2]); pc &+= len
        case .sllw: x[rd] = sx32(x[rs1] &<< (x[rs2] & 31)); pc &+= len
        case .srlw: x[rd] = sx32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) &>> UInt32(x[rs2] & 31))); pc &+= len
        case .sraw:
            x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) &>> Int32(x[rs2] & 31))); pc &+= len

        // M extension ("M" chapter: division by zero and overflow have defined results)
        case .mul: x[rd] = x[rs1] &* x[rs2]; pc &+= len
        case .mulh:
            x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]).multipliedFullWidth(by: Int64(bitPattern: x[rs2])).high)
            pc &+= len
        case .mulhu: x[rd] = x[rs1].multipliedFullWidth(by: x[rs2]).high; pc &+= len
        case .mulhsu:
            // signed × unsigned: the unsigned high part, corrected when rs1 is negative.
            let a = x[rs1], b = x[rs2]
            var hi = a.multipliedFullWidth(by: b).high
            if Int64(bitPattern: a) < 0 { hi = hi &- b }
            x[rd] = hi; pc &+= len
        case .div:
            let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
            x[rd] = b == 0 ? .max : (a == .min && b == -1) ? UInt64(bitPattern: a) : UInt64(bitPattern: a / b)
            pc &+= len
        case .divu:
            let b = x[rs2]
            x[rd] = b == 0 ? .max : x[rs1] / b; pc &+= len
        case .rem:
            let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
            x[rd] = b == 0 ? UInt64(bitPattern: a) : (a == .min && b == -1) ? 0 : UInt64(bitPattern: a % b)
            pc &+= len
        case .remu:
            let b = x[rs2]
            x[rd] = b == 0 ? x[rs1] : x[rs1] % b; pc &+= len
        case .mulw: x[rd] = sx32(x[rs1] &* x[rs2]); pc &+= len
        case .divw:
            let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
            let r: Int32 = b == 0 ? -1 : (a == .min && b == -1) ? a : a / b
            x[rd] = UInt64(bitPattern: Int64(r)); pc &+= len
        case .divuw:
            let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
            x[rd] = sx32(UInt64(b == 0 ? UInt32.max : a / b)); pc &+= len
        case .remw:
            let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
            let r: Int32 = b == 0 ? a : (a == .min && b == -1) ? 0 : a % b
            x[rd] = UInt64(bitPattern: Int64(r)); pc &+= len
        case .remuw:
            let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
            x[rd] = sx32(UInt64(b == 0 ? a : a % b)); pc &+= len

        // Memory ordering: harts never run concurrently and code is always coherent with memory,
        // so both fences have nothing to wait for.
        case .fence, .fence_i: pc &+= len

        case .illegal:
            if p.pointee.length == 0 { return .marker }
            commitInFlight(&c, &remaining)
            state.pointee.pc = pc
            // Raises illegal-instruction, or runs the translator's callout the slot is (which
            // counts what it retires itself, so this case stays the trap it always was: its shape
            // decides the hot loop's register allocation, see TranslatorHook.swift).
            illegalOrCallout(tval: UInt64(p.pointee.raw))
            return .trapped

        case .ecall, .ebreak, .mret, .sret, .wfi, .sfence_vma,
             .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            commitInFlight(&c, &remaining)
            state.pointee.pc = pc
            let flow = executeSystem(p.pointee)
            if flow != .trapped { pc = state.pointee.pc }
            return flow

        case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w,
             .amominu_w, .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d,
             .amomin_d, .amomax_d, .amominu_d, .amomaxu_d:
            commitInFlight(&c, &remaining)
            state.pointee.pc = pc
            let flow = executeAtomic(p.pointee)
            if flow != .trapped { pc = state.pointee.pc }
            // A slow path (an observer, a write to code) may have asked the slice to end.
            return flow == .next && state.pointee.exitSlice != .none ? .exit : flow

        // F, D, and the hypervisor instructions (illegal in a hart without H). Listed rather than
        // `default`: with every opcode named, the dispatch's jump table covers them all and
        // needs no range test before it.
        case .flw, .fsw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s,
             .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fcvt_w_s, .fcvt_wu_s, .fmv_x_w, .feq_s, .flt_s,
             .fle_s, .fclass_s, .fcvt_s_w, .fcvt_s_wu, .fmv_w_x, .fcvt_l_s, .fcvt_lu_s, .fcvt_s_l, .fcvt_s_lu,
             .fld, .fsd, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d,
             .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d,
             .fclass_d, .fcvt_w_d, .fcvt_wu_d, .fcvt_d_w, .fcvt_d_wu, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d,
             .fcvt_d_l, .fcvt_d_lu, .fmv_d_x,
             .hfence_vvma, .hfence_gvma, .hlv_b, .hlv_bu, .hlv_h, .hlv_hu, .hlvx_hu, .hlv_w, .hlvx_wu, .hlv_wu,
             .hlv_d, .hsv_b, .hsv_h, .hsv_w, .hsv_d:
            commitInFlight(&c, &remaining)
            state.pointee.pc = pc
            let flow = executeFloat(p.pointee)
            if flow != .trapped { pc = state.pointee.pc }
            return flow
        }
        return .next
    }
}
