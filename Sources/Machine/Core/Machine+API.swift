// The outside API for the layers above (built-in SBI, boot loaders, the Lua layer, the VMM):
// registers, CSRs, hart lifecycle, TLB, physical memory, counters, and the platform contracts.

extension Machine {
    private func hart(_ i: Int) -> Hart {
        precondition(harts.indices.contains(i), "no hart \(i)")
        return harts[i]
    }

    /// `body` on hart `i`, which it borrows without a retain: for what a VMM calls on every trap
    /// of its guest (reading and writing CSRs), where `hart(_:)` retained and released the
    /// array's buffer around the call (`Machine.hartTable`).
    @inline(__always)
    private func withHart<R>(_ i: Int, _ body: (Hart) -> R) -> R {
        precondition(harts.indices.contains(i), "no hart \(i)")
        return hartTable[i]._withUnsafeGuaranteedRef(body)
    }

    // MARK: registers

    /// x-register `n` (0...31) of `hart`.
    public func register(_ n: Int, hart h: Int = 0) -> UInt64 {
        precondition((0..<32).contains(n))
        return hart(h).state.pointee.regs[n]
    }

    public func setRegister(_ n: Int, _ value: UInt64, hart h: Int = 0) {
        precondition((0..<32).contains(n))
        if n != 0 { hart(h).state.pointee.regs[n] = value }
    }

    /// f-register `n` (0...31), raw 64 bits (singles are NaN-boxed).
    public func floatRegister(_ n: Int, hart h: Int = 0) -> UInt64 {
        precondition((0..<32).contains(n))
        return hart(h).state.pointee.regs[32 + n]
    }

    public func setFloatRegister(_ n: Int, _ value: UInt64, hart h: Int = 0) {
        precondition((0..<32).contains(n))
        hart(h).state.pointee.regs[32 + n] = value
    }

    public func pc(hart h: Int = 0) -> UInt64 {
        let t = hart(h)
        if !delivering { t.applyRedirect() }
        return t.state.pointee.pc
    }

    public func setPC(_ pc: UInt64, hart h: Int = 0) {
        let t = hart(h)
        if !delivering { t.dropRedirect() }
        t.state.pointee.pc = pc & ~1
        t.invalidateFetch()
    }

    /// Counts the instruction that `hart`'s trap handler just emulated as retired: a VMM that
    /// traps a guest instruction and completes it in software makes it retire for the guest, as
    /// it would have natively (`instret`, `minstret` and one instruction's price), like an
    /// instruction a translator's callout completes. The instruction budget counted the trap; it
    /// goes on counting the instruction once, now as retired.
    public func retireEmulatedInstruction(hart h: Int) {
        let t = hart(h)
        t.retireOne()
        t.takeBackLastTrapFromBudget()
    }

    /// Takes the trap that `hart`'s trap handler just took back from the instruction budget: a VMM
    /// calls it for a trap that was its own business and that the guest never sees (a hidden
    /// shadow-page fault, after which the instruction runs again), so that a budget takes a guest
    /// exactly as far under every technique as natively. Once more than
    /// `uncountedTrapLimit` such traps come in a row with nothing retired (a monitor that makes
    /// no progress), the rest count again, so that a run still comes back at its budget.
    public func uncountMonitorTrap(hart h: Int) {
        let t = hart(h)
        let s = t.state
        if t.uncountedTrapInstret != s.pointee.instret {
            t.uncountedTrapInstret = s.pointee.instret
            t.uncountedTrapStreak = 0
        }
        t.uncountedTrapStreak += 1
        guard t.uncountedTrapStreak <= Machine.uncountedTrapLimit else { return }
        t.takeBackLastTrapFromBudget()
    }

