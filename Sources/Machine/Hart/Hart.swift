// One hart: its engine-facing state (behind a pointer), its TLB, PMP and event counters.

/// Per-hart event counters (all modelled, deterministic).
public struct HartCounters: Sendable, Equatable {
    /// Instructions retired (not reset by writes to minstret).
    public var instructions: UInt64 = 0
    /// Modelled cycles this hart has used or waited.
    public var cycles: UInt64 = 0
    /// Exceptions taken, indexed by cause code (0...63).
    public var exceptions: [UInt64] = Array(repeating: 0, count: 64)
    /// Interrupts taken, indexed by cause code (0...63).
    public var interrupts: [UInt64] = Array(repeating: 0, count: 64)
    /// Traps bound for M-mode that the installed `MachineModeTrapHandler` handled, by cause.
    public var handledByHost: [UInt64] = Array(repeating: 0, count: 64)
    public var tlb = TLBCounters()
    /// WFI instructions that put the hart to sleep.
    public var waits: UInt64 = 0
    /// MMIO accesses made by this hart.
    public var mmioAccesses: UInt64 = 0
    /// Writes to privileged (S-, H- or M-level) CSRs executed without a trap.
    public var privilegedCSRWrites: UInt64 = 0
}

final class Hart {
    let id: Int
    // Unowned-unsafe references: the machine owns its harts and outlives them, and the hot paths
    // must not retain or release anything.
    unowned(unsafe) let machine: Machine
    unowned(unsafe) let bus: PhysicalBus
    unowned(unsafe) let ram: RAM
    unowned(unsafe) let code: DecodedCode
    let config: MachineConfiguration
    /// `config.hypervisorExtension`, kept at hand: the trap paths test it on every trap.
    let hasHypervisor: Bool
    let state: UnsafeMutablePointer<HartState>
    // Plain copies of machine-wide memory facts, so hot paths touch no object at all.
    let ramBase: UInt64
    let ramSize: UInt64
    let ramHost: UnsafeMutableRawPointer
    let overlay: UnsafeMutablePointer<UInt8>
    let codePages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedOp>?>
    let refillPage: UnsafeMutablePointer<DecodedOp>
    /// Machine-wide count of pages holding LR reservations (several harts only).
    let reservedPageCount: UnsafeMutablePointer<Int>
    var tlb: TLB
    var pmp: PMP
    /// Sdtrig debug triggers (Hart+Triggers.swift).
    var triggers = TriggerModule()
    /// Traps by cause: exceptions, interrupts, and exceptions handled by the host (64 each).
    let exceptionCounts: UnsafeMutablePointer<UInt64>
    let interruptCounts: UnsafeMutablePointer<UInt64>
    let handledCounts: UnsafeMutablePointer<UInt64>
    var waits: UInt64 = 0
    /// Returns to an unfetchable stvec with translation on (reported when they go on and on).
    var trapVectorLoop = TrapVectorLoop()
    var mmioAccesses: UInt64 = 0
    var privilegedCSRWrites: UInt64 = 0
    /// Traps a VMM took back from the budget (`Machine.uncountMonitorTrap`) since `instret` last
    /// moved, and the `instret` they were taken at.
    var uncountedTrapStreak = 0, uncountedTrapInstret: UInt64 = 0
    /// mcycle/minstret values frozen while mcountinhibit holds them.
    var frozenCycle: UInt64 = 0, frozenInstret: UInt64 = 0
    /// Instruction fetches the loop will count that the architectural TLB already counted as misses.
    var fetchMissCompensation: UInt64 = 0
    /// The virtualization mode the soft TLB's entries were filled under (`privilegeChanged`).
    var softTLBVirt = false
    /// What the trap being raised carries besides cause and tval (hypervisor extension).
    var trapExtras = TrapExtras()
    /// Level of the last translation (0 for 4 KiB pages and for physical accesses).
    var lastTranslationLevel = 0
    /// Soft TLB slots filled from superpage translations, so evicting a superpage entry visits only
    /// them; `superSoftOverflow` when more were filled than recorded (then all slots are visited).
    var superSoftSlots: [Int] = []
    var superSoftOverflow = false
    /// Every soft TLB slot filled since the last flush, so that a flush clears those few rather
    /// than all 9 × `softTLBSize` (a VMM that switches shadow roots writes satp on every trap it
    /// reflects); `filledSoftOverflow` when more were filled than recorded (then all are cleared).
    var filledSoftSlots: [Int] = []
    var filledSoftOverflow = false
    static let filledSoftCapacity = 128
    /// Runs translated blocks (`ExecutionEngine.blocks`, or `.jit` without native code) rather
    /// than the interpreter.
    let usesBlocks: Bool
    /// The machine's native-code engine (shared by its harts), under `ExecutionEngine.jit` where
    /// the host has one (Engine/JIT).
    let jit: JIT?
    /// Lockstep testing: the block engine appends the instruction count at every block end.
    var recordBlockEnds = false
    var blockEnds: [UInt64] = []
    /// The run loop's accounts while this hart has its turn (see `Machine.continueTurn`).
    var turn: UnsafeMutablePointer<TurnAccount>? = nil

