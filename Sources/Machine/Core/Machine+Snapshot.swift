// The machine's state as a value, for checkpoints: `snapshot()` between runs, `restore(_:)` later
// puts the machine back exactly where it was, so that it runs on as it did from there, counter for
// counter and cycle for cycle (the whole point of a deterministic machine).
//
// What a snapshot holds: each hart's architectural state (registers, CSRs, privilege, the
// reservation, PMP, triggers, its TLB's entries and replacement state), RAM, the modelled clock,
// and the machine's counters (instructions, cycles, traps, TLB, walks, MMIO, DMA): the counters
// and the clock go back together, or the statistics of a restored machine would describe time it
// never spent. What it does not hold is the host's side: the decoded-code cache and the soft TLB
// (caches nothing observes; a restore drops them), observers, breakpoints, watchpoints, the cost
// table, and the devices (their owner saves them: `SnapshottableDevice`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A machine's state at one moment between runs (`Machine.snapshot()`).
public struct MachineSnapshot: Codable {
    struct HartImage: Codable {
        /// The hart's state record's saved fields (not its pointers and host-side fields).
        var state: SavedHartState
        var registers: [UInt64]
        var trapCounts: [UInt64]
        var tlbEntries: [ArchTLBEntry]
        var tlbReplacement: [Int]
        var tlbPerLevel: [Int]
        var nestedTLB: [NestedTLBEntry]
        var nestedTLBNext: Int
        var walkCache: [WalkCacheEntry]
        var walkCacheNext: Int
        var tlbCounters: TLBCounters
        var pmpConfiguration: [UInt8]
        var pmpAddresses: [UInt64]
        var triggers: TriggerModule
        var waits: UInt64
        var trapVectorLoop: TrapVectorLoop
        var mmioAccesses: UInt64
        var privilegedCSRWrites: UInt64
        var uncountedTrapStreak: Int
        var uncountedTrapInstret: UInt64
        var frozenCycle: UInt64
        var frozenInstret: UInt64
        var lastTranslationLevel: Int
    }

    /// The shape of the machine it was taken from; it restores only onto a machine of that shape.
    let shape: Shape
    var harts: [HartImage]
    /// RAM pages that were not all zero: their page numbers (from RAM's base), and their bytes in
    /// the same order, 4096 each. A guest that has touched little costs little.
    var ramPages: [UInt32]
    /// Not in the coded form: a snapshot file stores RAM as raw bytes beside it
    /// (`GuestSnapshot.write(to:)`).
    var ramBytes: [UInt8] = []
    var globalCycles: UInt64
    var sleptCycles: UInt64
    var pendingStop: StopReason?
    @SortedSetCoding var reservedPages: Set<UInt64>
    var interruptedTurn: InterruptedTurn?
    var lastBreakpoint: SavedBreakpoint?
    var tally: ObservationTally

    private enum CodingKeys: String, CodingKey {
        case shape, harts, ramPages, globalCycles, sleptCycles, pendingStop, reservedPages, interruptedTurn,
             lastBreakpoint, tally
    }

    /// `Machine.lastBreakpoint`, which is a tuple.
    struct SavedBreakpoint: Codable {
        var hart: Int
        var pc: UInt64
    }

    struct Shape: Equatable, Codable {
        var harts: Int
        var ramBase: UInt64
        var ramSize: UInt64
        var tlb: TLBConfiguration
        var pmpEntries: Int
        var asidBits: Int
        var sv57: Bool
        var hypervisorExtension: Bool
        /// true, or nil without Sstc: so a machine without it has the shape (and the coded form)
        /// it had before Sstc existed, and files from then restore.
        var sstc: Bool?
        var quantum: UInt64
        var cyclesPerTick: UInt64

        init(_ c: MachineConfiguration) {
            harts = c.harts; ramBase = c.ramBase; ramSize = c.ramSize; tlb = c.tlb
            pmpEntries = c.pmpEntries; asidBits = c.asidBits; sv57 = c.sv57
            hypervisorExtension = c.hypervisorExtension
            sstc = c.sstc ? true : nil
            quantum = c.quantum; cyclesPerTick = c.cyclesPerTick
        }
    }