    /// A VMM delivered fetch fault `fault` into its guest's trap vector itself (a hardware-assisted
    /// VMM reflecting a G-stage fault), and the vector, the CSR named `register`, is `pc`, the
    /// address that faulted. The caller has checked that nothing else can move the hart (its
    /// interrupts are masked by the trap, and the VMM moves it only in answer to its traps). The
    /// run stops as when the hart delivers such a fault (`Hart.raise`, `TrapVectorLoop`): at once
    /// when `translated` is false and the fault an access fault, else once the fault has come back
    /// `TrapVectorLoop.reportAfter` times with nothing retired; with several harts, once no other
    /// hart can run on (`Machine.hartIsStuck`).
    /// `previous` is the guest's trap CSRs (cause, epc, tval) before the fault, for the message.
    public func deliveredFetchFaultToItsVector(hart h: Int, register: String, fault: UInt64, translated: Bool,
                                               at pc: UInt64, previous: (cause: UInt64, pc: UInt64, tval: UInt64)) {
        let t = hart(h)
        if let stop = t.trapVectorLoop.stop(hart: h, register: register, fault: fault, translated: translated, at: pc,
                                            retired: t.state.pointee.instret, previous: previous) {
            hartIsStuck(h, stop)
        }
    }

    /// How many traps in a row, with nothing retired between them, `uncountMonitorTrap` takes back.
    /// One instruction can need several (its fetch, and a load and a store each across two pages).
    public static let uncountedTrapLimit = 16

    public func privilege(hart h: Int = 0) -> PrivilegeMode {
        PrivilegeMode(rawValue: hart(h).state.pointee.priv) ?? .machine
    }

    /// Sets `hart`'s privilege, keeping its virtualization mode (V stays as it is: a VMM in Swift
    /// that moves its guest between VS and VU keeps V = 1).
    public func setPrivilege(_ p: PrivilegeMode, hart h: Int = 0) {
        let t = hart(h)
        t.foldCounters()
        t.state.pointee.priv = p.rawValue
        t.privilegeChanged()
    }

    /// Whether `hart` runs a virtual machine (the hypervisor extension's V = 1: VS- or VU-mode,
    /// `privilege` giving which).
    public func isVirtualized(hart h: Int = 0) -> Bool { hart(h).state.pointee.virt }

    /// Sets `hart`'s virtualization mode, keeping its privilege: a hypervisor in Swift entering its
    /// guest (V = 1 in S-mode is VS-mode) or taking it back, as `sret` with SPV or a trap would.
    /// Needs the hypervisor extension.
    public func setVirtualized(_ virtualized: Bool, hart h: Int = 0) {
        let t = hart(h)
        precondition(t.hasHypervisor || !virtualized, "the machine has no hypervisor extension")
        t.foldCounters()
        t.state.pointee.virt = virtualized
        t.privilegeChanged()
    }

    /// CSR `number`. `checked`: as a csrr instruction at the hart's current privilege would (nil
    /// where it would raise illegal instruction); otherwise any implemented CSR, with no checks.
    public func readCSR(_ number: UInt16, hart h: Int = 0, checked: Bool = false) -> UInt64? {
        withHart(h) { t in
            if checked && !t.csrAccessible(number, write: false) { return nil }
            // No CSR reads the soft TLB's hit counts, so nothing to fold first (a VMM reads mip
            // and mie on every trap it takes).
            return t.csrRead(number)
        }
    }

    /// mip and mie of `hart`, as `readCSR` reads them: for a VMM that follows the interrupt pins
    /// on every trap and callout it handles.
    public func interruptRegisters(hart h: Int = 0) -> (pending: UInt64, enabled: UInt64) {
        let s = hart(h).state
        return (s.pointee.mip, s.pointee.mie)
    }

    /// Writes CSR `number` with its WARL rules and side effects. Returns false when the CSR does
    /// not exist or is read-only (or, `checked`, is not writable at the hart's privilege).
    @discardableResult
    public func writeCSR(_ number: UInt16, _ value: UInt64, hart h: Int = 0, checked: Bool = false) -> Bool {
        let written: (ok: Bool, flushed: Bool) = withHart(h) { t in
            if checked && !t.csrAccessible(number, write: true) { return (false, false) }
            if (number >> 10) & 3 == 3 && checked { return (false, false) }
            let flushes = t.tlb.counters.satpFlushes
            let ok = t.csrWrite(number, value)
            return (ok, t.tlb.counters.satpFlushes != flushes)
        }
        if written.flushed && observes(.tlbFlush) {
            deliver(.tlbFlush(hart: h, va: nil, asid: nil), hart: currentHart)
        }
        return written.ok
    }

