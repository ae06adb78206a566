import RISCV

// The block compiler of the native-code engine: one block engine block → x86-64 code that does
// what `execute` does for each instruction (Execute.swift is the reference for every case), with
// the guest registers as memory operands in the hart's register file (no register allocation).
//
// Pinned host registers (set by the trampoline, JIT.swift): rbx = x registers, r12 = context,
// rbp = virtual base of the code page, r14 = `pending`, r15 = budget left.
// Within a block r14 is pending at the block's entry; instruction i's exits store r14 + i (the
// instructions before it). A slow-path call commits the counts (`commitInFlight`), after which
// r14 is reloaded as the committed count minus i, so `add r14, n` at the block's end stays right.
//
// A compiled block:
//   entry:  the block is alive (`count != 0`) and the budget covers it (r14 + n <= r15), else
//           return at this boundary, having done nothing (the Swift engine then does what the
//           block engine does: a partial block, a rebuilt block...);
//   body:   instructions 0..<k, k the first one not compiled (CSR, SYSTEM, atomics, FP...);
//   end:    k < n: return `partial` (Swift runs k..<n with `execute`); else pending += n, then a
//           jump per static successor: each starts as a jump to a stub that returns `boundary`
//           with the successor's pc and its own address, which the engine patches into a direct
//           jump once the successor is compiled (chaining: a hot loop never leaves native code).
//           A jalr looks its target up in the page's block table and the compiled-block table
//           and jumps to its code if it has some; successors outside the page always return.
// Loads and stores: the soft-TLB fast path inline (index, tag compare with the alignment bits,
// host address = va + addend), counted in the context's hit counters; a miss calls the Swift
// helper (JITHelpers.swift), which does the rest of the instruction as `execute` does, ending the
// slice when `exitSlice` asks for it; a hit tests nothing, as in `execute`.

struct JITCompiler {
    /// Addresses of the helpers generated code calls.
    struct Helpers {
        let load: UInt
        let store: UInt
        let blockEnd: UInt
    }

    /// Where a `jalr` looks for its target's code: the block table of the block's page and the
    /// engine's table of compiled blocks (JIT.entries).
    struct Lookup {
        let table: UInt
        let entries: UInt
    }

    /// Whether an instruction can be compiled.
    static func compilable(_ op: DecodedOp) -> Bool {
        switch op.opcode {
        case .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .addiw, .slliw, .srliw, .sraiw,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and, .addw, .subw, .sllw, .srlw, .sraw,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw,
             .fence, .fence_i:
            return op.length != 0
        default:
            return false
        }
    }

    static func accessesMemory(_ op: Opcode) -> Bool {
        switch op {
        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd: true
        default: false
        }
    }

    var a: X86Assembler
    let b: BlockRef
    let epilogue: UInt
    let helpers: Helpers
    let lookup: Lookup
    let record: Bool
    /// Count the block's executions and links taken in the context (`JITContext.nativeBlocks`).
    let countBlocks: Bool
    /// Out-of-line code (miss paths, exits), emitted after the block's straight line.
    var cold: [(inout X86Assembler) -> Void] = []

    // MARK: register cache
    //
    // Within a block, guest registers once read or written stay in host registers of `pool`
    // (write-through: every write also goes to the register file, so the file is always current
    // and leaving the block, calling Swift or trapping needs no write-back; what the cache saves is
    // the reload, whose store-to-load forwarding put ~5 cycles on every dependent instruction).
    // A call into Swift clobbers the pool; its return path reloads what the cache held. Code with
    // internal control flow (division) uses the register file only and drops its rd from the cache.

    static let pool: [X86Reg] = [.rdi, .r8, .r9, .r10, .r11, .rdx]
    /// Guest register held by each pool register (index into `pool`), or -1.
    var held: [Int] = Array(repeating: -1, count: 6)
    var lastUse: [Int] = Array(repeating: 0, count: 6)
    var clock = 0

    enum Operand {
        case reg(X86Reg)
        case mem(X86Mem)
    }