    init(id: Int, machine: Machine, configuration c: MachineConfiguration) {
        self.id = id
        self.machine = machine
        bus = machine.bus
        ram = machine.bus.ram
        code = machine.code
        config = c
        hasHypervisor = c.hypervisorExtension
        usesBlocks = c.engine == .blocks || c.engine == .jit
        jit = c.engine != .jit ? nil : id == 0 ? JIT.make(harts: c.harts) : machine.harts.first?.jit
        ramBase = machine.bus.ram.base
        ramSize = machine.bus.ram.size
        ramHost = machine.bus.ram.host
        overlay = machine.bus.overlay
        codePages = machine.code.pages
        refillPage = machine.code.refillPage
        reservedPageCount = machine.reservedPageCount
        tlb = TLB(c.tlb)
        exceptionCounts = .allocate(capacity: 192)
        exceptionCounts.initialize(repeating: 0, count: 192)
        interruptCounts = exceptionCounts + 64
        handledCounts = exceptionCounts + 128
        pmp = PMP(count: c.pmpEntries)
        // The registers sit right after the state, in one allocation: the interpreter then
        // reaches x[i] at a constant offset from the state pointer (`Hart.registers(of:)`)
        // instead of keeping a register-file pointer live in its loop.
        let block = UnsafeMutableRawPointer.allocate(byteCount: Hart.registersOffset + 65 * 8, alignment: 64)
        let regs = (block + Hart.registersOffset).bindMemory(to: UInt64.self, capacity: 65)
        regs.initialize(repeating: 0, count: 65)
        let n = 3 * 3 * softTLBSize
        let soft = UnsafeMutablePointer<SoftTLBEntry>.allocate(capacity: n)
        soft.initialize(repeating: SoftTLBEntry(tag: softTLBInvalid, addend: 0), count: n)
        filledSoftSlots.reserveCapacity(Hart.filledSoftCapacity)
        let phys = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        phys.initialize(repeating: 0, count: n)
        state = block.bindMemory(to: HartState.self, capacity: 1)
        state.initialize(to: HartState(regs: regs, fetchOps: code.refillPage, soft: soft, softPhys: phys, costs: machine.costTable))
        attachJIT()
    }

    deinit {
        tlb.deallocate()
        exceptionCounts.deallocate()
        pmp.deallocate()
        state.pointee.soft.deallocate()
        state.pointee.softPhys.deallocate()
        state.deinitialize(count: 1)
        UnsafeMutableRawPointer(state).deallocate()   // the registers with it
    }

    /// Where the registers start, from the state: after it, on a cache line of their own.
    static var registersOffset: Int { (MemoryLayout<HartState>.stride + 63) & ~63 }