    /// The modelled clock when the snapshot was taken.
    public var cycles: UInt64 { globalCycles }
    /// Bytes of RAM the snapshot keeps (the pages that were not all zero).
    public var ramBytesKept: Int { ramBytes.count }
    /// Those bytes, page after page: the coded form leaves them out, and a snapshot file stores
    /// them raw beside it. A restore refuses a snapshot whose bytes are not its pages' length.
    public var ramContents: [UInt8] {
        get { ramBytes }
        set { ramBytes = newValue }
    }

    /// The physical addresses of the RAM pages whose contents differ from `earlier`'s, in order:
    /// what a migration that had sent `earlier` would have to send again (pre-copy's dirty
    /// pages, found by comparing contents, so a page written back to what it was does not count).
    /// Nil for a snapshot of a machine of another shape.
    public func changedPages(since earlier: MachineSnapshot) -> [UInt64]? {
        guard shape == earlier.shape else { return nil }
        let size = Machine.snapshotPageSize
        var changed: [UInt64] = []
        var i = 0, j = 0
        ramBytes.withUnsafeBytes { mine in
            earlier.ramBytes.withUnsafeBytes { theirs in
                while i < ramPages.count || j < earlier.ramPages.count {
                    let a = i < ramPages.count ? ramPages[i] : .max
                    let b = j < earlier.ramPages.count ? earlier.ramPages[j] : .max
                    let page = min(a, b)
                    // A page kept by one side only is all zero on the other: it changed.
                    let same = a == b && memcmp(mine.baseAddress! + i * size, theirs.baseAddress! + j * size, size) == 0
                    if !same { changed.append(shape.ramBase + UInt64(page) * UInt64(size)) }
                    if a == page { i += 1 }
                    if b == page { j += 1 }
                }
            }
        }
        return changed
    }
}

/// Why a snapshot could not be put back.
public struct SnapshotError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Machine {
    static let snapshotPageSize = 4096

    /// The machine's state now. Between runs only (not from inside a run's observer).
    public func snapshot() -> MachineSnapshot {
        precondition(currentHart == nil, "a machine is snapshotted between runs")
        var images: [MachineSnapshot.HartImage] = []
        for h in harts {
            // Soft TLB hits not yet folded into the architectural counters would be lost.
            h.foldCounters()
            images.append(h.image())
        }
        let (pages, bytes) = savedRAM()
        return MachineSnapshot(
            shape: .init(configuration), harts: images, ramPages: pages, ramBytes: bytes,
            globalCycles: globalCycles, sleptCycles: sleptCycles, pendingStop: pendingStop,
            reservedPages: reservedPages, interruptedTurn: interruptedTurn,
            lastBreakpoint: lastBreakpoint.map { .init(hart: $0.hart, pc: $0.pc) },
            tally: tally)
    }

    /// Puts the machine back in the state `snapshot` holds. Between runs only. The snapshot must
    /// come from a machine of the same shape (harts, RAM, TLB, PMP, timebase); otherwise nothing
    /// changes and the error says what differs.
    public func restore(_ snapshot: MachineSnapshot) throws(SnapshotError) {
        precondition(currentHart == nil, "a machine is restored between runs")
        let shape = MachineSnapshot.Shape(configuration)
        guard snapshot.shape == shape else {
            throw SnapshotError("the snapshot is of another machine (\(snapshot.shape.describe(against: shape)))")
        }
        if let flaw = snapshot.flaw(for: self) { throw SnapshotError("the snapshot is malformed: \(flaw)") }
        restoreRAM(pages: snapshot.ramPages, bytes: snapshot.ramBytes)
        // Every decoded instruction came from RAM as it was; translators keep nothing across this.
        code.dropAll()
        for (h, image) in zip(harts, snapshot.harts) { h.restore(image) }
        globalCycles = snapshot.globalCycles
        sleptCycles = snapshot.sleptCycles
        pendingStop = snapshot.pendingStop
        reservedPages = snapshot.reservedPages
        interruptedTurn = snapshot.interruptedTurn
        lastBreakpoint = snapshot.lastBreakpoint.map { ($0.hart, $0.pc) }
        tally = snapshot.tally
        // Timed devices' deadlines are theirs: whoever restores a device re-reads them
        // (`refreshAllDeadlines`). The harts' own comparators (Sstc) are the machine's.
        if let timerCompare { refreshDeadline(of: timerCompare) }
    }

