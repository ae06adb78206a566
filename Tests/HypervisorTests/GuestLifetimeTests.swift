// A closed VM gives back everything it held: its machine (and so its RAM window's owner), its
// technique and its private host. Every mode, with and without hooks, since hooks and techniques
// are where reference cycles would hide.
import Machine
import Testing
@testable import Hypervisor

@Suite struct GuestLifetimeTests {
    @Test(arguments: [ExecutionMode.native, .interpret, .trap, .bt, .pv])
    func aClosedGuestReleasesItsMachine(mode: ExecutionMode) throws {
        weak var machine: Machine?
        weak var guest: Guest?
        weak var host: Host?
        do {
            let source = mode == .pv ? ParavirtualTechniqueTests.pvMacros + "\n" + TestKernels.hello("bye")
                                     : TestKernels.hello("bye")
            let g = try Guest(TestKernels.configuration(source, mode: mode))
            _ = g.events.add(.trap) { _ in .proceed }
            _ = g.run(maxInstructions: 1_000_000)
            #expect(g.consoleText == "bye\n")
            machine = g.machine
            guest = g
            host = g.host
            g.close()
        }
        #expect(guest == nil, "the guest itself")
        #expect(machine == nil, "its machine")
        #expect(host == nil, "its private host")
    }

    @Test func aGuestRemovedFromASharedHostIsReleased() throws {
        let host = Host(HostConfiguration(memory: 64 << 20))
        defer { host.close() }
        weak var machine: Machine?
        do {
            let g = try host.createGuest(TestKernels.configuration(TestKernels.hello("one"), mode: .interpret))
            _ = host.run(maxInstructions: 1_000_000)
            machine = g.machine
            g.close()
        }
        #expect(machine == nil)
        #expect(host.guests.isEmpty)
    }
}