    // MARK: hart lifecycle (SBI HSM)

    /// Starts `hart` at `pc` in `privilege` with a0 = `a0`, a1 = `a1` (the boot protocol: a0 =
    /// hartid, a1 = device-tree address) and, when given, a2 = `a2` (OpenSBI's fw_dynamic_info).
    public func startHart(_ h: Int, privilege: PrivilegeMode, pc: UInt64, a0: UInt64, a1: UInt64, a2: UInt64? = nil) {
        let t = hart(h)
        t.foldCounters()
        if !delivering { t.dropRedirect() }
        t.state.pointee.regs[10] = a0
        t.state.pointee.regs[11] = a1
        if let a2 { t.state.pointee.regs[12] = a2 }
        t.state.pointee.priv = privilege.rawValue
        t.state.pointee.virt = false
        t.state.pointee.pc = pc & ~1
        t.state.pointee.runState = .started
        t.privilegeChanged()
    }

    /// Stops `hart` (SBI `hart_stop`): it executes nothing until started again.
    public func stopHart(_ h: Int) {
        let t = hart(h)
        t.state.pointee.runState = .stopped
        t.state.pointee.exitSlice = .stop
    }

    public func runState(hart h: Int) -> HartRunState { hart(h).state.pointee.runState }

    /// Puts `hart` to sleep as a `wfi` would (a VMM emulating its guest's `wfi`): it executes
    /// nothing until an interrupt is pending and enabled in `mie` (or `startHart`), while time
    /// skips to the next device deadline when every hart sleeps.
    public func waitForInterrupt(hart h: Int) {
        let t = hart(h)
        guard t.state.pointee.runState == .started else { return }
        t.state.pointee.runState = .waitingForInterrupt
        t.state.pointee.exitSlice = .stop
    }

    /// A convenience for firmware in Swift: one PMP entry (entry 0, NAPOT over all memory, RWX),
    /// as M-mode firmware sets up before entering S-mode, since S/U accesses fail when no entry
    /// matches.
    public func grantFullPMPAccess(hart h: Int) {
        let t = hart(h)
        guard t.pmp.count > 0 else { return }
        t.pmp.writeAddr(0, .max)
        t.pmp.writeCfg(0, (t.pmp.readCfg(0) & ~0xFF) | 0x1F)
        t.flushSoftTLB()
    }

    // MARK: TLB

    /// Flushes `hart`'s TLB (counted as a host flush).
    public func flushTLB(hart h: Int) {
        let t = hart(h)
        t.tlb.counters.hostFlushes &+= 1
        t.flushTLB(vaddr: nil, asid: nil, space: .all)
        if observes(.tlbFlush) { deliver(.tlbFlush(hart: h, va: nil, asid: nil), hart: currentHart) }
    }

    /// The valid entries of `hart`'s TLB.
    public func tlbEntries(hart h: Int = 0) -> [TLBEntry] { hart(h).tlb.publicEntries() }

    /// The valid entries of `hart`'s nested TLB (`TLBConfiguration.nestedEntries`), in slot order.
    public func nestedTLBEntries(hart h: Int = 0) -> [NestedTLBEntryView] { hart(h).tlb.publicNestedEntries() }

    /// The valid entries of `hart`'s page-walk cache (`TLBConfiguration.walkCacheEntries`), in slot order.
    public func walkCacheEntries(hart h: Int = 0) -> [WalkCacheEntryView] { hart(h).tlb.publicWalkCacheEntries() }

    /// Counters of `hart` (exact, including the fast path's TLB hits).
    public func counters(hart h: Int = 0) -> HartCounters { hart(h).counters }