    /// Re-reads every timed device's deadline (after devices were restored behind the machine's
    /// back).
    public func refreshAllDeadlines() {
        for (i, d) in timedDevices.enumerated() { deadlines[i] = d.nextDeadline }
        recomputeEarliestDeadline()
    }

    private func savedRAM() -> ([UInt32], [UInt8]) {
        let ram = bus.ram
        let pageSize = Machine.snapshotPageSize
        var pages: [UInt32] = []
        var bytes: [UInt8] = []
        for page in 0..<Int(ram.size) / pageSize {
            let p = ram.host + page * pageSize
            if isZeroPage(p) { continue }
            pages.append(UInt32(page))
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: pageSize))
        }
        return (pages, bytes)
    }

    private func restoreRAM(pages: [UInt32], bytes: [UInt8]) {
        let ram = bus.ram
        let pageSize = Machine.snapshotPageSize
        var next = 0
        bytes.withUnsafeBytes { saved in
            for page in 0..<Int(ram.size) / pageSize {
                let p = ram.host + page * pageSize
                if next < pages.count && Int(pages[next]) == page {
                    p.copyMemory(from: saved.baseAddress! + next * pageSize, byteCount: pageSize)
                    next += 1
                } else if !isZeroPage(p) {
                    // Only pages that hold something: writing zeros to an untouched page would
                    // make the host back it.
                    p.initializeMemory(as: UInt8.self, repeating: 0, count: pageSize)
                }
            }
        }
    }

    /// Through the C library's memcmp against a page of zeros: a loop in Swift takes most of a
    /// debug build's snapshot of a large guest.
    private func isZeroPage(_ p: UnsafeMutableRawPointer) -> Bool {
        Machine.zeroPage.withUnsafeBytes { memcmp(p, $0.baseAddress!, $0.count) == 0 }
    }

    private static let zeroPage = [UInt8](repeating: 0, count: snapshotPageSize)
}

extension MachineSnapshot.Shape {
    func describe(against other: Self) -> String {
        var d: [String] = []
        if harts != other.harts { d.append("\(harts) harts, not \(other.harts)") }
        if ramBase != other.ramBase || ramSize != other.ramSize {
            d.append("\(ramSize >> 20) MiB of RAM at 0x\(String(ramBase, radix: 16)), not \(other.ramSize >> 20) MiB at 0x\(String(other.ramBase, radix: 16))")
        }
        if tlb != other.tlb { d.append("another TLB") }
        if pmpEntries != other.pmpEntries { d.append("\(pmpEntries) PMP entries, not \(other.pmpEntries)") }
        if asidBits != other.asidBits || sv57 != other.sv57 { d.append("other satp modes or ASID bits") }
        if hypervisorExtension != other.hypervisorExtension {
            d.append(hypervisorExtension ? "the hypervisor extension, which this machine lacks" : "no hypervisor extension, which this machine has")
        }
        if (sstc ?? false) != (other.sstc ?? false) {
            d.append(sstc ?? false ? "the Sstc extension, which this machine lacks" : "no Sstc extension, which this machine has")
        }
        if quantum != other.quantum || cyclesPerTick != other.cyclesPerTick { d.append("another quantum or timebase") }
        return d.joined(separator: "; ")
    }
}