    func slot(of r: UInt8) -> Int? { held.firstIndex(of: Int(r)) }

    /// A pool register for guest register `r`: a free one, else the least recently used.
    mutating func allocate(_ r: UInt8) -> X86Reg {
        var best = 0
        for i in 0..<held.count {
            if held[i] == -1 { best = i; break }
            if lastUse[i] < lastUse[best] { best = i }
        }
        held[best] = Int(r)
        clock += 1
        lastUse[best] = clock
        return Self.pool[best]
    }

    /// Guest register `r` as an operand: its host register (loaded into the cache on first use).
    mutating func operand(_ r: UInt8) -> Operand {
        if r == 0 || r >= 32 { return .mem(x(r)) }
        if let i = slot(of: r) {
            clock += 1
            lastUse[i] = clock
            return .reg(Self.pool[i])
        }
        let h = allocate(r)
        a.load(h, x(r))
        return .reg(h)
    }

    /// x[rd] = `src` (a scratch register), in the register file and the cache.
    mutating func write(_ rd: UInt8, _ src: X86Reg) {
        guard rd != 0 else { return }
        a.store(x(rd), src)
        guard rd < 32 else { return }   // the sink register is never read
        let h: X86Reg
        if let i = slot(of: rd) {
            clock += 1
            lastUse[i] = clock
            h = Self.pool[i]
        } else {
            h = allocate(rd)
        }
        if h != src { a.mov(h, src) }
    }

    /// The host register guest register `r` (1...31) lives in, allocated if need be, to compute
    /// its new value in place. The operands of the instruction were fetched just before, so they
    /// are the most recently used and never the register evicted here (the pool has six).
    mutating func home(_ r: UInt8) -> X86Reg {
        if let i = slot(of: r) {
            clock += 1
            lastUse[i] = clock
            return Self.pool[i]
        }
        return allocate(r)
    }

    /// Forgets guest register `r` (its file copy is current).
    mutating func drop(_ r: UInt8) {
        if let i = slot(of: r) { held[i] = -1 }
    }

    /// Forgets whatever host register `h` holds.
    mutating func clobber(_ h: X86Reg) {
        if let i = Self.pool.firstIndex(of: h) { held[i] = -1 }
    }

    mutating func clearCache() {
        for i in 0..<held.count { held[i] = -1 }
    }

    /// (host, guest) pairs the cache holds now, for a return path to reload.
    var cacheSnapshot: [(X86Reg, UInt8)] {
        held.indices.compactMap { held[$0] >= 0 ? (Self.pool[$0], UInt8(held[$0])) : nil }
    }

    mutating func movTo(_ dst: X86Reg, _ o: Operand, w: Bool = true) {
        switch o {
        case .reg(let h): if w { a.mov(dst, h) } else { a.mov32(dst, h) }
        case .mem(let m): if w { a.load(dst, m) } else { a.load32(dst, m) }
        }
    }

    mutating func alu(_ op: X86Assembler.ALU, _ dst: X86Reg, _ o: Operand, w: Bool = true) {
        switch o {
        case .reg(let h): a.alu(op, dst, h, w: w)
        case .mem(let m): a.alu(op, dst, m, w: w)
        }
    }

    static let ctxPending = JITContext.offset(\.pending)
    static let ctxLeft = JITContext.offset(\.left)
    static let ctxPC = JITContext.offset(\.pc)
    static let ctxBlock = JITContext.offset(\.block)
    static let ctxIndex = JITContext.offset(\.index)
    static let ctxLinkSite = JITContext.offset(\.linkSite)
    static let ctxLoadTLB = JITContext.offset(\.loadTLB)
    static let ctxStoreTLB = JITContext.offset(\.storeTLB)
    static let ctxLoadHits = JITContext.offset(\.loadHits)
    static let ctxStoreHits = JITContext.offset(\.storeHits)
    static let ctxNative = JITContext.offset(\.nativeInstructions)
    static let ctxIndirectLinks = JITContext.offset(\.indirectLinks)
    static let ctxNativeBlocks = JITContext.offset(\.nativeBlocks)
    static let ctxNativeLinks = JITContext.offset(\.nativeLinks)

