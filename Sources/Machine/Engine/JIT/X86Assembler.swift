// A small x86-64 encoder for the native-code engine: only the forms the block compiler emits.
// Encodings from the Intel SDM, vol. 2 (chapter 2, "Instruction Format": REX prefixes, ModR/M, SIB;
// chapters 3-4 for each instruction). Every memory operand is [base + disp] (no index), which is
// all the compiler needs: guest registers at [rbx + 8*r], context fields at [r12 + offset],
// soft-TLB entries at [rax + 0/8].

/// x86-64 general registers, numbered as in the ModR/M and REX encodings.
enum X86Reg: UInt8 {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
    var low: UInt8 { rawValue & 7 }
    var high: UInt8 { rawValue >> 3 }
}

/// Condition codes (the low nibble of Jcc/SETcc; SDM vol. 2, appendix B.1.4.7).
enum X86Cond: UInt8 {
    case o = 0, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
}

/// A memory operand [base + disp].
struct X86Mem {
    var base: X86Reg
    var disp: Int32
    init(_ base: X86Reg, _ disp: Int32 = 0) { self.base = base; self.disp = disp }
}

/// Width of an operation: 8, 16, 32 or 64 bits.
enum X86Width { case b8, b16, b32, b64 }

/// Emits code into a byte buffer whose final address (`origin`) is known, so rel32 displacements
/// to absolute addresses (the shared epilogue) can be computed while emitting.
struct X86Assembler {
    var bytes: [UInt8] = []
    let origin: UInt
    /// Labels: bound position, or -1; fixups: (rel32 position, label).
    private var labels: [Int] = []
    private var fixups: [(at: Int, label: Int)] = []

    init(origin: UInt) {
        self.origin = origin
        bytes.reserveCapacity(4096)
    }

    var position: Int { bytes.count }
    var address: UInt { origin + UInt(bytes.count) }

    // MARK: labels

    struct Label { let id: Int }

    mutating func label() -> Label {
        labels.append(-1)
        return Label(id: labels.count - 1)
    }

    mutating func bind(_ l: Label) { labels[l.id] = bytes.count }

    /// Resolves forward references; call once at the end.
    mutating func finish() {
        for f in fixups {
            let target = labels[f.label]
            precondition(target >= 0, "unbound label")
            put32(at: f.at, Int32(target - (f.at + 4)))
        }
        fixups.removeAll()
    }

    private mutating func put32(at i: Int, _ v: Int32) {
        let u = UInt32(bitPattern: v)
        bytes[i] = UInt8(u & 0xFF); bytes[i + 1] = UInt8((u >> 8) & 0xFF)
        bytes[i + 2] = UInt8((u >> 16) & 0xFF); bytes[i + 3] = UInt8(u >> 24)
    }

