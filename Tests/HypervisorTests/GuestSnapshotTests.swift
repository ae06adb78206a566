import Boot
import Machine
import Testing
@testable import Hypervisor

/// Checkpoints: a VM restored to a snapshot runs on exactly as it did from there (console,
/// statistics, the modelled clock), also after it powered off, in every mode; the VMs it does not fit
/// refuse, changing nothing.
@Suite(.serialized) struct GuestSnapshotTests {
    static func tinyos(_ bootargs: String, mode: ExecutionMode = .native, paging: HardwarePaging = .nested,
                       nestedTLB: Int = 0, walkCache: Int = 0, io: HardwareIO = .emulated) throws -> Guest? {
        guard var board = try TinyosBoards.configuration(bootargs, tag: "snapshot", memory: 32 << 20,
                                                         kernel: mode == .pv ? "tinyos-pv.elf" : "tinyos.elf") else { return nil }
        board.machine.tlb.nestedEntries = nestedTLB
        board.machine.tlb.walkCacheEntries = walkCache
        return try Guest(GuestConfiguration(mode: mode, board: board, hardwarePolicy: HardwareAssistedPolicy(paging: paging, io: io)))
    }

    /// fork: page tables, ASIDs, timer interrupts; disk: virtio queues, DMA and the PLIC. Under
    /// `interpret` and `trap` the VM's private host's clock goes back too (`statistics().host`);
    /// under `trap`, the monitor's virtual CPU and the shadow pager (the technique's counters are
    /// in the statistics: shadow faults, traced writes, exits by cause); under `pv`, the domain's
    /// frame table, channels, grants and the split block driver's ring (tinyos-pv); under `bt`
    /// the translator's state and its translation cache (nothing is translated twice).
    @Test(arguments: ["bench=fork n=3", "bench=disk n=2"], [ExecutionMode.native, .interpret, .trap, .bt, .pv, .hw])
    func aRestoredVMRunsOnAsItDid(_ bootargs: String, _ mode: ExecutionMode) throws {
        guard let g = try Self.tinyos(bootargs, mode: mode) else { return }
        defer { g.close() }
        try Self.restoresAndRunsOn(g)
    }

    /// The same under `hw` with shadow paging: the shadow pager's bookkeeping and the guest's
    /// satp, kept by the VMM, come back with the machine (whose hidden RAM holds the shadows).
    @Test(arguments: ["bench=fork n=3", "bench=disk n=2"])
    func aRestoredShadowPagedHwVMRunsOnAsItDid(_ bootargs: String) throws {
        guard let g = try Self.tinyos(bootargs, mode: .hw, paging: .shadow) else { return }
        defer { g.close() }
        try Self.restoresAndRunsOn(g)
        #expect(g.hardwareVMM?.shadow?.checkCoherence() == [])
    }

    /// Under `hw` with a nested TLB: its entries and replacement state come back with the TLB's,
    /// so its hits (and the walk references they save) recur as they did.
    @Test func aRestoredVMKeepsItsNestedTLB() throws {
        guard let g = try Self.tinyos("bench=tlb n=400", mode: .hw, nestedTLB: 16) else { return }
        defer { g.close() }
        try Self.restoresAndRunsOn(g)
        #expect(g.machine.counters(hart: 0).tlb.nestedHits > 0)
    }

    /// The same for a page-walk cache.
    @Test func aRestoredVMKeepsItsPageWalkCache() throws {
        guard let g = try Self.tinyos("bench=tlb n=400", mode: .hw, walkCache: 16) else { return }
        defer { g.close() }
        try Self.restoresAndRunsOn(g)
        #expect(g.machine.counters(hart: 0).tlb.walkCacheHits > 0)
        // The entries themselves come back (the benchmark's walks share their tables, so the
        // runs alone could not tell a cache restored from one left as it was).
        guard let h = try Self.tinyos("bench=tlb n=400", mode: .hw, walkCache: 16) else { return }
        defer { h.close() }
        // Until the cache holds something: the kernel maps itself with gigapages and flushes
        // the cache at each switch, so for stretches of its own work it holds nothing.
        var steps = 0
        repeat {
            _ = h.run(maxInstructions: 20_000)
            steps += 1
        } while h.machine.walkCacheEntries().isEmpty && steps < 100
        let snapshot = try h.snapshot(), entries = h.machine.walkCacheEntries()
        h.machine.flushTLB(hart: 0)
        #expect(!entries.isEmpty && h.machine.walkCacheEntries().isEmpty)
        try h.restore(snapshot)
        #expect(h.machine.walkCacheEntries() == entries)
    }

