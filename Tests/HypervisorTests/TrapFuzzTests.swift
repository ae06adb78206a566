import Testing
import Machine
import RISCV
@testable import Hypervisor

/// Random instruction streams as a deprivileged guest kernel: random CSR writes (satp with random
/// roots in its RAM, whose random contents become page tables), sret, sfence.vma, stores over its
/// own tables. The host must survive, the shadows stay coherent, and nothing outside the guest's RAM
/// may change (the shadow pool is the VMM's, and the test compares the rest of the machine).
@Suite struct TrapFuzzTests {
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 16
        }
    }

    @Test(arguments: 0..<24)
    func randomGuestsStayInside(seed: Int) throws {
        var rng = LCG(state: UInt64(seed) &* 0x9E37_79B9 &+ 1)
        // Half real privileged instructions (CSR ops on supervisor CSRs, sret, sfence.vma) with
        // random registers, half random words; registers start random within guest RAM.
        let csrs: [UInt32] = [0x100, 0x104, 0x105, 0x106, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0xC01, 0x300]
        var words: [UInt32] = []
        for _ in 0..<4096 {
            let r = rng.next()
            switch r % 4 {
            case 0:
                let csr = csrs[Int(r >> 8) % csrs.count]
                let funct3 = UInt32(1 + (r >> 16) % 3) | UInt32((r >> 20) & 4)
                words.append(csr << 20 | UInt32((r >> 24) & 31) << 15 | funct3 << 12 | UInt32((r >> 30) & 31) << 7 | 0x73)
            case 1:
                words.append([0x1020_0073, 0x1200_0073, 0x1200_0073 | UInt32((r >> 12) & 0x3FF) << 15, 0x0000_0073][Int(r >> 8) % 4])  // sret, sfence.vma (two forms), ecall
            case 2:
                // A store of a random register to [random register + small offset].
                words.append(UInt32((r >> 8) & 0x7F) << 25 | UInt32((r >> 16) & 31) << 20 | UInt32((r >> 21) & 31) << 15
                             | 3 << 12 | UInt32((r >> 26) & 31) << 7 | 0x23)
            default:
                words.append(UInt32(truncatingIfNeeded: r))
            }
        }
        // A handler that skips the faulting instruction and returns to the guest kernel, so the
        // stream runs on (unless it rewrites stvec itself).
        let source = """
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
        let rig = try ShadowRig(source)
        // Random contents in the rest of guest RAM: whatever a random satp points at is a table.
        var fill = [UInt8](repeating: 0, count: 1 << 20)
        for i in stride(from: 0, to: fill.count, by: 8) {
            var v = rng.next()
            // Make some words look like valid PTEs into (and out of) the guest's RAM.
            if v % 3 == 0 { v = ((0x8000_0000 + (v % 0x20_0000)) >> 12) << 10 | (v & 0xFF) | 1 }
            for b in 0..<8 { fill[i + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(b))) }
        }
        // Every page maps the guest's first GiB at VA 0x80000000 as a kernel gigapage (index 2),
        // so code keeps running whatever random root satp names, and its stores land anywhere.
        for page in stride(from: 0, to: fill.count, by: 4096) {
            let leaf = ShadowRig.pte(0x8000_0000, ShadowRig.kernelRWX)
            for b in 0..<8 { fill[page + 16 + b] = UInt8(truncatingIfNeeded: leaf >> (8 * UInt64(b))) }
        }
        rig.machine.loadPhysical(fill, at: 0x8010_0000)
        let outside = rig.machine.readPhysical(at: 0x8020_0000, count: 0x10_0000)!
        rig.start()
        for r in 1..<31 { rig.machine.setRegister(r, 0x8000_0000 + rng.next() % 0x20_0000) }
        // Some registers hold Sv39 satp values whose roots are random pages (random tables).
        for r in 18..<24 {
            let root = 0x8010_0000 + (rng.next() % 256) * 4096
            rig.machine.setRegister(r, ShadowRig.satp(root, asid: rng.next() % 4))
        }
        _ = rig.run(20_000)
        #expect(rig.monitor.counters.traps > 0)
        #expect(rig.machine.readPhysical(at: 0x8020_0000, count: 0x10_0000)! == outside,
                "the machine RAM between the guest and the pool is untouched")
        #expect(rig.shadow.checkCoherence() == [])
    }
}