    /// Compiles block `b` into code assembled at `origin`. Nil when its first instruction cannot
    /// be compiled. `record`: call the block-end helper at every block end (lockstep tests).
    static func compile(_ b: BlockRef, origin: UInt, epilogue: UInt, helpers: Helpers, lookup: Lookup, record: Bool,
                        countBlocks: Bool = false)
        -> (bytes: [UInt8], instructions: Int)? {
        precondition(MemoryLayout<SoftTLBEntry>.stride == 16 && softTLBSize == 256)
        let n = Int(b.pointee.count)
        guard n > 0 else { return nil }
        var k = 0
        while k < n && compilable(b.ops[k]) { k += 1 }
        guard k > 0 else { return nil }
        var c = JITCompiler(a: X86Assembler(origin: origin), b: b, epilogue: epilogue, helpers: helpers,
                            lookup: lookup, record: record, countBlocks: countBlocks)
        c.emitBlock(n: n, k: k)
        return (c.a.bytes, k)
    }

    private init(a: X86Assembler, b: BlockRef, epilogue: UInt, helpers: Helpers, lookup: Lookup, record: Bool,
                 countBlocks: Bool) {
        self.a = a; self.b = b; self.epilogue = epilogue; self.helpers = helpers; self.lookup = lookup
        self.record = record
        self.countBlocks = countBlocks
    }

    @inline(__always) func x(_ r: UInt8) -> X86Mem { X86Mem(.rbx, Int32(r) * 8) }
    @inline(__always) func ctx(_ off: Int32) -> X86Mem { X86Mem(.r12, off) }

    mutating func emitBlock(n: Int, k: Int) {
        let start = Int(b.pointee.start)
        let bail = a.label()
        // Entry checks.
        a.movImm(.rax, UInt64(UInt(bitPattern: b)))
        a.cmpDword(X86Mem(.rax, 0), 0)           // BlockHeader.count is the first field
        a.jcc(.e, bail)
        a.lea(.rax, X86Mem(.r14, Int32(n)))
        a.alu(.cmp, .rax, .r15)
        a.jcc(.a, bail)
        a.alu(.add, ctx(Self.ctxNative), imm: Int32(k))
        if countBlocks { a.inc(ctx(Self.ctxNativeBlocks)) }

        var off = start
        for i in 0..<k {
            let op = b.ops[i]
            if i == n - 1 && Hart.endsBlock(op.opcode) {
                emitEnd(op, index: i, n: n, offset: off)
                off += Int(op.length)
                break
            }
            emit(op, index: i, offset: off)
            off += Int(op.length)
            if i == n - 1 {
                // The block ends without a control transfer (length, page end, an untranslatable
                // slot next): fall through to the block at its end.
                blockEnd(n)
                exitTo(offset: off)
            }
        }
        if k < n {
            // Partial: instruction k onwards runs in Swift.
            a.alu(.add, .r14, imm: Int32(k))
            a.store(ctx(Self.ctxPending), .r14)
            a.lea(.rax, X86Mem(.rbp, Int32(off)))
            a.store(ctx(Self.ctxPC), .rax)
            a.movImm(.rax, UInt64(UInt(bitPattern: b)))
            a.store(ctx(Self.ctxBlock), .rax)
            a.storeImm(ctx(Self.ctxIndex), Int32(k))
            a.movImm(.rax, JITExit.partial.rawValue)
            a.jmp(absolute: epilogue)
        }
        // Bail out at the entry: nothing ran; go on at the block's start in Swift.
        a.bind(bail)
        a.store(ctx(Self.ctxPending), .r14)
        a.lea(.rax, X86Mem(.rbp, Int32(start)))
        a.store(ctx(Self.ctxPC), .rax)
        a.storeImm(ctx(Self.ctxLinkSite), 0)
        a.movImm(.rax, JITExit.boundary.rawValue)
        a.jmp(absolute: epilogue)
        let pieces = cold
        cold = []
        for p in pieces { p(&a) }
        a.finish()
    }