    /// Under `hw` with assigned devices: the IOMMU's IOTLB and counters come back, so its hits
    /// recur; a snapshot of emulated devices does not restore onto assigned ones (their G stages
    /// and DMA paths differ), nor the reverse.
    @Test func aRestoredVMKeepsItsIOMMU() throws {
        guard let g = try Self.tinyos("bench=disk n=2", mode: .hw, io: .assigned),
              let emulated = try Self.tinyos("bench=disk n=2", mode: .hw) else { return }
        defer { g.close(); emulated.close() }
        try Self.restoresAndRunsOn(g)
        let iommu = try #require((g.technique as? HardwareAssistedTechnique)?.iommu)
        #expect(iommu.counters.iotlbHits > 0 && iommu.counters.faults == 0)
        #expect(g.statistics().technique["iommu"]?["translations"] == iommu.counters.translations)
        let message = SnapshotError("the snapshot is of a VM under hw with assigned devices, not emulated devices")
        #expect(throws: message) { try emulated.restore(try g.snapshot()) }
        #expect(throws: SnapshotError("the snapshot is of a VM under hw with emulated devices, not assigned devices")) {
            try g.restore(try emulated.snapshot())
        }
    }

    static func restoresAndRunsOn(_ g: Guest) throws {
        #expect(g.run(maxInstructions: 400_000) == .budgetExhausted)
        let atSnapshot = g.statistics(), consoleAtSnapshot = g.consoleText
        let tlbAtSnapshot = g.machine.tlbEntries(), pcAtSnapshot = g.machine.pc()
        let snapshot = try g.snapshot()
        #expect(snapshot.instructions == atSnapshot.instructions && snapshot.cycles == atSnapshot.cycles.total)
        #expect(g.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        let first = g.statistics(), firstConsole = g.consoleText
        #expect(firstConsole.contains("status=ok"), "\(firstConsole)")

        try g.restore(snapshot)
        #expect(g.finalStop == nil)
        #expect(g.machine.tlbEntries() == tlbAtSnapshot && g.machine.pc() == pcAtSnapshot)
        #expect(modelled(g.statistics()) == modelled(atSnapshot))
        #expect(g.consoleText == consoleAtSnapshot)
        #expect(g.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        #expect(modelled(g.statistics()) == modelled(first))
        #expect(g.consoleText == firstConsole)

        // Runs split differently from the snapshot reach the same end.
        try g.restore(snapshot)
        var runs = 0
        while runs < 5_000 && g.run(maxInstructions: 77_777) == .budgetExhausted { runs += 1 }
        #expect(modelled(g.statistics()) == modelled(first))
    }

    /// Statistics without the engine's own counts: under `bt` the blocks the engine builds from
    /// the translation cache, which it builds again after a restore, charging nothing (the
    /// machine's block counters are the host's and go on counting). Every other mode: all of them.
    static func modelled(_ s: GuestStatistics) -> GuestStatistics {
        var s = s
        s.technique["block_cache"] = nil
        s.technique["bt"]?["blocks_translated"] = nil
        return s
    }

    @Test func aSnapshotCanBeRestoredManyTimesAndAfterAnother() throws {
        guard let g = try Self.tinyos("bench=syscall n=50") else { return }
        defer { g.close() }
        _ = g.run(maxInstructions: 100_000)
        let early = try g.snapshot()
        _ = g.run(maxInstructions: 100_000)
        let late = try g.snapshot()
        let lateStats = g.statistics()
        _ = g.run(maxInstructions: 100_000)
        let afterLate = g.statistics()
        try g.restore(early)
        try g.restore(late)
        #expect(g.statistics() == lateStats)
        _ = g.run(maxInstructions: 100_000)
        #expect(g.statistics() == afterLate)
        try g.restore(early)
        _ = g.run(maxInstructions: 100_000)
        #expect(g.statistics() == lateStats)
    }

    /// Cold migration: a snapshot restored onto another VM built with the same options, which
    /// then runs on as the first would have.
    @Test func anotherVMBuiltAlikeTakesTheSnapshot() throws {
        guard let a = try Self.tinyos("bench=fork n=2", mode: .interpret),
              let b = try Self.tinyos("bench=fork n=2", mode: .interpret) else { return }
        defer { a.close(); b.close() }
        _ = a.run(maxInstructions: 300_000)
        let s = try a.snapshot()
        try b.restore(s)
        #expect(b.statistics().cycles == a.statistics().cycles && b.consoleText == a.consoleText)
        #expect(a.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        #expect(b.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
        #expect(b.consoleText == a.consoleText)
        let sa = a.statistics()
        var sb = b.statistics()
        sb.name = sa.name
        #expect(sa == sb)
    }

    /// A pre-copy round's dirty pages: guest RAM only, never the VMM's hidden memory, where the
    /// trap VMM keeps its shadow tables (which change too).
    @Test func changedPagesAreTheGuestsOnly() throws {
        guard let g = try Self.tinyos("bench=fork n=3", mode: .trap) else { return }
        defer { g.close() }
        _ = g.run(maxInstructions: 300_000)
        let before = try g.snapshot()
        _ = g.run(maxInstructions: 100_000)
        let after = try g.snapshot()
        let pages = try after.changedPages(since: before)
        let ram = g.board.guestRAM
        #expect(!pages.isEmpty)
        #expect(pages.allSatisfy { $0 >= ram.address && $0 < ram.address + ram.size && $0 % 4096 == 0 })
        // The machine's own list, hidden memory included, has the shadow pages besides.
        let all = try #require(after.board.machine.changedPages(since: before.board.machine))
        #expect(all.count > pages.count)
        #expect(try after.changedPages(since: after).isEmpty)
    }

    @Test func aVMBuiltOtherwiseIsRefused() throws {
        guard let a = try Self.tinyos("bench=syscall n=5"), let b = try Self.tinyos("bench=syscall n=6"),
              let c = try Self.tinyos("bench=syscall n=5", mode: .interpret) else { return }
        defer { a.close(); b.close(); c.close() }
        _ = a.run(maxInstructions: 10_000)
        let s = try a.snapshot()
        let before = b.statistics()
        #expect(throws: SnapshotError("the snapshot is of a VM built with bootargs \"bench=syscall n=5\", not \"bench=syscall n=6\"")) {
            try b.restore(s)
        }
        #expect(b.statistics() == before)
        #expect(throws: SnapshotError("the snapshot is of a VM under native, not interpret")) { try c.restore(s) }
    }
}
