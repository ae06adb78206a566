// Small S-mode kernels, assembled in the tests, that the built-in SBI boots at 0x80200000 on a
// 4 MiB board: enough to exercise every path of the VMM without building a real kernel.
import Boot
import Hypervisor
import RISCV

enum TestKernels {
    /// SBI calls (SBI v2.0: a7 = extension, a6 = function).
    static let macros = """
        .equ SRST, 0x53525354
        .equ TIME, 0x54494D45
        .equ DATA, 0x80300000
    """

    /// Powers off with code `reason` (SRST shutdown; reason 1 "system failure" → code 1).
    static func shutdown(_ reason: Int) -> String {
        """
            li a7, SRST
            li a6, 0
            li a0, 0
            li a1, \(reason)
            ecall
        """
    }

    /// Prints `text` with the legacy console putchar, one call per byte.
    static func print(_ text: String) -> String {
        text.utf8.map { "    li a7, 1\n    li a0, \($0)\n    ecall\n" }.joined()
    }

    static func board(_ source: String, memory: UInt64 = 4 << 20) throws -> VirtBoardConfiguration {
        var b = VirtBoardConfiguration()
        b.memory = memory
        b.kernel = .bytes(try Assembler.bytes(macros + "\n" + source), name: "test-kernel")
        return b
    }

    static func configuration(_ source: String, mode: ExecutionMode, profile: CostProfile = .standard) throws -> GuestConfiguration {
        GuestConfiguration(mode: mode, profile: profile, board: try board(source))
    }

    /// Prints a greeting, makes a page fault-free loop of `iterations`, touches a device, and
    /// powers off with code 0.
    static func hello(_ text: String = "hello", iterations: Int = 1000) -> String {
        """
        _start:
            la t0, trap
            csrw stvec, t0
        \(print(text))
            li s0, \(iterations)
        1:  addi s0, s0, -1
            csrr t1, sscratch
            bnez s0, 1b
            li t0, 0x10000000
            lbu t1, 5(t0)           # UART line status: a device register access
            ebreak                  # an exception the kernel handles
        \(print("\n"))
        \(shutdown(0))
        .align 2
        trap:
            csrr t0, sepc
            addi t0, t0, 4
            csrw sepc, t0
            sret
        """
    }

    /// Counts down `iterations`, each time checking the 64-bit word at DATA: nonzero powers off
    /// with code 1 (a fault was seen), reaching zero with code 0. Also fails (code 1) when s1 becomes
    /// nonzero; a trap prints "T" and fails.
    static func watcher(iterations: Int = 20_000) -> String {
        """
        _start:
            la t0, trap
            csrw stvec, t0
            li s1, 0
            li s0, \(iterations)
            li s2, DATA
        1:  ld t1, 0(s2)
            bnez t1, fail
            bnez s1, fail
            csrr t3, sscratch       # a privileged instruction per iteration, for hooks
            addi s0, s0, -1
            bnez s0, 1b
        \(shutdown(0))
        fail:
        \(shutdown(1))
        .align 2
        trap:
        \(print("T"))
        \(shutdown(1))
        """
    }
}