    /// Instructions `hart` has retired (`HartCounters.instructions`), without gathering the other
    /// counters: a VMM stamps every event it reports with it.
    public func instructionsRetired(hart h: Int = 0) -> UInt64 { hart(h).state.pointee.instret }

    /// Instructions `hart` has retired or trapped: its share of what `run`'s `maxInstructions`
    /// counts (`totalInstructions`), so a debugger's single step of one hart ends when it moves.
    public func instructionsExecuted(hart h: Int) -> UInt64 {
        let s = hart(h).state
        return s.pointee.instret &+ s.pointee.exceptionsTaken
    }

    /// Cycles of the machine's clock.
    public var cycles: UInt64 { currentCycles }

    /// Advances `hart`'s clock by `cycles`: work a VMM in Swift did on the hart's behalf (emulating
    /// an instruction, filling a shadow entry), so that guest-visible time includes it.
    public func charge(_ cycles: UInt64, hart h: Int = 0) {
        hart(h).state.pointee.cycles &+= cycles
    }

    // MARK: stopping

    /// Stops `run` at the next instruction boundary with `reason` (a device powering off or
    /// resetting the machine, or the host).
    public func requestStop(_ reason: StopReason) {
        // A power-off or reset already requested ends the machine's life: a later, weaker request
        // (a hook, a budget trigger) on the same instruction must not replace it, or the run would
        // go on past the guest's last store.
        switch pendingStop {
        case .poweredOff?, .reset?:
            if case .poweredOff = reason {} else if case .reset = reason {} else { return }
        default: break
        }
        pendingStop = reason
        if let h = currentHart {
            harts[h].state.pointee.exitSlice = .stop
        } else {
            // Between slices (a device's deadline, an observer of an interrupt): the next slice
            // must not run, so its first fetch goes through the refill path, which sees the stop.
            for t in harts { t.invalidateFetch() }
        }
    }

    // MARK: physical memory (loaders, tests)

    /// Copies `bytes` into RAM at physical `address`; false (copying nothing) unless all is RAM.
    /// Not DMA: no event, no counter, no watchpoint.
    @discardableResult
    public func loadPhysical(_ bytes: [UInt8], at address: UInt64) -> Bool {
        bytes.withUnsafeBytes { copyIn(address, from: $0) }
    }

    /// `count` bytes of RAM at physical `address`, or nil unless all is RAM.
    public func readPhysical(at address: UInt64, count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { copyOut(address, into: $0) }
        return ok ? out : nil
    }

    /// The little-endian 64-bit word of RAM at physical `address`, or nil unless all of it is
    /// RAM: `readPhysical` without an array, for a VMM's software page walks.
    public func readPhysicalWord(at address: UInt64) -> UInt64? {
        readPhysical(littleEndianAt: address, count: 8)
    }

    /// The `count` (1 to 8) bytes of RAM at physical `address` as a little-endian number, or nil
    /// unless all of them are RAM: `readPhysical` without an array, for a VMM's slow paths
    /// (fetching the instruction at a guest pc, the old value of an emulated AMO).
    public func readPhysical(littleEndianAt address: UInt64, count: Int) -> UInt64? {
        precondition((1...8).contains(count), "1 to 8 bytes")
        let ram = bus.ram
        guard ram.contains(address, count: UInt64(count)) else { return nil }
        // A whole word (every step of a software page walk) is one load.
        if count == 8 { return UInt64(littleEndian: ram.pointer(address).loadUnaligned(as: UInt64.self)) }
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { $0.baseAddress!.copyMemory(from: ram.pointer(address), byteCount: count) }
        return UInt64(littleEndian: word)
    }

