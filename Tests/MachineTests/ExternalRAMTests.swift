import Testing
import Machine

// External RAM: a guest machine whose RAM is a window of a host machine's RAM. Both see the same
// bytes; the guest cannot reach outside its window; resetting the guest clears only the window;
// decoded code stays coherent when the host says what it wrote.

@Suite struct ExternalRAMTests {
    let host: Machine
    let windowBase: UInt64 = 0x8100_0000          // host-physical
    let windowSize: UInt64 = 16 << 20

    init() {
        var c = MachineConfiguration()
        c.ramSize = 64 << 20
        host = Machine(c)
    }

    /// A guest rig (test devices attached) whose RAM is host RAM at `windowBase`.
    func guestRig() -> Guest.Rig {
        let pointer = host.hostPointer(physical: windowBase, count: windowSize)!
        let r = Guest.Rig {
            $0.ramSize = windowSize
            $0.ramBacking = ExternalRAM(pointer: pointer, owner: host.ramOwner)
        }
        r.machine.grantFullPMPAccess(hart: 0)
        return r
    }

    @Test func hostPointerCoversOnlyRAM() {
        #expect(host.hostPointer(physical: 0x8000_0000, count: 64 << 20) != nil)
        #expect(host.hostPointer(physical: 0x8000_0000, count: (64 << 20) + 1) == nil)
        #expect(host.hostPointer(physical: 0x7FFF_F000, count: 8) == nil)
        #expect(host.hostPointer(physical: 0x1000_0000, count: 1) == nil)
    }

    @Test func writesThroughEitherMachineAreSeenByTheOther() throws {
        let g = guestRig().machine
        g.loadPhysical([1, 2, 3], at: 0x8000_0010)
        #expect(host.readPhysical(at: windowBase + 0x10, count: 3) == [1, 2, 3])
        host.loadPhysical([9, 8], at: windowBase + 0x20)
        #expect(g.readPhysical(at: 0x8000_0020, count: 2) == [9, 8])
        // A guest program's stores land in host memory.
        let r = guestRig()
        try r.start("li t0, 0x80200000\n li a0, 0x5a\n sb a0, 0(t0)\n ecall")
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(host.readPhysical(at: windowBase + 0x20_0000, count: 1) == [0x5A])
    }

    @Test func theGuestCannotReachOutsideItsWindow() throws {
        // Host bytes just past the window (guest-physical 0x8100_0000 would be there).
        host.loadPhysical([0xEE], at: windowBase + windowSize)
        let r = guestRig()
        try r.start("li t0, 0x81000000\n lbu a0, 0(t0)\n ecall")
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(r.csr(0x342) == 5, "load access fault")
        #expect(r.csr(0x343) == 0x8100_0000)
        #expect(r.x(10) == 0)
        try r.start("li t0, 0x81000000\n sb zero, 0(t0)\n ecall")
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(r.csr(0x342) == 7, "store access fault")
        #expect(host.readPhysical(at: windowBase + windowSize, count: 1) == [0xEE])
        // Below the window too: guest RAM starts at its own base.
        #expect(r.machine.readPhysical(at: 0x7FFF_FFFF, count: 1) == nil)
        #expect(r.machine.hostPointer(physical: 0x8000_0000, count: windowSize + 1) == nil)
    }

    @Test func resetClearsOnlyTheWindow() {
        host.loadPhysical([0xAA], at: windowBase - 1)
        host.loadPhysical([0xBB], at: windowBase + windowSize)
        let g = guestRig().machine
        g.loadPhysical([1, 2, 3, 4], at: 0x8000_0000)
        g.loadPhysical([5], at: 0x8000_0000 + windowSize - 1)
        g.reset(clearRAM: true)
        #expect(g.readPhysical(at: 0x8000_0000, count: 4) == [0, 0, 0, 0])
        #expect(g.readPhysical(at: 0x8000_0000 + windowSize - 1, count: 1) == [0])
        #expect(host.readPhysical(at: windowBase - 1, count: 1) == [0xAA])
        #expect(host.readPhysical(at: windowBase + windowSize, count: 1) == [0xBB])
    }

    @Test func theOwnerKeepsHostMemoryAlive() {
        var h: Machine? = {
            var c = MachineConfiguration()
            c.ramSize = 1 << 20
            return Machine(c)
        }()
        var c = MachineConfiguration()
        c.ramSize = 64 << 10
        c.ramBacking = ExternalRAM(pointer: h!.hostPointer(physical: 0x8000_0000, count: 64 << 10)!, owner: h!.ramOwner)
        let g = Machine(c)
        h = nil
        g.loadPhysical([7, 7, 7], at: 0x8000_0100)
        #expect(g.readPhysical(at: 0x8000_0100, count: 3) == [7, 7, 7])
        g.reset(clearRAM: true)
        #expect(g.readPhysical(at: 0x8000_0100, count: 3) == [0, 0, 0])
    }

    @Test func decodedCodeFollowsHostWritesOnceTold() throws {
        let r = guestRig()
        let g = r.machine
        // The guest runs `li a0, 1; ecall` twice; in between the host rewrites the li through its
        // own view of the memory and tells the guest machine.
        try r.start("li a0, 1\n ecall")
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(r.x(10) == 1)
        let li2 = try Guest.assemble(".globl _start\n_start: li a0, 2\n")      // c.li a0, 2
        #expect(li2.count == 2)
        host.loadPhysical(li2, at: windowBase + Layout.main - 0x8000_0000)
        g.memoryChanged(physical: Layout.main, count: 2)
        g.startHart(0, privilege: .machine, pc: Layout.main, a0: 0, a1: 0)
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(r.x(10) == 2)
    }
}