    // MARK: raw emission

    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func imm32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        bytes.append(UInt8(u & 0xFF)); bytes.append(UInt8((u >> 8) & 0xFF))
        bytes.append(UInt8((u >> 16) & 0xFF)); bytes.append(UInt8(u >> 24))
    }
    mutating func imm64(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8((v >> (8 * UInt64(i))) & 0xFF)) }
    }

    /// REX prefix (SDM 2.2.1): emitted when W is set, an extended register is used, or `force`
    /// (byte access to SPL..DIL, not used here).
    private mutating func rex(w: Bool, r: UInt8, b: UInt8) {
        let v: UInt8 = 0x40 | (w ? 8 : 0) | (r << 2) | b
        if v != 0x40 { bytes.append(v) }
    }

    /// ModR/M (+ SIB, displacement) for `reg` and memory operand `m` (SDM table 2-2, 2-3):
    /// mod 01 with disp8 when it fits, else mod 10 with disp32; base rsp/r12 needs a SIB byte
    /// (0x24: no index), and base rbp/r13 always has a displacement (mod 00 would mean RIP).
    private mutating func modrm(_ reg: UInt8, _ m: X86Mem) {
        let small = m.disp >= -128 && m.disp <= 127
        let mod: UInt8 = small ? 0x40 : 0x80
        bytes.append(mod | ((reg & 7) << 3) | m.base.low)
        if m.base.low == 4 { bytes.append(0x24) }
        if small { bytes.append(UInt8(bitPattern: Int8(m.disp))) } else { imm32(m.disp) }
    }

    /// An instruction with a register and a memory operand: [prefix] REX opcode ModR/M.
    mutating func rm(_ op: [UInt8], w: Bool, reg: UInt8, _ m: X86Mem, prefix66: Bool = false) {
        if prefix66 { bytes.append(0x66) }
        rex(w: w, r: reg >> 3, b: m.base.high)
        bytes.append(contentsOf: op)
        modrm(reg, m)
    }

    /// An instruction with two register operands (ModR/M mod 11): reg field `reg`, r/m field `rm`.
    mutating func rr(_ op: [UInt8], w: Bool, reg: UInt8, rm: X86Reg) {
        rex(w: w, r: reg >> 3, b: rm.high)
        bytes.append(contentsOf: op)
        bytes.append(0xC0 | ((reg & 7) << 3) | rm.low)
    }

    // MARK: moves

    /// mov r64, [m]  (REX.W 8B /r)
    mutating func load(_ r: X86Reg, _ m: X86Mem) { rm([0x8B], w: true, reg: r.rawValue, m) }
    /// mov [m], r64  (REX.W 89 /r)
    mutating func store(_ m: X86Mem, _ r: X86Reg) { rm([0x89], w: true, reg: r.rawValue, m) }
    /// mov [m], r of the given width (88 / 66 89 / 89 / REX.W 89). Byte stores use rax..rbx only.
    mutating func store(_ m: X86Mem, _ r: X86Reg, width: X86Width) {
        switch width {
        case .b8: precondition(r.rawValue < 4); rm([0x88], w: false, reg: r.rawValue, m)
        case .b16: rm([0x89], w: false, reg: r.rawValue, m, prefix66: true)
        case .b32: rm([0x89], w: false, reg: r.rawValue, m)
        case .b64: rm([0x89], w: true, reg: r.rawValue, m)
        }
    }
    /// Loads `width` bits from [m] into r64, sign- or zero-extended:
    /// movsx (REX.W 0F BE / 0F BF), movsxd (REX.W 63), movzx (0F B6 / 0F B7), mov r32 (8B), mov r64.
    mutating func loadExtend(_ r: X86Reg, _ m: X86Mem, width: X86Width, signed: Bool) {
        switch (width, signed) {
        case (.b8, true): rm([0x0F, 0xBE], w: true, reg: r.rawValue, m)
        case (.b8, false): rm([0x0F, 0xB6], w: false, reg: r.rawValue, m)
        case (.b16, true): rm([0x0F, 0xBF], w: true, reg: r.rawValue, m)
        case (.b16, false): rm([0x0F, 0xB7], w: false, reg: r.rawValue, m)
        case (.b32, true): rm([0x63], w: true, reg: r.rawValue, m)
        case (.b32, false): rm([0x8B], w: false, reg: r.rawValue, m)
        case (.b64, _): load(r, m)
        }
    }
    /// mov r32, [m] (zero-extends into r64)
    mutating func load32(_ r: X86Reg, _ m: X86Mem) { rm([0x8B], w: false, reg: r.rawValue, m) }
    /// mov qword [m], simm32  (REX.W C7 /0 id)
    mutating func storeImm(_ m: X86Mem, _ v: Int32) { rm([0xC7], w: true, reg: 0, m); imm32(v) }
    /// mov r32, r32  (89 /r; zero-extends into r64)
    mutating func mov32(_ dst: X86Reg, _ src: X86Reg) { rr([0x89], w: false, reg: src.rawValue, rm: dst) }
    /// mov r64, r64  (REX.W 89 /r)
    mutating func mov(_ dst: X86Reg, _ src: X86Reg) { rr([0x89], w: true, reg: src.rawValue, rm: dst) }
    /// mov r64, imm: the shortest of mov r32, imm32 (zero-extending), mov r64, simm32, movabs.
    mutating func movImm(_ r: X86Reg, _ v: UInt64) {
        if v <= UInt64(UInt32.max) {
            rex(w: false, r: 0, b: r.high); byte(0xB8 + r.low); imm32(Int32(bitPattern: UInt32(v)))
        } else if Int64(bitPattern: v) >= Int64(Int32.min) && Int64(bitPattern: v) <= Int64(Int32.max) {
            rr([0xC7], w: true, reg: 0, rm: r); imm32(Int32(truncatingIfNeeded: Int64(bitPattern: v)))
        } else {
            rex(w: true, r: 0, b: r.high); byte(0xB8 + r.low); imm64(v)
        }
    }
    /// lea r64, [m]  (REX.W 8D /r)
    mutating func lea(_ r: X86Reg, _ m: X86Mem) { rm([0x8D], w: true, reg: r.rawValue, m) }
    /// movsxd r64, r32  (REX.W 63 /r)
    mutating func movsxd(_ dst: X86Reg, _ src: X86Reg) { rr([0x63], w: true, reg: dst.rawValue, rm: src) }

    // MARK: arithmetic

    /// The classic ALU group: opcode of "op r, r/m" and the /digit of the immediate form.
    enum ALU: UInt8 {
        case add = 0, or = 1, and = 4, sub = 5, xor = 6, cmp = 7
        var loadOpcode: UInt8 { rawValue << 3 | 3 }    // op r, r/m (03, 0B, 23, 2B, 33, 3B)
        var storeOpcode: UInt8 { rawValue << 3 | 1 }   // op r/m, r (01, 09, 21, 29, 31, 39)
    }
    /// op r, [m]  (64 or 32 bits)
    mutating func alu(_ op: ALU, _ r: X86Reg, _ m: X86Mem, w: Bool = true) {
        rm([op.loadOpcode], w: w, reg: r.rawValue, m)
    }
    /// op r, r
    mutating func alu(_ op: ALU, _ dst: X86Reg, _ src: X86Reg, w: Bool = true) {
        rr([op.storeOpcode], w: w, reg: src.rawValue, rm: dst)
    }
    /// op r, simm32 (83 /digit ib when it fits in 8 bits, else 81 /digit id)
    mutating func alu(_ op: ALU, _ r: X86Reg, imm: Int32, w: Bool = true) {
        if imm >= -128 && imm <= 127 {
            rr([0x83], w: w, reg: op.rawValue, rm: r); byte(UInt8(bitPattern: Int8(imm)))
        } else {
            rr([0x81], w: w, reg: op.rawValue, rm: r); imm32(imm)
        }
    }
    /// op qword [m], simm8/simm32
    mutating func alu(_ op: ALU, _ m: X86Mem, imm: Int32, w: Bool = true) {
        if imm >= -128 && imm <= 127 {
            rm([0x83], w: w, reg: op.rawValue, m); byte(UInt8(bitPattern: Int8(imm)))
        } else {
            rm([0x81], w: w, reg: op.rawValue, m); imm32(imm)
        }
    }
    /// cmp byte [m], imm8  (80 /7 ib)
    mutating func cmpByte(_ m: X86Mem, _ v: UInt8) { rm([0x80], w: false, reg: 7, m); byte(v) }
    /// cmp dword [m], imm8  (83 /7 ib)
    mutating func cmpDword(_ m: X86Mem, _ v: Int8) { rm([0x83], w: false, reg: 7, m); byte(UInt8(bitPattern: v)) }
    /// test r, r  (85 /r)
    mutating func test(_ a: X86Reg, _ b: X86Reg, w: Bool = true) { rr([0x85], w: w, reg: b.rawValue, rm: a) }

    enum Shift: UInt8 { case shl = 4, shr = 5, sar = 7 }
    /// shift r by imm8  (C1 /digit ib)
    mutating func shift(_ s: Shift, _ r: X86Reg, _ count: UInt8, w: Bool = true) {
        rr([0xC1], w: w, reg: s.rawValue, rm: r); byte(count)
    }
    /// shift r by cl  (D3 /digit); the hardware masks cl to 6 bits (64-bit) or 5 bits (32-bit),
    /// which is what RISC-V's register shifts do with rs2.
    mutating func shiftCL(_ s: Shift, _ r: X86Reg, w: Bool = true) { rr([0xD3], w: w, reg: s.rawValue, rm: r) }

    /// imul r64, [m]  (REX.W 0F AF /r): the low half, the same for signed and unsigned.
    mutating func imul(_ r: X86Reg, _ m: X86Mem, w: Bool = true) { rm([0x0F, 0xAF], w: w, reg: r.rawValue, m) }
    /// imul r, r  (0F AF /r)
    mutating func imul(_ r: X86Reg, _ src: X86Reg, w: Bool = true) { rr([0x0F, 0xAF], w: w, reg: r.rawValue, rm: src) }
    /// The F7 group on a memory operand: /3 neg, /4 mul, /5 imul (rdx:rax = rax * [m]).
    mutating func f7(_ digit: UInt8, _ m: X86Mem, w: Bool = true) { rm([0xF7], w: w, reg: digit, m) }
    /// The F7 group on a register: /3 neg, /6 div, /7 idiv.
    mutating func f7(_ digit: UInt8, _ r: X86Reg, w: Bool = true) { rr([0xF7], w: w, reg: digit, rm: r) }
    /// cqo (REX.W 99) / cdq (99): sign-extend rax into rdx.
    mutating func signExtendAccumulator(w: Bool) { if w { byte(0x48) }; byte(0x99) }
    /// setcc al; movzx eax, al  (0F 90+cc /0; 0F B6 C0)
    mutating func setccRAX(_ c: X86Cond) {
        byte(0x0F); byte(0x90 + c.rawValue); byte(0xC0)
        byte(0x0F); byte(0xB6); byte(0xC0)
    }
    /// inc qword [m]  (REX.W FF /0)
    mutating func inc(_ m: X86Mem) { rm([0xFF], w: true, reg: 0, m) }

    // MARK: control

    /// jcc rel32 to a label (0F 80+cc cd)
    mutating func jcc(_ c: X86Cond, _ l: Label) {
        byte(0x0F); byte(0x80 + c.rawValue)
        fixups.append((bytes.count, l.id)); imm32(0)
    }
    /// jmp rel32 to a label (E9 cd)
    mutating func jmp(_ l: Label) { byte(0xE9); fixups.append((bytes.count, l.id)); imm32(0) }
    /// jcc rel32 to an absolute address (within ±2 GiB of this code).
    mutating func jcc(_ c: X86Cond, absolute target: UInt) {
        byte(0x0F); byte(0x80 + c.rawValue); rel32(to: target)
    }
    /// jmp rel32 to an absolute address; returns the position of its rel32 (a link site).
    @discardableResult
    mutating func jmp(absolute target: UInt) -> Int {
        byte(0xE9); let at = bytes.count; rel32(to: target); return at
    }
    private mutating func rel32(to target: UInt) {
        let next = Int64(bitPattern: UInt64(origin)) &+ Int64(bytes.count + 4)
        let d = Int64(bitPattern: UInt64(target)) &- next
        precondition(d >= Int64(Int32.min) && d <= Int64(Int32.max), "rel32 out of range")
        imm32(Int32(d))
    }
    /// call r64 (FF /2), jmp r64 (FF /4)
    mutating func call(_ r: X86Reg) { rr([0xFF], w: false, reg: 2, rm: r) }
    mutating func jmp(_ r: X86Reg) { rr([0xFF], w: false, reg: 4, rm: r) }
    /// jmp qword [m]: an indirect jump through memory.
    mutating func jmp(_ m: X86Mem) { rm([0xFF], w: false, reg: 4, m) }
    /// dst = src * imm (64-bit).
    mutating func imul(_ dst: X86Reg, _ src: X86Reg, imm: Int32) { rr([0x69], w: true, reg: dst.rawValue, rm: src); imm32(imm) }
    mutating func push(_ r: X86Reg) { if r.high != 0 { byte(0x41) }; byte(0x50 + r.low) }
    mutating func pop(_ r: X86Reg) { if r.high != 0 { byte(0x41) }; byte(0x58 + r.low) }
    mutating func ret() { byte(0xC3) }
}