    /// Copies the low `count` (1 to 8) bytes of `value`, least significant first, into RAM at
    /// physical `address`; false (copying nothing) unless all is RAM. `loadPhysical` without an
    /// array, for a VMM that performs a guest's store (a traced write).
    @discardableResult
    public func loadPhysical(littleEndian value: UInt64, count: Int, at address: UInt64) -> Bool {
        precondition((1...8).contains(count), "1 to 8 bytes")
        var word = value.littleEndian
        return withUnsafeBytes(of: &word) { copyIn(address, from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    // MARK: host memory (a VMM carving guest RAM out of this machine's RAM)

    /// The host address of physical `[address, address + count)`, or nil unless it is wholly RAM.
    /// Memory written through it bypasses this machine's coherence: call `memoryChanged` after
    /// writing (see "Observing a Machine", "External RAM").
    public func hostPointer(physical address: UInt64, count: UInt64) -> UnsafeMutableRawPointer? {
        guard bus.ram.contains(address, count: count) else { return nil }
        return bus.ram.pointer(address)
    }

    /// Something that keeps this machine's RAM alive, for `ExternalRAM.owner`.
    public var ramOwner: AnyObject { bus.ram }

    /// Tells the machine that physical `[address, address + count)` of its RAM was written behind
    /// its back (through a host pointer, or by another machine sharing the memory): decoded
    /// instructions and LR reservations on it are dropped, as for a DMA write.
    public func memoryChanged(physical address: UInt64, count: UInt64) {
        let ram = bus.ram
        let lo = max(address, ram.base), hi = min(address &+ count, ram.base &+ ram.size)
        guard lo < hi else { return }
        invalidateWritten(lo, count: hi - lo)
    }
}

extension Machine: InterruptPins {
    public func setPin(_ pin: InterruptPin, hart h: Int, level: Bool) {
        guard harts.indices.contains(h) else { return }
        let s = harts[h].state
        let bit: UInt64 = 1 << UInt64(pin.rawValue)
        let old = s.pointee.mipPins
        s.pointee.mipPins = level ? old | bit : old & ~bit
        if old != s.pointee.mipPins {
            s.pointee.exitSlice = .checkInterrupts
            if let c = currentHart, c != h { harts[c].state.pointee.exitSlice = .checkInterrupts }
            if observes(.pin) { deliver(.pin(hart: h, pin: pin, level: level), hart: currentHart) }
        }
    }
}

extension Machine: TimeSource {}

extension Machine: DMAMemory {
    /// A device reads guest memory: counted and reported as DMA (never a watchpoint hit).
    public func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard reachableByDMA(address, buffer.count), copyOut(address, into: buffer) else { return false }
        tally.dmaReads &+= 1
        tally.dmaBytesRead &+= UInt64(buffer.count)
        if observes(.dma) { deliver(.dma(address: address, count: buffer.count, isWrite: false), hart: currentHart) }
        return true
    }

    /// A device writes guest memory: counted and reported as DMA (never a watchpoint hit).
    public func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        guard reachableByDMA(address, buffer.count), copyIn(address, from: buffer) else { return false }
        tally.dmaWrites &+= 1
        tally.dmaBytesWritten &+= UInt64(buffer.count)
        dmaWriteObserver?(address, buffer.count)
        if observes(.dma) { deliver(.dma(address: address, count: buffer.count, isWrite: true), hart: currentHart) }
        return true
    }

    /// Whether a device may read or write `count` bytes at `address`: RAM, below `dmaLimit`.
    public func isReachableByDMA(_ address: UInt64, count: Int) -> Bool {
        reachableByDMA(address, count) && bus.ram.contains(address, count: UInt64(count))
    }

    /// Whether `count` bytes at `address` lie below `dmaLimit`.
    func reachableByDMA(_ address: UInt64, _ count: Int) -> Bool {
        address < dmaLimit && UInt64(count) <= dmaLimit - address
    }

    func copyOut(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard bus.ram.contains(address, count: UInt64(buffer.count)) else { return false }
        if buffer.count > 0 { buffer.baseAddress!.copyMemory(from: bus.ram.pointer(address), byteCount: buffer.count) }
        return true
    }

    func copyIn(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        let n = UInt64(buffer.count)
        guard bus.ram.contains(address, count: n) else { return false }
        guard n > 0 else { return true }
        bus.ram.pointer(address).copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
        invalidateWritten(address, count: n)
        return true
    }

    /// Keeps decoded code and reservations coherent after a write to RAM not made by a hart.
    func invalidateWritten(_ address: UInt64, count n: UInt64) {
        code.invalidate(address, count: n)
        ramWriteLog?.noteOtherWrite(address, count: n)
        // A write from outside the harts breaks every hart's reservation on the bytes it covers.
        for h in harts {
            let r = h.state.pointee.reservation
            if r != noReservation && r < address &+ n && address < r &+ 8 { h.state.pointee.reservation = noReservation }
        }
    }
}

extension Machine {
    /// Puts every hart in its reset state (privileged spec, "Reset"): M-mode, MIE and MPRV clear,
    /// no delegation, interrupts disabled, satp Bare, PMP entries off and unlocked, TLBs empty, no
    /// reservation, registers zero; each hart is stopped until `startHart`. Event counters keep
    /// counting across a reset; the machine's clock is not rewound. `clearRAM` also zeroes RAM.
    public func reset(clearRAM: Bool = false) {
        if clearRAM {
            bus.ram.zero()
            code.clear()
        }
        interruptedTurn = nil
        for h in harts {
            let s = h.state
            h.foldCounters()
            for i in 0..<64 { s.pointee.regs[i] = 0 }
            s.pointee.priv = 3
            s.pointee.mstatus = Mstatus.uxlSxl
            s.pointee.medeleg = 0
            s.pointee.mideleg = 0
            s.pointee.mie = 0
            s.pointee.mipSoft = 0
            s.pointee.mtvec = 0
            s.pointee.stvec = 0
            s.pointee.mcounteren = 0
            s.pointee.scounteren = 0
            // Sstc's comparators stop driving STIP and VSTIP with STCE cleared.
            if h.supervisorTimerCompareEnabled { setPin(.stip, hart: h.id, level: false) }
            if timerCompare != nil { setPin(.vstip, hart: h.id, level: false) }
            s.pointee.stimecmp = .max
            s.pointee.vstimecmp = .max
            s.pointee.menvcfg = 0
            s.pointee.senvcfg = 0
            s.pointee.mcountinhibit = 0
            s.pointee.mscratch = 0
            s.pointee.sscratch = 0
            s.pointee.mepc = 0
            s.pointee.sepc = 0
            s.pointee.mcause = 0
            s.pointee.scause = 0
            s.pointee.mtval = 0
            s.pointee.stval = 0
            s.pointee.satp = 0
            s.pointee.virt = false
            s.pointee.hyper = HypervisorCSRs()
            s.pointee.fflags = 0
            s.pointee.frm = 0
            s.pointee.reservation = noReservation
            h.dropRedirect()
            s.pointee.runState = .stopped
            s.pointee.pc = configuration.ramBase
            h.pmp.reset()
            h.tlb.flushAll()
            h.flushSoftTLB()
            h.privilegeChanged()
        }
        reservedPages = []
        pendingStop = nil
        lastBreakpoint = nil
    }
}

extension Machine {
    /// Drops the decoded code (and blocks) overlapping [physical, physical + count) without a
    /// write, so the next execution decodes it again and shows it to the `translator` afresh
    /// (a translator that changed its mind about an instruction, e.g. adaptive translation).
    /// A hart fetching from those bytes refills its fetch page (so the next execution there,
    /// even later in the current slice, decodes again). Bytes outside RAM hold no decoded code.
    public func retranslate(physical address: UInt64, count: UInt64) {
        let ram = bus.ram
        let lo = max(address, ram.base), hi = min(address &+ count, ram.base &+ ram.size)
        guard lo < hi else { return }
        code.invalidate(lo, count: hi - lo)
        for h in harts where h.state.pointee.fetchOps != h.refillPage {
            // The dropped slots include a 32-bit instruction starting two bytes before `lo`.
            let page = h.state.pointee.fetchPhys
            if page < hi && lo &- 2 < page &+ 4096 { h.invalidateFetch() }
        }
    }
}
