#if os(Linux)
import Foundation
import Testing
import GuestTestSupport
import Machine

/// Guest RAM costs host memory only where it is used, and so do the machine's tables with one
/// entry per RAM page (decoded code, watchpoint and MMIO flags): a 1 TiB machine has 2^28 pages.
@Suite struct LargeRAMFootprintTests {
    @Test func aTerabyteMachineCostsLittleUntilItsMemoryIsUsed() {
        var configuration = MachineConfiguration()
        configuration.ramSize = 1 << 40
        let before = residentBytes()
        do {
            let machine = Machine(configuration)
            // Programs at both ends of RAM, a watchpoint, and a run: only their pages are touched.
            let loop: [UInt8] = [0x6f, 0x00, 0x00, 0x00]   // j . (jal x0, 0)
            #expect(machine.loadPhysical(loop, at: configuration.ramBase))
            #expect(machine.loadPhysical(loop, at: configuration.ramBase + (1 << 40) - 4096))
            machine.watchpoints = [Watchpoint(base: configuration.ramBase + (1 << 39), size: 8, access: .write)]
            machine.setPC(configuration.ramBase, hart: 0)
            _ = machine.run(maxInstructions: 1000)
            machine.watchpoints = []
            let grown = residentBytes() - before
            #expect(grown < 64 << 20, "a 1 TiB machine holds \(grown >> 20) MiB of host memory")
        }
    }
}
#endif