    // MARK: block ends

    /// pending += n; the lockstep hook.
    mutating func blockEnd(_ n: Int) {
        a.alu(.add, .r14, imm: Int32(n))
        if record {
            a.store(ctx(Self.ctxPending), .r14)
            a.mov(.rdi, .r12)
            a.movImm(.rax, UInt64(helpers.blockEnd))
            a.call(.rax)
            clearCache()
        }
    }

    /// Leaves for the instruction at page offset `offset` (pending already counts the block): a
    /// patchable jump when the target is in this page, else a plain return.
    mutating func exitTo(offset: Int) {
        let linkable = offset >= 0 && offset < 4096
        let stub = a.label()
        var sitePosition = -1
        if linkable && countBlocks {
            // Counted as a link here, taken back in the stub when the jump was not patched.
            a.inc(ctx(Self.ctxNativeLinks))
        }
        if linkable {
            // jmp rel32 to the stub for now; the engine may redirect it to the successor's code.
            a.byte(0xE9)
            sitePosition = a.position
            a.imm32(0)
            // The rel32 is fixed below by emitting the stub right here (offset 0 = next byte).
        }
        a.bind(stub)
        if linkable && countBlocks { a.alu(.sub, ctx(Self.ctxNativeLinks), imm: 1) }
        a.store(ctx(Self.ctxPending), .r14)
        if let d = Int32(exactly: offset) {
            a.lea(.rax, X86Mem(.rbp, d))
        } else {
            a.movImm(.rax, UInt64(bitPattern: Int64(offset)))
            a.alu(.add, .rax, .rbp)
        }
        a.store(ctx(Self.ctxPC), .rax)
        if linkable {
            a.movImm(.rax, UInt64(a.origin) + UInt64(sitePosition))
            a.store(ctx(Self.ctxLinkSite), .rax)
        } else {
            a.storeImm(ctx(Self.ctxLinkSite), 0)
        }
        a.movImm(.rax, JITExit.boundary.rawValue)
        a.jmp(absolute: epilogue)
    }

    /// The last instruction of a block that ends it: branches, jal, jalr.
    mutating func emitEnd(_ op: DecodedOp, index i: Int, n: Int, offset off: Int) {
        let len = Int(op.length)
        switch op.opcode {
        case .beq, .bne, .blt, .bge, .bltu, .bgeu:
            let cond: X86Cond
            switch op.opcode {
            case .beq: cond = .e
            case .bne: cond = .ne
            case .blt: cond = .l
            case .bge: cond = .ge
            case .bltu: cond = .b
            default: cond = .ae
            }
            blockEnd(n)
            movTo(.rax, operand(op.rs1))
            self.alu(.cmp, .rax, operand(op.rs2))
            let taken = a.label()
            a.jcc(cond, taken)
            exitTo(offset: off + len)
            a.bind(taken)
            exitTo(offset: off + Int(op.imm))
        case .jal:
            a.lea(.rax, X86Mem(.rbp, Int32(off + len)))
            if op.rd != 0 { a.store(x(op.rd), .rax) }
            drop(op.rd)
            blockEnd(n)
            exitTo(offset: off + Int(op.imm))
        case .jalr:
            movTo(.rax, operand(op.rs1))
            if op.imm != 0 { a.alu(.add, .rax, imm: op.imm) }
            a.alu(.and, .rax, imm: -2)
            a.lea(.rcx, X86Mem(.rbp, Int32(off + len)))
            if op.rd != 0 { a.store(x(op.rd), .rcx) }
            drop(op.rd)
            a.store(ctx(Self.ctxPC), .rax)
            blockEnd(n)
            emitIndirectLookup()
            a.store(ctx(Self.ctxPending), .r14)
            a.storeImm(ctx(Self.ctxLinkSite), 0)
            a.movImm(.rax, JITExit.boundary.rawValue)
            a.jmp(absolute: epilogue)
        default:
            preconditionFailure("not a block end")
        }
        _ = i
    }

