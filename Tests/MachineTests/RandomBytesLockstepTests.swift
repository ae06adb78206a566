import GuestTestSupport
import Foundation
import Testing
@testable import Machine

// Hostile code: a page of random words (raw, with a valid major opcode, or pairs of compressed
// halves) run in U-mode, with an M-mode handler that steps over whatever faults (illegal
// encodings, privileged instructions, misaligned and denied accesses, ecalls, jumps anywhere,
// stores into the code itself). PMP gives U-mode the RAM only, and the handler's page read and
// execute only, so the guest cannot lose its handler. The block engine and the native-code engine
// must agree with the interpreter at every block end, and no engine may crash.

enum RandomBytes {
    /// Major opcodes of 32-bit RV64GC instructions.
    static let opcodes: [UInt32] = [0x03, 0x07, 0x0F, 0x13, 0x17, 0x1B, 0x23, 0x27, 0x2F, 0x33, 0x37,
                                    0x3B, 0x43, 0x47, 0x4B, 0x4F, 0x53, 0x63, 0x67, 0x6F, 0x73]

    static func words(seed: UInt64, count: Int) -> [UInt32] {
        var r = SplitMix64(state: seed)
        var out: [UInt32] = []
        while out.count < count {
            let raw = UInt32(truncatingIfNeeded: r.next())
            switch r.below(5) {
            case 0: out.append(raw)
            case 1: out.append((raw & ~0x7F) | r.pick(opcodes))
            case 2, 3:
                // Most likely valid: immediates, upper immediates, and OP/OP-32 with a funct7
                // that exists (base, alternate, M).
                let op: UInt32 = r.pick([0x13, 0x1B, 0x37, 0x17, 0x33, 0x3B, 0x03, 0x23, 0x63])
                var w = (raw & ~0x7F) | op
                if op == 0x33 || op == 0x3B { w = (w & 0x01FF_FFFF) | UInt32(r.pick([0x00, 0x20, 0x01])) << 25 }
                out.append(w)
            default:
                // Two compressed halves (low bits 00, 01 or 10).
                let lo = (raw & 0xFFFC) | UInt32(r.below(3)), hi = ((raw >> 16) & 0xFFFC) | UInt32(r.below(3))
                out.append(lo | hi << 16)
            }
        }
        return out
    }

    /// The guest: PMP, FP on, random register values, then U-mode at the random page, which loops.
    /// The handler resumes two bytes on (so decoding restarts inside words), or at the start of
    /// the random code after a fetch fault.
    static func program(seed: UInt64) -> String {
        var r = SplitMix64(state: seed ^ 0x5EED)
        var lines = ["_start:", "    la t0, handler", "    csrw mtvec, t0",
                     // pmp0: the first page (prologue, handler) R+X; pmp1: 16 MiB of RAM, RWX (NAPOT).
                     "    li t0, (0x80000000 >> 2) | 0x1ff", "    csrw pmpaddr0, t0",
                     "    li t0, (0x80000000 >> 2) | 0x1fffff", "    csrw pmpaddr1, t0",
                     "    li t0, 0x1f1d", "    csrw pmpcfg0, t0",
                     "    li t0, 0x2000", "    csrs mstatus, t0",          // FS = initial
                     "    li t0, 0x1800", "    csrc mstatus, t0",          // MPP = U
                     "    la t0, code", "    csrw mepc, t0"]
        for reg in 1...31 {
            // Small values, addresses in RAM and arbitrary ones, so that some accesses succeed.
            let v: UInt64 = switch r.below(3) {
            case 0: UInt64(r.below(4096))
            case 1: 0x8001_0000 &+ UInt64(r.below(0x4000)) & ~7
            default: r.next()
            }
            lines.append("    li x\(reg), \(Int64(bitPattern: v))")
        }
        lines += ["    mret",
                  "    .balign 4",                               // mtvec's low bits are its mode
                  "handler:",
                  "    csrr t6, mcause",
                  "    li t5, 2",
                  "    bltu t6, t5, restart",
                  "    csrr t6, mepc",
                  "    addi t6, t6, 2",
                  "    csrw mepc, t6",
                  "    mret",
                  "restart:",
                  "    la t6, code",
                  "    csrw mepc, t6",
                  "    mret",
                  "    .balign 4096",
                  "code:"]
        lines += words(seed: seed, count: 1000).map { "    .word \($0)" }
        lines += ["    j code"]
        return lines.joined(separator: "\n")
    }
}

@Suite struct RandomBytesLockstepTests {
    @Test(arguments: [2, 3, 4, 6, 7, 8])
    func blockEngineAgreesOnRandomCode(_ seed: Int) throws {
        let image = try Guest.assemble(RandomBytes.program(seed: UInt64(seed)))
        #expect(Lockstep.compare(image, budget: 1_000_000, maxPoints: 3_000) > 10)
    }

    @Test(arguments: [2, 3, 4, 6, 7, 8])
    func nativeCodeEngineAgreesOnRandomCode(_ seed: Int) throws {
        guard JitLockstep.available else { return }
        let image = try Guest.assemble(RandomBytes.program(seed: UInt64(seed)))
        for threshold: UInt16 in [1, 3] {
            let r = JitLockstep.compare(image, threshold: threshold, budget: 1_000_000, maxPoints: 3_000)
            #expect(r.compared > 10)
            #expect((r.counters?.nativeInstructions ?? 0) > 1_000)
        }
    }

    /// Two harts run the same random page (each one's stores can rewrite the code the other is
    /// running), switching every 29 instructions.
    @Test(arguments: [201, 202])
    func twoHartsAgreeOnRandomCode(_ seed: Int) throws {
        let image = try Guest.assemble(RandomBytes.program(seed: UInt64(seed)))
        let smp: (inout MachineConfiguration) -> Void = { $0.harts = 2; $0.quantum = 29 }
        #expect(Lockstep.compare(image, configure: smp, budget: 1_000_000, maxPoints: 3_000) > 10)
        guard JitLockstep.available else { return }
        #expect(JitLockstep.compare(image, threshold: 2, configure: smp, budget: 1_000_000, maxPoints: 3_000).compared > 10)
    }
}