extension Hart {
    func image() -> MachineSnapshot.HartImage {
        let s = state
        return .init(
            state: SavedHartState(s.pointee),
            registers: Array(UnsafeBufferPointer(start: s.pointee.regs, count: 64)),
            trapCounts: Array(UnsafeBufferPointer(start: exceptionCounts, count: 192)),
            tlbEntries: Array(UnsafeBufferPointer(start: tlb.entries, count: tlb.count)),
            tlbReplacement: Array(UnsafeBufferPointer(start: tlb.fifo, count: tlb.sets)),
            tlbPerLevel: Array(UnsafeBufferPointer(start: tlb.perLevel, count: 5)),
            nestedTLB: Array(UnsafeBufferPointer(start: tlb.nested, count: tlb.nestedCount)),
            nestedTLBNext: tlb.nestedNext,
            walkCache: Array(UnsafeBufferPointer(start: tlb.walkCache, count: tlb.walkCacheCount)),
            walkCacheNext: tlb.walkCacheNext,
            tlbCounters: tlb.counters,
            pmpConfiguration: Array(UnsafeBufferPointer(start: pmp.cfg, count: 64)),
            pmpAddresses: Array(UnsafeBufferPointer(start: pmp.addr, count: 64)),
            triggers: triggers, waits: waits, trapVectorLoop: trapVectorLoop,
            mmioAccesses: mmioAccesses, privilegedCSRWrites: privilegedCSRWrites,
            uncountedTrapStreak: uncountedTrapStreak, uncountedTrapInstret: uncountedTrapInstret,
            frozenCycle: frozenCycle, frozenInstret: frozenInstret,
            lastTranslationLevel: lastTranslationLevel)
    }

    func restore(_ image: MachineSnapshot.HartImage) {
        let s = state
        // The pointers are this hart's own storage; the observation fields are the host's now.
        var restored = s.pointee
        image.state.apply(to: &restored)
        restored.softLoadHits = 0
        restored.softStoreHits = 0
        restored.translatedFetches = 0
        // A pc an observer set before the restore belongs to the state the restore replaces: it
        // goes, and so does its hold on the fetch path (a hold with no redirect behind it would end
        // every slice before its first instruction, for ever).
        restored.redirectPC = noRedirect
        restored.refillHold &= ~holdRedirect
        restored.fetchBailPC = .max
        restored.fetchBase = 0
        restored.fetchOps = refillPage
        s.pointee = restored
        image.registers.withUnsafeBufferPointer { s.pointee.regs.update(from: $0.baseAddress!, count: 64) }
        image.trapCounts.withUnsafeBufferPointer { exceptionCounts.update(from: $0.baseAddress!, count: 192) }
        image.tlbEntries.withUnsafeBufferPointer { tlb.entries.update(from: $0.baseAddress!, count: tlb.count) }
        image.tlbReplacement.withUnsafeBufferPointer { tlb.fifo.update(from: $0.baseAddress!, count: tlb.sets) }
        image.tlbPerLevel.withUnsafeBufferPointer { tlb.perLevel.update(from: $0.baseAddress!, count: 5) }
        for (i, e) in image.nestedTLB.enumerated() where i < tlb.nestedCount { tlb.nested[i] = e }
        tlb.nestedNext = image.nestedTLBNext
        for (i, e) in image.walkCache.enumerated() where i < tlb.walkCacheCount { tlb.walkCache[i] = e }
        tlb.walkCacheNext = image.walkCacheNext
        tlb.counters = image.tlbCounters
        pmp.restore(configuration: image.pmpConfiguration, addresses: image.pmpAddresses)
        triggers = image.triggers
        waits = image.waits
        trapVectorLoop = image.trapVectorLoop
        mmioAccesses = image.mmioAccesses
        privilegedCSRWrites = image.privilegedCSRWrites
        uncountedTrapStreak = image.uncountedTrapStreak
        uncountedTrapInstret = image.uncountedTrapInstret
        frozenCycle = image.frozenCycle
        frozenInstret = image.frozenInstret
        lastTranslationLevel = image.lastTranslationLevel
        // The soft TLB mirrors entries of the TLB that was just replaced.
        fetchMissCompensation = 0
        flushSoftTLB()
        softTLBVirt = state.pointee.virt
        trapExtras = TrapExtras()
    }
}
