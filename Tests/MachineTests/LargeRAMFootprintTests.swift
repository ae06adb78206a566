#if os(Linux)
import Foundation
import Testing
import GuestTestSupport
@testable import Machine

/// Guest RAM costs host memory only where it is used, and so do the machine's tables with one
/// entry per RAM page (decoded code, watchpoint and MMIO flags): a 1 TiB machine has 2^28 pages.
/// Each mapping is measured by itself (mincore), since other tests run beside this one.
@Suite struct LargeRAMFootprintTests {
    @Test func aTerabyteMachineCostsLittleUntilItsMemoryIsUsed() throws {
        var configuration = MachineConfiguration()
        configuration.ramSize = 1 << 40
        let machine = Machine(configuration)
        // Programs at both ends of RAM, a watchpoint, and a run: only their pages are touched.
        let loop: [UInt8] = [0x6f, 0x00, 0x00, 0x00]   // j . (jal x0, 0)
        #expect(machine.loadPhysical(loop, at: configuration.ramBase))
        #expect(machine.loadPhysical(loop, at: configuration.ramBase + (1 << 40) - 4096))
        machine.watchpoints = [Watchpoint(base: configuration.ramBase + (1 << 39), size: 8, access: .write)]
        machine.setPC(configuration.ramBase, hart: 0)
        _ = machine.run(maxInstructions: 1000)
        machine.watchpoints = []

        let pages = Int(configuration.ramSize / 4096)
        let ram = try #require(machine.hostPointer(physical: configuration.ramBase, count: configuration.ramSize))
        // (The machine owns the mappings: it must outlive the measuring.)
        let held = withExtendedLifetime(machine) { [
            ("guest RAM", residentBytes(in: ram, count: Int(configuration.ramSize))),
            ("the decoded-code page table", residentBytes(in: machine.code.pages, count: pages * MemoryLayout<UnsafeMutableRawPointer?>.stride)),
            ("the watchpoint page flags", residentBytes(in: machine.watchPages, count: pages)),
            ("the MMIO page flags", residentBytes(in: machine.bus.overlay, count: pages)),
        ] }
        for (what, bytes) in held {
            // Two 2 MiB huge pages of RAM at most; a table page or two for each end.
            #expect(bytes <= 4 << 20, "\(what) of a 1 TiB machine holds \(bytes >> 10) KiB of host memory")
        }
        #expect(held[0].1 > 0, "the loaded pages are resident")
    }
}
#endif
