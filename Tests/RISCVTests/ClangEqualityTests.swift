import GuestTestSupport
import Foundation
import Testing
@testable import RISCV

/// vmlab's assembler against clang's integrated assembler (linked with ld.lld at the same section
/// addresses, no relaxation): the same source must give the same bytes, section by section.
@Suite(.enabled(if: Toolchain.available, "needs clang, ld.lld, llvm-objcopy and llvm-objdump (looked beside swift, then on PATH)")) struct ClangEqualityTests {
    static func compare(_ source: String, options: AssemblerOptions = AssemblerOptions(),
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        guard Toolchain.available else {
            print("skipping: clang/ld.lld/llvm-objcopy not found (looked beside swift, then on PATH)")
            return
        }
        let ours = try Assembler.assemble(source, options: options)
        let sections = ours.sections.filter { !$0.bytes.isEmpty }
        let theirs = try Toolchain.clangSections(source, sections: sections.map { ($0.name, $0.address) })
        for s in sections {
            let clangBytes = theirs[s.name] ?? []
            guard s.bytes != clangBytes else { continue }
            let at = zip(s.bytes, clangBytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(s.bytes.count, clangBytes.count)
            let mine = s.bytes[at..<min(at + 8, s.bytes.count)].map { String($0, radix: 16) }
            let clangs = clangBytes[at..<min(at + 8, clangBytes.count)].map { String($0, radix: 16) }
            Issue.record("section \(s.name) differs at offset \(at) (size \(s.bytes.count) vs \(clangBytes.count)): vmlab \(mine), clang \(clangs)",
                         sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [".option norvc", ".option rvc"])
    func baseInstructionsAndLabels(mode: String) throws {
        try Self.compare(mode + """

        .globl _start
        _start:
        1:  nop
            lui a0, 0x12345
            auipc t0, 0
            addi a0, a0, -2048
            slti a1, a2, 2047
            sltiu a1, a2, -1
            xori s0, s1, 0x7f
            ori t6, t5, -0x80
            andi x31, x30, 1
            slli a0, a0, 63
            srli a1, a1, 32
            srai a2, a2, 1
            slliw a3, a3, 31
            srliw a4, a4, 0
            sraiw a5, a5, 17
            add ra, sp, gp
            sub tp, t0, t1
            sll t2, s0, s1
            sltu fp, a0, a1
            addw a0, a1, a2
            subw a0, a1, a2
            sraw a0, a1, a2
            lb a0, -1(sp)
            lhu a0, 2047(a1)
            lwu a0, (a2)
            ld a0, 8(sp)
            sd ra, -8(sp)
            sb zero, 0(a0)
        loop:
            beq a0, a1, loop
            bne a0, a1, done
            blt a0, a1, .+8
            bge a0, a1, . - 4
            bltu a0, a1, 1f
            bgeu a0, a1, 1b
        1:  jal ra, loop
            jal done
            jalr ra, 12(a0)
            jalr t0
            jalr a0, a1, -4
        done:
            ecall
            ebreak
        """)
    }

    @Test(arguments: [".option norvc", ".option rvc"])
    func pseudoInstructions(mode: String) throws {
        try Self.compare(mode + """

        start:
            nop
            mv a0, a1
            not a0, a1
            neg a0, a1
            negw a0, a1
            sext.w a0, a1
            zext.b a0, a1
            seqz a0, a1
            snez a0, a1
            sltz a0, a1
            sgtz a0, a1
            beqz a0, start
            bnez a0, start
            blez a0, start
            bgez a0, start
            bltz a0, start
            bgtz a0, start
            bgt a0, a1, start
            ble a0, a1, start
            bgtu a0, a1, start
            bleu a0, a1, start
            j start
            jal start
            jr a0
            jalr a0
            ret
            call far
            call t0, far
            tail far
            la a0, data
            lla a1, data
            csrr a0, mstatus
            csrw mtvec, a0
            csrs mie, a1
            csrc mip, a2
            csrwi mscratch, 5
            csrsi sstatus, 2
            csrci sstatus, 31
            csrw sscratch, 7
            rdcycle a0
            rdtime a1
            rdinstret a2
            frcsr a0
            fscsr a1
            fscsr a0, a1
            frrm a0
            fsrm a0, a1
            frflags a0
            fsflags a1
            fmv.s fa0, fa1
            fabs.s fa0, fa1
            fneg.s fa0, fa1
            fmv.d fa0, fa1
            fabs.d fa0, fa1
            fneg.d fa0, fa1
            fence
            fence rw, w
            fence.tso
            fence.i
            sfence.vma
            sfence.vma a0
            sfence.vma a0, a1
            hfence.gvma
            hfence.vvma a0, a1
            unimp
        2:  auipc a1, %pcrel_hi(data)
            ld a1, %pcrel_lo(2b)(a1)
            sd a1, %pcrel_lo(2b)(a1)
            lw a0, data
            ld a1, data + 8
            lbu a2, data
            sw a0, data, t0
            sd a1, data + 8, t1
            flw fa0, data, t2
            fsd fa1, data, t3
        far:
            ret
        data:
            .dword 0x1122334455667788, 0
        """)
    }

    /// Absolute addressing needs a base that %hi can reach (lui sign-extends on RV64).
    @Test func absoluteHiLo() throws {
        try Self.compare("""
        .option norvc
            lui a0, %hi(data)
            addi a0, a0, %lo(data)
            ld a1, %lo(data)(a0)
            sd a1, %lo(data + 8)(a0)
            lui a2, %hi(0x7ffff7ff)
            ret
        data: .dword 1, 2
        """, options: AssemblerOptions(base: 0x1000_0000))
    }

    @Test func directivesAndExpressions() throws {
        try Self.compare("""
        .equ COUNT, 4
        .set MASK, (1 << COUNT) - 1
        SIZE = COUNT * 8 + 2
        .section .init, "ax", @progbits
        .option norvc
        .type start, @function
        start:
            li a0, COUNT
            li a1, MASK ^ 0x5
            li a2, ~MASK & 0xff
            li a3, SIZE / 3 % 5
            li a4, -SIZE >> 1
            li a5, 1 + 2 & 3
            li a6, 10 - 2 - 3
            .align 4
            addi a0, a0, 'A'
            .balign 8
        msg: .ascii "hi\\n", "there"
             .asciz "a\\tb\\0c\\x41\\101"
             .string "z"
            .align 2
            .byte 1, 2, -1, 255
            .half 0x1234, -2
            .word start, end - start, 0xdeadbeef
            .dword msg, -1
            .zero 3
            .space 2, 0x5a
            .p2align 3
        end:
        .rept 3
        1:  addi a0, a0, 1
            bnez a0, 1b
        .rept 2
            .byte 7
        .endr
            .align 2
        .endr
        .data
            .float 1.5, -2, 0.1, 3e10, 6.02e-23
            .double 2.5, -0.0, 1e-300, 12345678.875
        table:
            .dword start, end, table
            .word 7
        .section .rodata
            .byte 9
        .size start, end - start
        """)
    }

    @Test func compressedWithOptionRVC() throws {
        try Self.compare("""
        .option rvc
        top:
            addi a0, a0, 1
            addi sp, sp, -16
            addi sp, sp, 496
            addi a0, sp, 1020
            addi s0, sp, 4
            li a0, -32
            li a0, 31
            li a0, 32
            lui a0, 31
            lui a0, 0xfffe0
            lui sp, 1
            addiw a0, a0, -1
            sext.w a1, a1
            slli a0, a0, 1
            srli s0, s0, 63
            srai a5, a5, 3
            andi a0, a0, -32
            sub s0, s0, s1
            xor a0, a0, a1
            or a0, a1, a0
            and a5, a5, a4
            subw a0, a0, a1
            addw a0, a1, a0
            mv a0, a1
            add a0, a0, a1
            add ra, a1, ra
            ld a0, 0(sp)
            ld ra, 504(sp)
            lw a0, 252(sp)
            fld fa0, 8(sp)
            sd ra, 8(sp)
            sw a0, 4(sp)
            fsd fs0, 496(sp)
            ld a0, 8(a1)
            lw s1, 124(a5)
            fld fa5, 248(s0)
            sd a0, 16(a1)
            sw a0, 4(a1)
            fsd fa0, 8(a1)
            lw a0, 2(a1)
            ld a0, 4(sp)
            jr a0
            jalr a1
            ret
            ebreak
            nop
            beqz a0, top
            bnez s1, near
            beq zero, a2, near
            beqz a0, far
            j top
            j far
            jal top
            unimp
        near:
            .zero 300
            .balign 16
            .zero 2048
        far:
            bnez a0, near
            j top
            .align 3
            nop
            .align 3
        """)
    }

    @Test func macros() throws {
        try Self.compare("""
        .option norvc
        .macro SAVE reg, slot
            sd \\reg, (\\slot * 8)(sp)
        .endm
        .macro RESTORE reg, slot=0
            ld \\reg, (\\slot * 8)(sp)
        .endm
        .macro SPIN n
        1:  addi \\n, \\n, -1
            bnez \\n, 1b
        .endm
        .macro TWICE insn, a, b
            \\insn \\a, \\b, 1
            \\insn \\a, \\b, 2
        .endm
        entry:
            SAVE ra, 0
            SAVE s0, 1
            RESTORE ra
            RESTORE s0, 1
            SPIN a0
            SPIN t1
            TWICE addi, a0, a1
            TWICE slli, t0, t0
        .rept 2
            SAVE a0, 3
        .endr
        .macro PICK n
        .if \\n > 2
            li a0, \\n
        .else
            li a1, \\n
        .if \\n == 0
            nop
        .endif
        .endif
        .endm
            PICK 5
            PICK 1
            PICK 0
        .equ FEATURE, 1
        .ifdef FEATURE
            ebreak
        .endif
        .ifndef FEATURE
            ecall
        .else
            wfi
        .endif
        """)
    }

    /// `.` in `.equ`, `.set` and `=` is where the definition stands, in code that grows as branches
    /// relax and in data.
    @Test(arguments: [".option norvc", ".option rvc"])
    func equatesOfTheLocationCounter(mode: String) throws {
        try Self.compare(mode + """

        start:
            nop
        .equ AFTER_FIRST, .
            nop
        .set MIDDLE, . + 2 * 4
        here = .
            beq a0, a1, AFTER_FIRST
            beqz a0, FAR
            j here
            la a0, MIDDLE
            nop
        .equ LATER, later
        .equ SPAN, . - start
            .dword AFTER_FIRST, MIDDLE, here, SPAN, LATER
            .word . - AFTER_FIRST, FAR - here
        later:
            .zero 5000
        .equ FAR, .
            j here
        .data
        d0: .word 1
        .equ D, .
            .word 2
            .dword D, D - d0
        """)
    }

    /// A redefined `.equ`, `.set` or `=` symbol: each use takes the definition in force where it
    /// stands, a use before any definition the first one, in code that grows as branches relax.
    @Test(arguments: [".option norvc", ".option rvc"])
    func redefinedSymbols(mode: String) throws {
        try Self.compare(mode + """

        start:
            .word EARLY, TWICE
        .set EARLY, 1
            .word EARLY
        .set EARLY, 2
            .word EARLY
        .equ EARLY, EARLY + 1
            .word EARLY
        EARLY = EARLY * 10
            li a0, EARLY
            addi a1, a1, EARLY
        .set TWICE, 7
        .set TWICE, 8
        .set SUM, EARLY + TWICE
        .set EARLY, 0
            .word SUM, EARLY
        .set AT, .
            beq a0, a1, AT
            beqz a0, far
            .dword AT
        .set AT, .
            j AT
            .dword AT, AT - start
        .set AT, far
            .dword AT
        .set I, 0
        .rept 3
            .byte I
        .set I, I + 1
        .endr
            .byte I
            .zero 5000
        far:
        .set AT, .
            j AT
            .dword AT
        """)
    }

    /// `.equiv`: `.` is where the definition stands and uses may come before it, in code that
    /// grows as branches relax; and clang, too, refuses every other definition of the name.
    @Test(arguments: [".option norvc", ".option rvc"])
    func equivalences(mode: String) throws {
        try Self.compare(mode + """

        start:
            .word EARLY, LATER
            beqz a0, FAR
        .equiv HERE, .
            nop
        .equiv EARLY, 3 * 4
        .equiv SPAN, . - start
            j HERE
            li a0, EARLY
            .dword HERE, SPAN, FAR
        .equiv LATER, FAR - HERE
            .zero 5000
        .equiv FAR, .
            j HERE
        """)
        guard Toolchain.available else { return }
        for source in [".equiv x, 1\n.equiv x, 1", ".equ x, 1\n.equiv x, 2", "x: nop\n.equiv x, 2",
                       ".equiv x, 1\nx: nop", ".equiv x, 1\n.set x, 2", ".equiv x, 1\nx = 2"] {
            #expect(throws: (any Error).self, "clang accepts \(source)") {
                try Toolchain.clangSections(source, sections: [(".text", 0x8000_0000)])
            }
            #expect(throws: AssemblyError.self, "vmlab accepts \(source)") { try Assembler.assemble(source) }
        }
    }

    /// Branches beyond ±4 KiB become an inverted branch over a jal, compressed where possible.
    @Test func longBranches() throws {
        try Self.compare("""
        .option norvc
        back:
            beq a0, a1, far
            bltu a2, a3, far
            bge t0, zero, back
            bnez s0, near
        near:
            .zero 5000
        far:
            bgeu a0, a1, back
            blt a0, a1, far
        .option rvc
            beqz a0, far2
            bnez s1, far2
            beqz a0, back
            bge a0, a1, far2
            beqz a5, mid
            .zero 200
        mid:
            .zero 5000
        far2:
            bnez a0, back
            bltu a0, a1, mid
            nop
        """)
    }

    @Test func optionPushPopAndMixedAlignment() throws {
        try Self.compare("""
        .option norvc
            addi a0, a0, 1
        .option push
        .option rvc
            addi a0, a0, 1
            .align 3
            addi a0, a0, 2
        .option pop
            addi a0, a0, 3
            .align 4
            ret
        """)
    }

    /// `li` with constants chosen to exercise every branch of the search (LLVM's RISCVMatInt),
    /// compared one sequence at a time.
    @Test(arguments: [false, true])
    func loadImmediateMatchesClang(rvc: Bool) throws {
        guard Toolchain.available else {
            print("skipping: clang not found")
            return
        }
        var values: [Int64] = [0, 1, -1, 2047, -2048, 2048, -2049, 0x7ff, 0x800, 0xfff, 0x1000, 0x7fff_f7ff, 0x7fff_f800,
                               0x7fff_ffff, -0x8000_0000, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x17ff, 0x1800,
                               .max, .min, 0x7fff_ffff_ffff_f800, 0x0000_0fff_ffff_ffff, 0x0fff_0000_0000_0fff,
                               0x1234_5678_9abc_def0, -0x1234_5678_9abc_def0, Int64(bitPattern: 0x8000_0000_0000_0001), 0x5555_5555_5555_5555,
                               0xaaa, 0x3_8000_0000, 0x7_ffff_f800, 0x0000_8000_0000_0000, Int64(bitPattern: 0xff00_0000_0000_0000)]
        for shift in 0..<64 {
            let bit = Int64(1) << Int64(shift)
            values.append(bit)
            values.append(~bit)
            values.append(bit &- 1)
            values.append(Int64(bitPattern: UInt64.max << UInt64(shift)))
            values.append(Int64(0x7ff) << Int64(min(shift, 52)))
            values.append(Int64(0x12345) << Int64(min(shift, 44)) | 0x801)
        }
        var rng = SplitMix64(seed: 5)
        for _ in 0..<600 {
            let r = Int64(bitPattern: rng.next())
            values.append(r)
            values.append(r >> Int64(rng.next() % 64))
            values.append(r &<< Int64(rng.next() % 64))
            values.append(r & Int64(bitPattern: 0xffff_f000_0000_0fff))
        }
        let header = rvc ? ".option rvc\n" : ".option norvc\n"
        let source = header + values.map { "li a0, \($0)" }.joined(separator: "\n") + "\n"
        let ours = try Assembler.assemble(source)
        let theirs = try Toolchain.clangSections(source, sections: [(".text", ours.base)])[".text"] ?? []
        var at = 0
        for v in values {
            let one = try Assembler.bytes(header + "li a0, \(v)")
            let slice = Array(theirs[min(at, theirs.count)..<min(at + one.count, theirs.count)])
            if slice != one {
                Issue.record("li a0, \(v) (0x\(String(UInt64(bitPattern: v), radix: 16))): vmlab \(one), clang \(slice)")
                return
            }
            at += one.count
        }
        #expect(ours.bytes == theirs)
    }
}
