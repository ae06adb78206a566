import Testing
import Machine
import RISCV
@testable import Hypervisor

/// Random instruction streams as a deprivileged guest kernel: random CSR writes (satp with random
/// roots in its RAM, whose random contents become page tables), sret, sfence.vma, stores over its
/// own tables. The host must survive, the shadows stay coherent, and nothing outside the guest's RAM
/// may change (the shadow pool is the VMM's, and the test compares the rest of the machine).
@Suite struct TrapFuzzTests {
    @Test(arguments: 0..<24)
    func randomGuestsStayInside(seed: Int) throws {
        var rng = HostileKernel.LCG(state: UInt64(seed) &* 0x9E37_79B9 &+ 1)
        // Half real privileged instructions (CSR ops on supervisor CSRs, sret, sfence.vma) with
        // random registers, half random words; registers start random within guest RAM.
        var words: [UInt32] = []
        for _ in 0..<4096 {
            let r = rng.next()
            switch r % 4 {
            case 0:
                words.append(HostileKernel.csrAccess(r))
            case 1:
                words.append([0x1020_0073, 0x1200_0073, 0x1200_0073 | UInt32((r >> 12) & 0x3FF) << 15, 0x0000_0073][Int(r >> 8) % 4])  // sret, sfence.vma (two forms), ecall
            case 2:
                words.append(HostileKernel.store(r))
            default:
                words.append(UInt32(truncatingIfNeeded: r))
            }
        }
        // A handler that skips the faulting instruction and returns to the guest kernel, so the
        // stream runs on (unless it rewrites stvec itself).
        let source = HostileKernel.source(words)
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
