import Boot
import Machine
import Testing
@testable import Hypervisor

/// Writes to a guest page table that are not the guest's own stores (device DMA, a tool's write)
/// reach the shadows under trap and bt: the entries derived from the bytes are dropped, so the
/// hart never walks a translation the guest's tables no longer give.
@Suite struct ShadowExternalWriteTests {
    enum Writer: CaseIterable {
        case tool, dma, untold
    }

    @Test(arguments: [ExecutionMode.trap, .bt], Writer.allCases)
    func aWriteFromOutsideTheGuestReachesTheShadows(_ mode: ExecutionMode, _ writer: Writer) throws {
        guard let board = try TinyosBoards.configuration("bench=syscall n=5", disk: false, tag: "shadow-writes") else { return }
        let guest = try Guest(GuestConfiguration(mode: mode, board: board))
        defer { guest.close() }
        let va = try #require(guest.board.plan.kernelSymbol("sys_getpid"))
        _ = guest.run(maxInstructions: 50_000_000, until: .pc(va))
        try #require(guest.untilReached, "tinyos reaches sys_getpid")
        let monitor = try #require(guest.monitor)
        let leaf = try #require(monitor.shadow.walk(.guest, va: va).steps.last)
        #expect(monitor.shadow.walk(.shadow, va: va).physical != nil, "the kernel's code is shadowed by now")
        #expect(monitor.shadow.checkCoherence() == [])

        // Execute permission taken away from the kernel's code.
        func bytes(_ pte: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: pte >> (8 * UInt64($0))) } }
        let ma = try #require(monitor.shadow.map.machineAddress(leaf.pteAddress)).address
        func write(_ pte: UInt64) throws {
            switch writer {
            case .tool: try guest.writeMemory(leaf.pteAddress, bytes(pte)).get()
            case .dma: #expect(bytes(pte).withUnsafeBytes { guest.machine.dmaWrite(ma, from: $0) })
            case .untold: #expect(guest.machine.loadPhysical(bytes(pte), at: ma))
            }
        }
        try write(leaf.pte & ~Sv39.x)
        if writer == .untold {
            // A write the VMM is not told of leaves the shadows stale: what the hooks are for.
            #expect(!monitor.shadow.checkCoherence().isEmpty)
        } else {
            #expect(monitor.shadow.checkCoherence() == [])
            #expect(monitor.shadow.walk(.shadow, va: va).physical == nil, "the shadow entry was dropped")
        }
        // The entry restored, the kernel runs on, refilling its shadow.
        try write(leaf.pte)
        #expect(guest.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        #expect(monitor.shadow.checkCoherence() == [])
    }
}