    /// The register file of `s` (the same as `s.pointee.regs`, computed rather than loaded).
    @inline(__always)
    static func registers(of s: UnsafeMutablePointer<HartState>) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer(OpaquePointer(UnsafeMutableRawPointer(s) + registersOffset))
    }

    /// Runs up to `limit` instructions with the configured engine. Returns the number retired.
    @inline(__always)
    func run(limit: UInt64) -> UInt64 { usesBlocks ? runBlocks(limit: limit) : runSlice(limit: limit) }

    // MARK: memory facts

    @inline(__always)
    func inRAM(_ address: UInt64, count: UInt64) -> Bool {
        let off = address &- ramBase
        return address >= ramBase && off < ramSize && count <= ramSize &- off
    }

    @inline(__always)
    func host(_ address: UInt64) -> UnsafeMutableRawPointer { ramHost + Int(address &- ramBase) }

    /// An MMIO region intersects the RAM page of `address` (which is in RAM).
    @inline(__always)
    func hasMMIO(_ address: UInt64) -> Bool { overlay[Int((address &- ramBase) >> 12)] != 0 }

    /// The RAM page of `address` (in RAM) holds decoded code.
    @inline(__always)
    func isCode(_ address: UInt64) -> Bool { codePages[Int((address &- ramBase) >> 12)] != nil }

    /// Keeps decoded code, other harts' reservations and the write log coherent after a store to
    /// RAM made outside the fast path. A store that kills translated blocks ends the slice after
    /// the instruction, so the block engine never runs on in a block whose bytes changed (it
    /// checks nothing per instruction for that).
    @inline(__always)
    func noteWrite(_ pa: UInt64, count: UInt64) {
        machine.ramWriteLog?.noteStore(pa, count: count)
        if isCode(pa) || isCode(pa &+ count &- 1) || (pa & 0xFFF < 2 && pa >= ramBase &+ 2 && isCode(pa &- 2))
            || reservedPageCount.pointee != 0 {
            let killed = code.blockCounters.blocksInvalidated
            machine.noteRAMWrite(pa, count: count, by: id)
            if code.blockCounters.blocksInvalidated != killed { state.pointee.exitSlice = .checkInterrupts }
        }
    }

    // MARK: derived state

    /// Recomputes what depends on priv and mstatus (effective data privilege, FP enable) and drops
    /// the fetch cache, which belongs to the old translation regime.
    func privilegeChanged() {
        let s = state
        let ms = s.pointee.mstatus
        let priv = s.pointee.priv
        s.pointee.dataPriv = (priv == 3 && ms & Mstatus.mprv != 0) ? UInt8((ms >> Mstatus.mppShift) & 3) : priv
        s.pointee.fpEnabled = ms & Mstatus.fs != 0
        if hasHypervisor { virtualizationChanged() }
        invalidateFetch()
        s.pointee.exitSlice = .checkInterrupts
    }

    @inline(__always)
    func invalidateFetch() {
        state.pointee.fetchBase = 0
        state.pointee.fetchOps = refillPage
        state.pointee.exitSlice = .checkInterrupts
    }

    /// satp MODE as the number of page-table levels (0 = Bare).
    var translationLevels: Int {
        switch state.pointee.satp >> 60 {
        case 8: 3
        case 9: 4
        case 10: 5
        default: 0
        }
    }

    var asid: UInt16 { UInt16(truncatingIfNeeded: state.pointee.satp >> 44) }

    /// Whether loads and stores, and fetches, go through the TLB: paging on below M-mode, or
    /// V=1 (two-stage translation, whose TLB entries are kept even with both stages Bare).
    var dataTranslated: Bool {
        state.pointee.dataVirt || (translationLevels != 0 && state.pointee.dataPriv != 3)
    }
    var fetchTranslated: Bool {
        state.pointee.virt || (translationLevels != 0 && state.pointee.priv != 3)
    }

    /// Counts the fast path's TLB hits into the architectural counters. Called whenever the
    /// translation regime may change and before counters are read.
    func foldCounters() {
        let s = state
        let translatedData = dataTranslated
        let translatedFetch = fetchTranslated
        if translatedData {
            tlb.counters.loadHits &+= s.pointee.softLoadHits
            tlb.counters.storeHits &+= s.pointee.softStoreHits
        }
        if translatedFetch {
            tlb.counters.fetchHits &+= s.pointee.translatedFetches &- fetchMissCompensation
        }
        fetchMissCompensation = 0
        s.pointee.softLoadHits = 0
        s.pointee.softStoreHits = 0
        s.pointee.translatedFetches = 0
    }

    var counters: HartCounters {
        foldCounters()
        var c = HartCounters()
        c.instructions = state.pointee.instret
        c.cycles = state.pointee.cycles
        c.exceptions = Array(UnsafeBufferPointer(start: exceptionCounts, count: 64))
        c.interrupts = Array(UnsafeBufferPointer(start: interruptCounts, count: 64))
        c.handledByHost = Array(UnsafeBufferPointer(start: handledCounts, count: 64))
        c.tlb = tlb.counters
        c.waits = waits
        c.mmioAccesses = mmioAccesses
        c.privilegedCSRWrites = privilegedCSRWrites
        return c
    }

    // MARK: soft TLB maintenance

    func flushSoftTLB() {
        let s = state
        foldCounters()
        if filledSoftOverflow {
            for i in 0..<(9 * softTLBSize) { s.pointee.soft[i].tag = softTLBInvalid }
        } else {
            for i in filledSoftSlots { s.pointee.soft[i].tag = softTLBInvalid }
        }
        // Only when there is something to remove: on an array that has never held anything,
        // removeAll(keepingCapacity:) allocates a buffer (empty arrays share the runtime's empty
        // storage, which it does not keep), one allocation per flush of an untouched list.
        if !filledSoftSlots.isEmpty { filledSoftSlots.removeAll(keepingCapacity: true) }
        filledSoftOverflow = false
        if !superSoftSlots.isEmpty { superSoftSlots.removeAll(keepingCapacity: true) }
        superSoftOverflow = false
        invalidateFetch()
    }

    /// Drops soft entries that mirror an architectural entry being removed.
    func dropSoft(for e: ArchTLBEntry) {
        let s = state
        if e.level == 0 {
            let idx = Int((e.virtual >> 12) & UInt64(softTLBSize - 1))
            for set in 0..<6 where s.pointee.soft[set * softTLBSize + idx].tag & ~0xFFF == e.virtual {
                s.pointee.soft[set * softTLBSize + idx].tag = softTLBInvalid
            }
        } else {
            let size: UInt64 = 1 << (12 + 9 * UInt64(e.level))
            if superSoftOverflow {
                for i in 0..<(6 * softTLBSize) where s.pointee.soft[i].tag != softTLBInvalid
                    && s.pointee.soft[i].tag &- e.virtual < size {
                    s.pointee.soft[i].tag = softTLBInvalid
                }
                superSoftOverflow = false
                superSoftSlots.removeAll(keepingCapacity: true)
            } else {
                var k = 0
                while k < superSoftSlots.count {
                    let i = superSoftSlots[k]
                    let tag = s.pointee.soft[i].tag
                    if tag == softTLBInvalid || tag &- e.virtual < size {
                        s.pointee.soft[i].tag = softTLBInvalid
                        superSoftSlots.swapAt(k, superSoftSlots.count - 1)
                        superSoftSlots.removeLast()
                    } else {
                        k += 1
                    }
                }
            }
        }
        if s.pointee.fetchBase &- e.virtual < (1 << (12 + 9 * UInt64(e.level))) { invalidateFetch() }
    }

    /// Records a soft slot just filled, for `flushSoftTLB`, and (from a superpage translation) for
    /// the eviction of superpage entries: only U/S slots mirror TLB entries.
    @inline(__always)
    func noteSoftFill(_ idx: Int) {
        if filledSoftSlots.count < Hart.filledSoftCapacity { filledSoftSlots.append(idx) } else { filledSoftOverflow = true }
        noteSuperpageSoft(idx)
    }

    @inline(__always)
    private func noteSuperpageSoft(_ idx: Int) {
        guard lastTranslationLevel > 0, idx < 6 * softTLBSize else { return }
        if superSoftSlots.count < 64 { superSoftSlots.append(idx) } else { superSoftOverflow = true }
    }

    /// Drops store entries for a physical page (it became code, or holds a reservation).
    func dropSoftStores(physicalPage: UInt64) {
        let s = state
        for p in 0..<3 {
            let base = (p * 3 + AccessType.store.rawValue) * softTLBSize
            for i in base..<(base + softTLBSize) where s.pointee.softPhys[i] == physicalPage {
                s.pointee.soft[i].tag = softTLBInvalid
            }
        }
    }

    // MARK: TLB operations with soft TLB coherence

    func flushTLB(vaddr: UInt64?, asid: UInt16?, space: TLBSpace = .host) {
        tlb.flush(vaddr: vaddr, asid: asid, space: space)
        flushSoftTLB()
    }
}
