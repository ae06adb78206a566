import Testing
@testable import RISCV

/// `inner` inside `count` of `open` and `close`.
func nested(_ open: String, _ inner: String, _ close: String, _ count: Int) -> String {
    String(repeating: open, count: count) + inner + String(repeating: close, count: count)
}

/// Little-endian 32-bit words of an assembled program.
func words(_ bytes: [UInt8]) -> [UInt32] {
    var out: [UInt32] = []
    var i = 0
    while i + 3 < bytes.count {
        var w: UInt32 = 0
        for k in 0..<4 { w |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
        out.append(w)
        i += 4
    }
    return out
}

@Suite struct AssemblerTests {
    @Test func basicInstructions() throws {
        let p = try Assembler.assemble("addi a0, a0, 1; ld ra, 8(sp)\n csrrw zero, satp, a0 # comment\nfadd.d fa0, fa1, fa2, rtz // c\n lr.w.aq a0, (a1)")
        #expect(words(p.bytes) == [0x0015_0513, 0x0081_3083, 0x1805_1073, 0x02c5_9553, 0x1405_a52f])
        #expect(p.base == 0x8000_0000)
    }

    @Test func labelsAndBranches() throws {
        let p = try Assembler.assemble("""
        start: beq a0, a1, 1f
               jal ra, start
        1:     j 1b
        """)
        #expect(words(p.bytes) == [0x00b5_0463, 0xffdf_f0ef, 0x0000_006f])
        #expect(p.symbols["start"] == 0x8000_0000)
    }

    @Test func numericLocalLabelsPickTheNearestDefinition() throws {
        let p = try Assembler.assemble("""
        1: nop
        1: j 1b
           j 1f
        1: j 1b
        """)
        // j 1b at 4 → 4 (offset 0); j 1f at 8 → 12 (offset 4); j 1b at 12 → 12 (offset 0)
        #expect(words(p.bytes) == [0x13, 0x6f, 0x0040_006f, 0x6f])
        #expect(p.symbols.keys.allSatisfy { !$0.contains("$") })
    }

    @Test func sectionsAndSymbols() throws {
        let p = try Assembler.assemble("""
        .globl _start
        _start: la a0, value
                ld a0, 0(a0)
                ret
        .data
        value:  .dword 42
        .equ ANSWER, 6 * 7
        """, options: AssemblerOptions(base: 0x8020_0000))
        #expect(p.sections.map(\.name) == [".text", ".data"])
        #expect(p.section(".text")?.address == 0x8020_0000)
        #expect(p.section(".data")?.address == 0x8020_0010)
        #expect(p.symbols["value"] == 0x8020_0010)
        #expect(p.symbols["ANSWER"] == 42)
        #expect(p.globals == ["_start"])
        #expect(p.bytes.count == 0x18)
        // The flat image has the gap filled and the data in place.
        #expect(Array(p.bytes[0x10..<0x18]) == [42, 0, 0, 0, 0, 0, 0, 0])
        // auipc a0, 0; addi a0, a0, 16
        #expect(words(p.bytes).prefix(2) == [0x0000_0517, 0x0105_0513])
    }

    /// `.` in an `.equ`/`.set` is where the definition stands, not where the symbol is used, and
    /// a symbol defined from it is an address in the symbol table, as labels are.
    @Test func locationCounterInAnEquateIsWhereItStands() throws {
        let p = try Assembler.assemble("""
            nop
        .equ X, .
            nop
        .set Y, . + 8
        Z = .
            nop
            .dword X, Y, Z, later
        .equ W, . - X
        .equ LATER, later
            .dword W, LATER
        later:
        """)
        #expect(p.symbols["X"] == 0x8000_0004)
        #expect(p.symbols["Y"] == 0x8000_0010)
        #expect(p.symbols["Z"] == 0x8000_0008)
        #expect(p.symbols["W"] == 0x28)
        #expect(p.symbols["LATER"] == 0x8000_003c)
        #expect(p.symbols.keys.sorted() == ["LATER", "W", "X", "Y", "Z", "later"])
        let dwords = stride(from: 12, to: p.bytes.count, by: 8).map { i in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(p.bytes[i + $1]) << (8 * UInt64($1)) }
        }
        #expect(dwords == [0x8000_0004, 0x8000_0010, 0x8000_0008, 0x8000_003c, 0x28, 0x8000_003c])
        // A branch to it is relative to the branch: beq a0, a1, -4.
        #expect(words(try Assembler.bytes("nop\n.equ X, .\nnop\nbeq a0, a1, X")) == [0x13, 0x13, 0xfeb5_0ee3])
    }

    /// A redefined `.set` symbol: each use takes the definition in force where it stands (a use
    /// before any definition the first), and the symbol table lists the last, as in clang.
    @Test func redefinedSymbolIsTheDefinitionInForce() throws {
        let p = try Assembler.assemble("""
            .word X
        .set X, 1
            .word X
        .equ X, 2
            .word X
        X = X + 1
            .word X
        .set Y, .
            .word Y
        .set Y, .
            .word Y
        """)
        #expect(words(p.bytes) == [1, 1, 2, 3, 0x8000_0010, 0x8000_0014])
        #expect(p.symbols["X"] == 3)
        #expect(p.symbols["Y"] == 0x8000_0014)
        #expect(p.symbols.keys.sorted() == ["X", "Y"])
        // A repeat counting with .set.
        #expect(try Assembler.bytes(".set I, 0\n.rept 3\n.byte I\n.set I, I + 1\n.endr\n.byte I") == [0, 1, 2, 3])
        // A use of a later definition of itself is reported by its name.
        #expect(throws: AssemblyError.self) { try Assembler.bytes(".set X, 1\n.set X, Y\n.set Y, X\n.word Y") }
    }

    /// `.equiv` is `.equ` for a name defined once: the same value, with `.` where the definition
    /// stands and uses before it allowed, but no other definition of the name before or after it.
    @Test func equivDefinesANameOnce() throws {
        let p = try Assembler.assemble("""
            .word EARLY
            nop
        .equiv HERE, .
        .EQUIV EARLY, 6 * 7
            .word EARLY, HERE
        .ifdef EARLY
            .byte 1
        .endif
        """)
        #expect(p.symbols["HERE"] == 0x8000_0008)
        #expect(p.symbols["EARLY"] == 42)
        #expect(Array(p.bytes[0..<4]) == [42, 0, 0, 0])
        #expect(Array(p.bytes[8...]) == [42, 0, 0, 0, 0x08, 0, 0, 0x80, 1])
    }

    @Test func explicitSectionAddresses() throws {
        let p = try Assembler.assemble(".text\nnop\n.data\n.word 1", options: AssemblerOptions(sectionAddresses: [".data": 0x8000_1000]))
        #expect(p.section(".data")?.address == 0x8000_1000)
        #expect(p.bytes.count == 0x1004)
    }

    @Test func overlappingSectionsAreAnError() {
        #expect(throws: AssemblyError.self) {
            try Assembler.assemble(".text\nnop\nnop\n.data\n.word 1", options: AssemblerOptions(sectionAddresses: [".data": 0x8000_0004]))
        }
        #expect(throws: AssemblyError.self) {
            try Assembler.assemble(".text\nnop\n.data\n.word 1", options: AssemblerOptions(sectionAddresses: [".data": 0x1_0000_0000]))
        }
        #expect(throws: AssemblyError.self) {
            try Assembler.assemble("nop\nnop", options: AssemblerOptions(base: UInt64.max - 3))
        }
        #expect(throws: AssemblyError.self) {
            try Assembler.assemble("nop\n.data\n.byte 1", options: AssemblerOptions(base: UInt64.max - 7))
        }
    }

    @Test func explicitCompressedMnemonics() throws {
        // Always 16 bits, with or without .option rvc, and to labels too.
        #expect(try Assembler.bytes("c.addi a0, 1") == [0x05, 0x05])
        #expect(try Assembler.bytes("c.addi16sp sp, 16") == [0x41, 0x61])  // not c.addi sp, 16
        #expect(try Assembler.bytes("c.lwsp ra, 12(sp)\nc.unimp") == [0xb2, 0x40, 0, 0])
        #expect(try Assembler.bytes("top: c.j top") == [0x01, 0xa0])
    }

    @Test func compressionIsOptIn() throws {
        #expect(try Assembler.bytes("addi a0, a0, 1").count == 4)
        #expect(try Assembler.bytes(".option rvc\naddi a0, a0, 1") == [0x05, 0x05])
        #expect(try Assembler.bytes("addi a0, a0, 1", options: AssemblerOptions(compressed: true)) == [0x05, 0x05])
        #expect(try Assembler.bytes(".option rvc\n.option norvc\naddi a0, a0, 1").count == 4)
    }

    @Test func compressedJumpsGrowWhenOutOfReach() throws {
        // c.beqz reaches ±256 bytes; the first branch fits, the second must become a 4-byte beq.
        let p = try Assembler.bytes(".option rvc\nbeqz a0, near\nbeqz a0, far\nnear: .zero 300\nfar: nop")
        let first = Decoder.decode(UInt32(p[0]) | UInt32(p[1]) << 8)
        #expect(first.opcode == .beq && first.length == 2 && first.imm == 6)
        let second = Decoder.decode(words(Array(p[2..<6]))[0])
        #expect(second.opcode == .beq && second.length == 4 && second.imm == 304)
    }

    @Test func loadImmediateSequencesCompute() throws {
        // Evaluate each li sequence symbolically and check it produces the constant.
        for value: Int64 in [0, -1, 0x7fff_ffff, 0x8000_0000, 0x1234_5678_9abc_def0, .min, .max, 0xfff, -2049, 0x7ff_ffff_f800] {
            var a0: Int64 = 0
            for inst in LoadImmediate.instructions(rd: 10, value: value) {
                let src: Int64 = inst.rs1 == 0 ? 0 : a0
                switch inst.opcode {
                case .lui: a0 = Int64(inst.imm)
                case .addi: a0 = src &+ Int64(inst.imm)
                case .addiw: a0 = Int64(Int32(truncatingIfNeeded: src &+ Int64(inst.imm)))
                case .slli: a0 = src << Int64(inst.imm)
                case .srli: a0 = Int64(bitPattern: UInt64(bitPattern: src) >> UInt64(inst.imm))
                case .xori: a0 = src ^ Int64(inst.imm)
                default: Issue.record("unexpected \(inst.opcode)")
                }
            }
            #expect(a0 == value, "li \(value)")
            #expect(LoadImmediate.instructions(rd: 10, value: value).count <= 8)
        }
    }

    @Test func expressionsFollowGNUPrecedence() throws {
        func value(_ e: String) throws -> Int64 {
            let p = try Assembler.assemble(".equ X, \(e)")
            return Int64(bitPattern: p.symbols["X"]!)
        }
        #expect(try value("1 + 2 * 3") == 7)
        #expect(try value("1 + 2 & 3") == 3)   // | & ^ bind tighter than + -
        #expect(try value("(1 + 2) & 3") == 3)
        #expect(try value("-8 >> 1") == Int64(bitPattern: 0x7fff_ffff_ffff_fffc))
        #expect(try value("~0 << 4") == -16)
        #expect(try value("'A' + 1") == 66)
        #expect(try value("0b101 | 0x10 | 010") == 0b1_1101)
        #expect(try value("%hi(0x12345678)") == 0x12345)
        #expect(try value("%lo(0x12345fff)") == -1)
    }

    @Test func numbersAndShiftsUpTo64Bits() throws {
        let b = try Assembler.bytes("""
            .dword -9223372036854775808, 18446744073709551615, 0xffffffffffffffff
            .dword 1 << 63, -1 >> 63, 1 << 0, -(9223372036854775809)
            """)
        let dwords = stride(from: 0, to: b.count, by: 8).map { i in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * UInt64($1)) }
        }
        #expect(dwords == [1 << 63, .max, .max, 1 << 63, 1, 1, 0x7fff_ffff_ffff_ffff])
    }

    @Test func repeatBlocks() throws {
        let b = try Assembler.bytes(".rept 2\n.rept 3\n.byte 1\n.endr\n.byte 2\n.endr\n.rept 0\n.byte 9\n.endr")
        #expect(b == [1, 1, 1, 2, 1, 1, 1, 2])
    }

    @Test func stringsAndData() throws {
        let b = try Assembler.bytes(".ascii \"ab\"\n.asciz \"c\\n\"\n.byte 1, -1\n.half 0x1234\n.align 2\n.word -1")
        #expect(b == [0x61, 0x62, 0x63, 0x0a, 0x00, 0x01, 0xff, 0x34, 0x12, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
    }

    @Test(arguments: [
        ("nop\naddi a0,x32, 1", 2, 9, "unknown register 'x32'"),
        ("addi a0, a0, 4096", 1, 14, "immediate 4096 out of range [-2048, 2047]"),
        // A number is told as the source wrote it: a lone one as written, an expression's value in
        // hex if it was written with hex numbers (and the bounds with it).
        ("addi a0, a0, 0x1000", 1, 14, "immediate 0x1000 out of range [-0x800, 0x7ff]"),
        ("addi a0, a0, 0X1000", 1, 14, "immediate 0X1000 out of range [-0x800, 0x7ff]"),
        ("addi a0, a0, -0x801", 1, 14, "immediate -0x801 out of range [-0x800, 0x7ff]"),
        ("addi a0, a0, 0x800 + 2048", 1, 14, "immediate 0x1000 out of range [-0x800, 0x7ff]"),
        ("addi a0, a0, 0b100000000000", 1, 14, "immediate 0b100000000000 out of range [-2048, 2047]"),
        ("slli a0, a0, 0x40", 1, 14, "shift amount 0x40 out of range [0, 0x3f]"),
        ("lui a0, 0x100000", 1, 9, "immediate 0x100000 out of range [0, 0xfffff]"),
        ("csrr a0, 0x1000", 1, 10, "CSR number 0x1000 out of range [0, 0xfff]"),
        ("csrrwi a0, mstatus, 0x20", 1, 21, "immediate 0x20 out of range [0, 0x1f]"),
        (".byte 1, 0x100", 1, 1, "value 0x100 does not fit in 1 byte"),
        ("beq a0, a1, 0x3", 1, 13, "target offset 0x3 is not a multiple of 2"),
        ("beq a0, a1, 0x2000", 1, 13, "target out of range: offset 0x2000 not in [-0x1000, 0xffe]"),
        (".dword 1 << 0x40", 1, 10, "shift amount 0x40 out of range [0, 0x3f]"),
        (".balign 0x30", 1, 1, "alignment 0x30 is not a power of two"),
        (".zero 0x4000001", 1, 7, "size 0x4000001 out of range"),
        (".rept 0x100000000\n.endr", 1, 1, "repeat count 0x100000000 out of range"),
        // A distance to a label is no number of the source's: in decimal.
        ("beq a0, a1, far + 0x11\nfar:", 1, 13, "target offset 21 is not a multiple of 2"),
        ("  frobnicate a0", 1, 3, "unknown instruction 'frobnicate'"),
        ("addi a0, a0", 1, 1, "'addi' expects 3 operands, got 2"),
        ("j nowhere", 1, 3, "undefined symbol 'nowhere'"),
        ("x: nop\nx: nop", 2, 1, "symbol 'x' is already defined"),
        // `.equiv` defines a name once: nothing may define it before or after (as in clang).
        (".equiv x, 1\n.equiv x, 1", 2, 1, "symbol 'x' is already defined"),
        (".equ x, 1\n.equiv x, 2", 2, 1, "symbol 'x' is already defined"),
        ("x = 1\n.equiv x, 2", 2, 1, "symbol 'x' is already defined"),
        ("x: nop\n.equiv x, 2", 2, 1, "symbol 'x' is already defined"),
        (".equiv x, 1\nx: nop", 2, 1, "symbol 'x' is already defined"),
        (".equiv x, 1\n.set x, 2", 2, 1, "symbol 'x' is already defined by '.equiv'"),
        (".equiv x, 1\n .equ x, 2", 2, 2, "symbol 'x' is already defined by '.equiv'"),
        (".equiv x, 1\nx = 2", 2, 1, "symbol 'x' is already defined by '.equiv'"),
        (".rept 2\n.equiv x, 1\n.endr", 2, 1, "symbol 'x' is already defined"),
        (".equiv x", 1, 1, "'.equiv' expects 2 operands, got 1"),
        ("slli a0, a0, 64", 1, 14, "shift amount 64 out of range [0, 63]"),
        ("csrr a0, nosuchcsr", 1, 10, "unknown CSR 'nosuchcsr'"),
        ("csrr a0, cycleh", 1, 10, "system register 'cycleh' is RV32 only"),
        ("fadd.s a0, fa1, fa2", 1, 8, "expected a floating-point register, got 'a0'"),
        ("beq a0, a1, 3", 1, 13, "target offset 3 is not a multiple of 2"),
        ("ld a0, 8[sp]", 1, 9, "unexpected character '['"),
        ("nop\u{0}", 1, 4, "unexpected character '\\x00'"),
        ("nop \u{1b}[31m", 1, 5, "unexpected character '\\x1b'"),
        ("addi a0, a0, 1 \u{e9}", 1, 16, "unexpected character '\\xc3'"),
        ("sd a0, data", 1, 1, "'sd' expects 3 operands, got 2"),
        ("lr.w a0, a1", 1, 10, "expected a memory operand 'offset(register)', got 'a1'"),
        ("j 1b", 1, 3, "no earlier definition of local label 1"),
        ("j 1f\nnop", 1, 3, "local label '1f' is not defined later"),
        (".frob 1", 1, 1, "unknown directive '.frob'"),
        ("li a0, later\nlater: nop", 1, 8, "'li' needs a constant: 'later' is not a constant (undefined here)"),
        ("lr.w a0, 4(a1)", 1, 10, "this instruction takes no offset: expected '(register)'"),
        ("fence rw, x", 1, 11, "expected a fence set (a subsequence of 'iorw', or 0), got 'x'"),
        (".option frob", 1, 9, "unknown option 'frob' (expected rvc, norvc, push, pop, relax, norelax)"),
        ("addi a0, a0, 1 +", 1, 17, "expected an expression, got 'end of statement'"),
        (".ascii \"abc", 1, 8, "unterminated string"),
        (".rept 2\nnop", 1, 1, "'.rept' without '.endr'"),
        ("nop\n.endr", 2, 1, "'.endr' without '.rept'"),
        ("x: .rept 2\nnop\n.endr", 1, 4, "'.rept' must begin its statement (put a label before it on its own line)"),
        (".rept 1000\n.rept 1000\n.rept 1000\nnop\n.endr\n.endr\n.endr", 1, 1, "'.rept' expands to more than 1000000 statements"),
        ("1: li a0, 1b", 1, 11, "'li' needs a constant: local label 1 is not a constant"),
        (".equ X, .\nli a0, X", 2, 8, "'li' needs a constant: '.' is not a constant"),
        (".macro m a\nnop\n", 1, 1, "'.macro' without '.endm'"),
        (".endm", 1, 1, "'.endm' without '.macro'"),
        (".macro m a\naddi \\a, \\a, 1\n.endm\nm", 4, 1, "missing argument 'a' to macro 'm'"),
        (".macro m a\naddi \\b, a0, 1\n.endm\nm a0", 2, 6, "unknown macro parameter '\\b'"),
        (".macro m\nm\n.endm\nm", 2, 1, "macro 'm' nests too deeply (recursive?)"),
        (".if 1\nnop", 1, 1, "'.if' without '.endif'"),
        (".else", 1, 1, "'.else' without '.if'"),
        (".if 1\n.else\n.else\n.endif", 3, 1, "second '.else' for one '.if'"),
        (".if later\n.endif\nlater:", 1, 5, "'later' is not a constant (undefined here)"),
        ("li a0, 1.5", 1, 8, "a floating-point number is allowed only in .float and .double"),
        (".double x", 1, 9, "expected a number, got 'x'"),
        ("c.addi a0, 100", 1, 12, "operands do not fit 'c.addi'"),
        ("c.lw a0, 4(a6)", 1, 10, "operands do not fit 'c.lw'"),
        ("c.addi16sp a0, 16", 1, 12, "'c.addi16sp' needs sp here"),
        ("c.j far\n.zero 4096\nfar: nop", 1, 5, "operands do not fit 'c.j'"),
        ("la a0, %hi(x)\nx:", 1, 8, "%hi: value 0x80000008 is out of range of a sign-extended 32-bit address"),
        ("li a0, -9223372036854775809", 1, 8, "number '-9223372036854775809' does not fit in 64 bits"),
        (".dword 18446744073709551616", 1, 8, "number '18446744073709551616' does not fit in 64 bits"),
        ("li a0, 1 << 64", 1, 8, "'li' needs a constant: shift amount 64 out of range [0, 63]"),
        (".dword 1 >> -1", 1, 10, "shift amount -1 out of range [0, 63]"),
        // An equate of numbers alone is evaluated where it stands, used or not (as clang does).
        (".equ X, 1 << 64", 1, 11, "shift amount 64 out of range [0, 63]"),
        ("X = 1 / 0", 1, 7, "division by zero"),
        (nested(".rept 1\n", "nop", "\n.endr", 300), 257, 1, "blocks nested too deeply (more than 256 of .rept, .if and macros)"),
        (nested(".if 1\n", "nop", "\n.endif", 300), 257, 1, "blocks nested too deeply (more than 256 of .rept, .if and macros)"),
        // 256 levels at most: the 256th '-' or '(' would put the 1 below them.
        ("li a0, " + nested("-", "1", "", 300), 1, 263, "expression nested too deeply (more than 256 levels)"),
        ("li a0, " + nested("(", "1", ")", 300), 1, 263, "expression nested too deeply (more than 256 levels)"),
    ] as [(String, Int, Int, String)])
    func errorsCarryLineAndColumn(_ source: String, _ line: Int, _ column: Int, _ message: String) {
        do {
            _ = try Assembler.assemble(source)
            Issue.record("'\(source)' assembled")
        } catch {
            #expect(error == AssemblyError(line: line, column: column, message: message))
        }
    }

    @Test func errorDescriptionIsCompilerStyle() {
        #expect(AssemblyError(line: 2, column: 9, message: "unknown register 'x32'").description == "2:9: unknown register 'x32'")
    }
}
