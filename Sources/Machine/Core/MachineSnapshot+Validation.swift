// What a restore checks of a snapshot before it changes anything, beyond its shape. A snapshot
// made by `Machine.snapshot()` always passes; one read from a file may not, and the restore then
// copies arrays by the machine's own sizes and uses saved values as indices: a file with a short
// array, a privilege no hart can be in, or a TLB replacement pointer past its set would otherwise
// crash the process or leave a hart in a state the architecture cannot reach.

extension MachineSnapshot {
    /// The first thing in the snapshot that cannot be this machine's state, or nil.
    func flaw(for machine: Machine) -> String? {
        guard harts.count == machine.harts.count else { return "\(harts.count) harts saved for \(machine.harts.count)" }
        for (hart, image) in zip(machine.harts, harts) {
            if let flaw = image.flaw(for: hart) { return "hart \(hart.id): \(flaw)" }
        }
        if let flaw = ramFlaw { return flaw }
        if let turn = interruptedTurn, !(0..<harts.count).contains(turn.hart) { return "the interrupted turn's hart \(turn.hart)" }
        if let b = lastBreakpoint, !(0..<harts.count).contains(b.hart) { return "the last breakpoint's hart \(b.hart)" }
        return nil
    }

    /// What is wrong with the saved RAM (pages out of order or beyond the snapshot's own RAM size,
    /// bytes that are not its pages' length), or nil. It needs no machine: a snapshot file's
    /// reader asks it too.
    public var ramFlaw: String? {
        let pageSize = UInt64(Machine.snapshotPageSize)
        let pagesInRAM = shape.ramSize / pageSize
        var previous: UInt32? = nil
        for page in ramPages {
            if UInt64(page) >= pagesInRAM { return "RAM page \(page) is beyond RAM's \(pagesInRAM) pages" }
            if let p = previous, page <= p { return "RAM pages out of order" }
            previous = page
        }
        if ramBytes.count != ramPages.count * Machine.snapshotPageSize {
            return "\(ramBytes.count) bytes of RAM for \(ramPages.count) pages"
        }
        return nil
    }
}

extension MachineSnapshot.HartImage {
    func flaw(for hart: Hart) -> String? {
        let privileges: Set<UInt8> = [0, 1, 3]
        guard privileges.contains(state.priv), privileges.contains(state.dataPriv) else { return "privilege \(state.priv)/\(state.dataPriv)" }
        guard privileges.contains(UInt8((state.mstatus & Mstatus.mpp) >> Mstatus.mppShift)) else { return "mstatus.MPP is 2" }
        guard state.frm <= 7, state.fflags <= 0x1F else { return "fcsr 0x\(String(state.frm << 5 | state.fflags, radix: 16))" }
        guard state.virt == false || hart.hasHypervisor else { return "V set on a hart without the hypervisor extension" }
        guard registers.count == 64, trapCounts.count == 192 else { return "\(registers.count) registers, \(trapCounts.count) trap counts" }
        let tlb = hart.tlb
        guard tlbEntries.count == tlb.count, tlbReplacement.count == tlb.sets, tlbPerLevel.count == 5 else {
            return "a TLB of \(tlbEntries.count) entries in \(tlbReplacement.count) sets, not \(tlb.count) in \(tlb.sets)"
        }
        guard tlbReplacement.allSatisfy({ (0..<tlb.ways).contains($0) }) else { return "a TLB replacement pointer beyond its set" }
        guard tlbEntries.allSatisfy({ $0.level < 5 }), tlbPerLevel.allSatisfy({ (0...tlb.count).contains($0) }) else {
            return "a TLB entry's level"
        }
        guard nestedTLB.count == tlb.nestedCount, (0..<max(1, tlb.nestedCount)).contains(nestedTLBNext) else {
            return "a nested TLB of \(nestedTLB.count) entries, not \(tlb.nestedCount)"
        }
        guard walkCache.count == tlb.walkCacheCount, (0..<max(1, tlb.walkCacheCount)).contains(walkCacheNext),
              walkCache.allSatisfy({ $0.level < 4 }) else {
            return "a page-walk cache of \(walkCache.count) entries, not \(tlb.walkCacheCount)"
        }
        guard pmpConfiguration.count == 64, pmpAddresses.count == 64 else { return "PMP registers" }
        guard triggers.tdata1.count == TriggerModule.count, triggers.tdata2.count == TriggerModule.count,
              triggers.select < UInt64(TriggerModule.count) else { return "trigger registers" }
        guard (0...4).contains(lastTranslationLevel), uncountedTrapStreak >= 0 else { return "translation bookkeeping" }
        return nil
    }
}