    /// rax = the target of a `jalr` (pending already counts the block): when it lies in this
    /// page and its block has compiled code, jump there, as a patched link would; else fall
    /// through to the exit. The checks are `JIT.index`'s: the table's live block at the target,
    /// its `jit` field naming an entry, and that entry naming the block. Returns, calls and indirect
    /// calls within a page then stay in compiled code (mix bench: one exit per ~30 instructions
    /// before). The target block's own entry checks its budget and whether it is alive.
    mutating func emitIndirectLookup() {
        let out = a.label()
        let jitStateOffset = Int32(MemoryLayout<BlockHeader>.offset(of: \BlockHeader.jit)!)
        let stride = Int32(MemoryLayout<JIT.Compiled>.stride)
        let blockOffset = Int32(MemoryLayout<JIT.Compiled>.offset(of: \JIT.Compiled.block)!)
        let codeOffset = Int32(MemoryLayout<JIT.Compiled>.offset(of: \JIT.Compiled.code)!)
        a.load(.rax, ctx(Self.ctxPC))               // (the lockstep hook's call clobbered rax)
        a.mov(.rcx, .rax)
        a.alu(.sub, .rcx, .rbp)
        a.alu(.cmp, .rcx, imm: 4096)
        a.jcc(.ae, out)                             // unsigned: below the page too
        // table entry of halfword offset off: table + (off >> 1) * 8 = table + off * 4 (off even).
        a.shift(.shl, .rcx, 2)
        a.movImm(.rdx, UInt64(lookup.table))
        a.alu(.add, .rcx, .rdx)
        a.load(.rcx, X86Mem(.rcx, 0))
        a.test(.rcx, .rcx)
        a.jcc(.e, out)
        a.loadExtend(.rdx, X86Mem(.rcx, jitStateOffset), width: .b16, signed: false)
        a.alu(.cmp, .rdx, imm: Int32(JIT.compiledBit), w: false)
        a.jcc(.b, out)
        a.alu(.and, .rdx, imm: Int32(~JIT.compiledBit & 0xFFFF), w: false)
        a.imul(.rdx, .rdx, imm: stride)
        a.movImm(.rsi, UInt64(lookup.entries))
        a.alu(.add, .rdx, .rsi)
        a.alu(.cmp, .rcx, X86Mem(.rdx, blockOffset))
        a.jcc(.ne, out)
        a.inc(ctx(Self.ctxIndirectLinks))
        a.jmp(X86Mem(.rdx, codeOffset))
        a.bind(out)
    }

    // MARK: instructions

    /// x[rd] = r in the register file only, dropping rd from the cache (code with internal
    /// control flow, whose paths must leave the cache alike). x0 is never written: cached forms
    /// send rd = 0 to the sink register.
    mutating func setRD(_ op: DecodedOp, _ r: X86Reg = .rax) {
        if op.rd != 0 { a.store(x(op.rd), r) }
        drop(op.rd)
    }

    /// x[rd] = r, cached.
    mutating func result(_ op: DecodedOp, _ r: X86Reg = .rax) { write(op.rd, r) }

