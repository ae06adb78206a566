import RISCV

// Loads and stores in compiled code (JITCompiler.swift): the soft-TLB fast path inline, exactly as
// `Hart.load`/`Hart.store` (Execute.swift) do it — index, tag compare with the page and alignment
// bits, host address = va + addend, a counted hit; a miss calls the Swift helper (JITHelpers.swift)
// out of line, which ends the slice when `exitSlice` asks for it. A hit tests nothing, as in
// `execute`: it touches plain RAM (no code, no device), so it cannot ask for the slice's end, and
// a request made earlier without ending the slice (a fetch refill whose page walk evicted the
// fetch page's TLB entry, for one) is taken at the next slow path in every engine alike.

extension JITCompiler {
    static func width(_ size: Int) -> X86Width {
        switch size { case 1: .b8; case 2: .b16; case 4: .b32; default: .b64 }
    }

    /// rsi = va = x[rs1] + imm; rax = &tlb[(va >> 12) & 255]; compares the tag with the page and
    /// alignment bits of va, jumping to `miss` when it differs; then rcx = host address.
    mutating func emitTLB(_ op: DecodedOp, tlb: Int32, size: Int, miss: X86Assembler.Label) {
        movTo(.rsi, operand(op.rs1))
        if op.imm != 0 { a.alu(.add, .rsi, imm: op.imm) }
        a.mov(.rax, .rsi)
        a.shift(.shr, .rax, 12)
        a.alu(.and, .rax, imm: 255, w: false)
        a.shift(.shl, .rax, 4)
        a.alu(.add, .rax, ctx(tlb))
        a.mov(.rcx, .rsi)
        a.alu(.and, .rcx, imm: Int32(bitPattern: 0xFFFF_F000 | UInt32(size - 1)))
        a.alu(.cmp, .rcx, X86Mem(.rax, 0))
        a.jcc(.ne, miss)
        a.mov(.rcx, .rsi)
        a.alu(.add, .rcx, X86Mem(.rax, 8))
    }

    /// The call of a miss helper: pending = r14 + i committed by it; rdi = context, rsi = va,
    /// rdx = pc, rcx = the instruction's facts, r8 = the store value. Returns to `resume` when the
    /// instruction completed and the slice goes on, else leaves with the helper's JITExit.
    mutating func emitMissCall(miss: X86Assembler.Label, resume: X86Assembler.Label, helper: UInt,
                                       index i: Int, offset off: Int, info: UInt64, value rs2: UInt8?) {
        let epilogue = self.epilogue
        let xs2 = rs2.map { x($0) }
        // What the cache holds at `resume` (the helper has written rd to the register file).
        let reload = cacheSnapshot.map { ($0.0, x($0.1)) }
        cold.append { a in
            a.bind(miss)
            a.lea(.rax, X86Mem(.r14, Int32(i)))
            a.store(X86Mem(.r12, JITCompiler.ctxPending), .rax)
            a.mov(.rdi, .r12)
            a.lea(.rdx, X86Mem(.rbp, Int32(off)))
            a.movImm(.rcx, info)
            if let m = xs2 { a.load(.r8, m) }
            a.movImm(.rax, UInt64(helper))
            a.call(.rax)
            a.test(.rax, .rax)
            a.jcc(.ne, absolute: epilogue)
            a.load(.r14, X86Mem(.r12, JITCompiler.ctxPending))
            if i != 0 { a.alu(.sub, .r14, imm: Int32(i)) }
            a.load(.r15, X86Mem(.r12, JITCompiler.ctxLeft))
            for (h, m) in reload { a.load(h, m) }
            a.jmp(resume)
        }
    }

    /// The facts a miss helper needs: size | signed << 4 | rd << 8 | length << 16.
    static func info(size: Int, signed: Bool, rd: UInt8, length: UInt8) -> UInt64 {
        UInt64(size) | (signed ? 16 : 0) | UInt64(rd) << 8 | UInt64(length) << 16
    }

    mutating func emitLoad(_ op: DecodedOp, index i: Int, offset off: Int) {
        let (size, signed): (Int, Bool) = switch op.opcode {
        case .lb: (1, true)
        case .lbu: (1, false)
        case .lh: (2, true)
        case .lhu: (2, false)
        case .lw: (4, true)
        case .lwu: (4, false)
        default: (8, false)
        }
        let miss = a.label(), resume = a.label()
        emitTLB(op, tlb: Self.ctxLoadTLB, size: size, miss: miss)
        a.loadExtend(.rcx, X86Mem(.rcx, 0), width: Self.width(size), signed: signed)
        result(op, .rcx)
        a.inc(ctx(Self.ctxLoadHits))
        a.bind(resume)
        emitMissCall(miss: miss, resume: resume, helper: helpers.load, index: i, offset: off,
                     info: Self.info(size: size, signed: signed, rd: op.rd, length: op.length), value: nil)
    }

    mutating func emitStore(_ op: DecodedOp, index i: Int, offset off: Int) {
        let size: Int = switch op.opcode {
        case .sb: 1
        case .sh: 2
        case .sw: 4
        default: 8
        }
        let miss = a.label(), resume = a.label()
        emitTLB(op, tlb: Self.ctxStoreTLB, size: size, miss: miss)
        movTo(.rax, operand(op.rs2))
        a.store(X86Mem(.rcx, 0), .rax, width: Self.width(size))
        a.inc(ctx(Self.ctxStoreHits))
        a.bind(resume)
        emitMissCall(miss: miss, resume: resume, helper: helpers.store, index: i, offset: off,
                     info: Self.info(size: size, signed: false, rd: 0, length: op.length), value: op.rs2)
    }
}
