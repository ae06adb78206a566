// Random instruction streams run as a guest kernel (TrapFuzzTests under trap, BinaryTranslation-
// HolesTests under bt): the generator, the supervisor CSRs the streams aim at, and the program
// around a stream, whose handler skips whatever traps so the stream runs on.

enum HostileKernel {
    /// A 64-bit LCG (Knuth's MMIX constants), upper bits: a fixed seed gives a fixed stream.
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 16
        }
    }

    /// sstatus, sie, stvec, scounteren, sscratch, sepc, scause, stval, sip, satp, time, mstatus.
    static let csrs: [UInt32] = [0x100, 0x104, 0x105, 0x106, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0xC01, 0x300]

    /// A CSR instruction (csrrw/s/c or an immediate form) on one of `csrs`, registers from `r`.
    static func csrAccess(_ r: UInt64) -> UInt32 {
        let csr = csrs[Int(r >> 8) % csrs.count]
        let funct3 = UInt32(1 + (r >> 16) % 3) | UInt32((r >> 20) & 4)
        return csr << 20 | UInt32((r >> 24) & 31) << 15 | funct3 << 12 | UInt32((r >> 30) & 31) << 7 | 0x73
    }

    /// `sd` of a random register to [random register + random offset], from `r`.
    static func store(_ r: UInt64) -> UInt32 {
        UInt32((r >> 8) & 0x7F) << 25 | UInt32((r >> 16) & 31) << 20 | UInt32((r >> 21) & 31) << 15
            | 3 << 12 | UInt32((r >> 26) & 31) << 7 | 0x23
    }

    /// The guest kernel: a handler that skips the trapping instruction (back to the start of the
    /// stream when the next pc lies outside it), sets SPP and returns; then `words`.
    static func source(_ words: [UInt32]) -> String {
        """
        la t6, handler
        csrw stvec, t6
        j stream
        .align 2
        handler:
        csrr t6, sepc
        addi t6, t6, 4
        csrw sepc, t6
        la t5, stream
        bltu t6, t5, restart
        la t5, end
        bltu t6, t5, back
        restart:
        la t6, stream
        csrw sepc, t6
        back:
        la t6, handler
        csrw stvec, t6
        li t6, 0x100
        csrs sstatus, t6
        sret
        stream:
        .word \(words.map { String($0) }.joined(separator: ", "))
        end:
        """
    }
}