    mutating func emit(_ op: DecodedOp, index i: Int, offset off: Int) {
        let imm = op.imm
        // An integer computation whose result goes nowhere (rd = x0, sent to the sink register;
        // nop is addi x0, x0, 0) has no effect: RV64IM arithmetic never traps.
        if (op.rd == 0 || op.rd >= 32) && !JITCompiler.accessesMemory(op.opcode) { return }
        switch op.opcode {
        case .lui:
            a.movImm(.rax, UInt64(bitPattern: Int64(imm)))
            result(op)
        case .auipc:
            let d = Int64(off) + Int64(imm)
            if let d32 = Int32(exactly: d) {
                a.lea(.rax, X86Mem(.rbp, d32))
            } else {
                a.movImm(.rax, UInt64(bitPattern: d))
                a.alu(.add, .rax, .rbp)
            }
            result(op)
        case .add, .sub, .xor, .or, .and:
            let alu: X86Assembler.ALU = op.opcode == .add ? .add : op.opcode == .sub ? .sub
                : op.opcode == .xor ? .xor : op.opcode == .or ? .or : .and
            let o1 = operand(op.rs1)
            let o2 = operand(op.rs2)
            if op.rd != op.rs2 || op.rd == op.rs1 {
                // In rd's own host register: rd = rs1 (op) rs2, then the register file.
                let hd = home(op.rd)
                if op.rd != op.rs1 { movTo(hd, o1) }
                self.alu(alu, hd, o2)
                a.store(x(op.rd), hd)
            } else {
                movTo(.rax, o1)
                self.alu(alu, .rax, o2)
                result(op)
            }
        case .addi, .xori, .ori, .andi:
            let alu: X86Assembler.ALU = op.opcode == .addi ? .add : op.opcode == .xori ? .xor
                : op.opcode == .ori ? .or : .and
            let o1 = operand(op.rs1)
            let hd = home(op.rd)
            if op.rd != op.rs1 { movTo(hd, o1) }
            if imm != 0 || alu == .and { a.alu(alu, hd, imm: imm) }
            a.store(x(op.rd), hd)
        case .slt, .sltu:
            movTo(.rcx, operand(op.rs1))
            self.alu(.cmp, .rcx, operand(op.rs2))
            a.setccRAX(op.opcode == .slt ? .l : .b)
            result(op)
        case .slti, .sltiu:
            // The immediate is sign-extended for both (sltiu then compares unsigned).
            movTo(.rcx, operand(op.rs1))
            a.alu(.cmp, .rcx, imm: imm)
            a.setccRAX(op.opcode == .slti ? .l : .b)
            result(op)
        case .slli, .srli, .srai:
            let o1 = operand(op.rs1)
            let hd = home(op.rd)
            if op.rd != op.rs1 { movTo(hd, o1) }
            let s: X86Assembler.Shift = op.opcode == .slli ? .shl : op.opcode == .srli ? .shr : .sar
            let count = UInt8(truncatingIfNeeded: imm & 63)
            if count != 0 { a.shift(s, hd, count) }
            a.store(x(op.rd), hd)
        case .sll, .srl, .sra:
            movTo(.rcx, operand(op.rs2))
            movTo(.rax, operand(op.rs1))
            a.shiftCL(op.opcode == .sll ? .shl : op.opcode == .srl ? .shr : .sar, .rax)
            result(op)
        case .addiw:
            movTo(.rax, operand(op.rs1), w: false)
            if imm != 0 { a.alu(.add, .rax, imm: imm, w: false) }
            a.movsxd(.rax, .rax)
            result(op)
        case .slliw, .srliw, .sraiw:
            movTo(.rax, operand(op.rs1), w: false)
            let s: X86Assembler.Shift = op.opcode == .slliw ? .shl : op.opcode == .srliw ? .shr : .sar
            let count = UInt8(truncatingIfNeeded: imm & 31)
            if count != 0 { a.shift(s, .rax, count, w: false) }
            a.movsxd(.rax, .rax)
            result(op)
        case .addw, .subw:
            movTo(.rax, operand(op.rs1), w: false)
            self.alu(op.opcode == .addw ? .add : .sub, .rax, operand(op.rs2), w: false)
            a.movsxd(.rax, .rax)
            result(op)
        case .sllw, .srlw, .sraw:
            movTo(.rcx, operand(op.rs2))
            movTo(.rax, operand(op.rs1), w: false)
            a.shiftCL(op.opcode == .sllw ? .shl : op.opcode == .srlw ? .shr : .sar, .rax, w: false)
            a.movsxd(.rax, .rax)
            result(op)
        case .mul, .mulw:
            let w = op.opcode == .mul
            movTo(.rax, operand(op.rs1), w: w)
            switch operand(op.rs2) {
            case .reg(let h): a.imul(.rax, h, w: w)
            case .mem(let m): a.imul(.rax, m, w: w)
            }
            if !w { a.movsxd(.rax, .rax) }
            result(op)
        case .mulh, .mulhu:
            // rdx:rax = rax * x[rs2]: rdx is scratch here, so the register file is read directly.
            clobber(.rdx)
            a.load(.rax, x(op.rs1))
            a.f7(op.opcode == .mulh ? 5 : 4, x(op.rs2))
            setRD(op, .rdx)
        case .mulhsu:
            // The unsigned high half, minus rs2 when rs1 is negative ("M": mulhsu).
            clobber(.rdx)
            a.load(.rax, x(op.rs1))
            a.f7(4, x(op.rs2))
            a.load(.rax, x(op.rs1))
            a.shift(.sar, .rax, 63)
            a.alu(.and, .rax, x(op.rs2))
            a.alu(.sub, .rdx, .rax)
            setRD(op, .rdx)
        case .div, .divu, .rem, .remu, .divw, .divuw, .remw, .remuw:
            clobber(.rdx)
            emitDivide(op)
        case .fence, .fence_i:
            break
        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu:
            emitLoad(op, index: i, offset: off)
        case .sb, .sh, .sw, .sd:
            emitStore(op, index: i, offset: off)
        default:
            preconditionFailure("not compilable: \(op.opcode)")
        }
    }

    /// Division and remainder with the "M" chapter's defined results: x / 0 = all ones,
    /// x % 0 = x; the signed overflow (min / -1) = min, remainder 0. x86 div faults on both, so
    /// they are tested first.
    mutating func emitDivide(_ op: DecodedOp) {
        let w = !(op.opcode == .divw || op.opcode == .divuw || op.opcode == .remw || op.opcode == .remuw)
        let signed = op.opcode == .div || op.opcode == .rem || op.opcode == .divw || op.opcode == .remw
        let remainder = op.opcode == .rem || op.opcode == .remu || op.opcode == .remw || op.opcode == .remuw
        let zero = a.label(), done = a.label(), normal = a.label()
        if w { a.load(.rcx, x(op.rs2)) } else { a.load32(.rcx, x(op.rs2)) }
        a.test(.rcx, .rcx, w: w)
        a.jcc(.e, zero)
        if signed {
            a.alu(.cmp, .rcx, imm: -1, w: w)
            a.jcc(.ne, normal)
            // Divisor -1: quotient = -dividend (min stays min), remainder 0.
            if remainder {
                if op.rd != 0 { a.storeImm(x(op.rd), 0) }
            } else {
                if w { a.load(.rax, x(op.rs1)) } else { a.load32(.rax, x(op.rs1)) }
                a.f7(3, .rax, w: w)
                if !w { a.movsxd(.rax, .rax) }
                setRD(op)
            }
            a.jmp(done)
        }
        a.bind(normal)
        if w { a.load(.rax, x(op.rs1)) } else { a.load32(.rax, x(op.rs1)) }
        if signed {
            a.signExtendAccumulator(w: w)
            a.f7(7, .rcx, w: w)
        } else {
            a.alu(.xor, .rdx, .rdx, w: false)
            a.f7(6, .rcx, w: w)
        }
        let result: X86Reg = remainder ? .rdx : .rax
        if !w { a.movsxd(result, result) }
        setRD(op, result)
        a.jmp(done)
        a.bind(zero)
        if remainder {
            // x % 0 = x (the W forms: sign-extended low word).
            if w { a.load(.rax, x(op.rs1)) } else { a.load32(.rax, x(op.rs1)); a.movsxd(.rax, .rax) }
            setRD(op)
        } else if op.rd != 0 {
            a.storeImm(x(op.rd), -1)
        }
        a.bind(done)
    }
}
