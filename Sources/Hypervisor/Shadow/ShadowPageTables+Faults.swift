// The shadow pager's faults: a page fault the hart took for the guest, resolved against the
// guest's own tables — a hidden fault fills the shadow path (4 KiB leaves, prefetching the 2 MiB
// under a guest superpage or a bare guest), a true fault goes back to the guest, a store to a
// write-protected page-table page becomes a traced write — and the flags a shadow leaf gets.

import RISCV
import Machine

extension ShadowPageTables {
    /// Resolves a page fault the hart took for the guest at `va` (what mtval held) for `access`.
    public func handleFault(va: UInt64, access: GuestAccess) -> ShadowFaultResolution {
        guard let ctx = current else { preconditionFailure("no shadow is active") }
        let (result, entries) = GuestPageWalker.walkEntries(va, access, guestContext(view), map: map, memory: words, asGuestAccess: true)
        guard case .translated(let gpa, let leaf, let level) = result else {
            counters.trueFaults &+= 1
            if case .fault(let cause) = result { return .guestFault(.exception(cause, tval: va)) }
            return .guestFault(.exception(access.pageFault, tval: va))
        }
        guard map.machineAddress(gpa) != nil else {
            // The guest's tables name memory outside the VM: no shadow entry, an access fault instead.
            counters.trueFaults &+= 1
            return .guestFault(.exception(access.accessFault, tval: va))
        }
        if access == .store && isWriteProtected(guestPhysical: gpa) { return .tracedWrite(guestPhysical: gpa) }
        // The guest's tables permit the store, which is about to be made: the page is written
        // (and, if the dirty log had it clean, mapped writable from here on).
        if access == .store { noteGuestStore(guestPhysical: gpa) }
        let flags = leafFlags(guestLeaf: leaf, frame: gpa & ~(Sv39.pageSize - 1))
        let needed = access == .fetch ? Sv39.x : access == .load ? Sv39.r : Sv39.w
        // A guest that keeps its privileges loads from an execute-only leaf with MXR itself.
        let readableByMXR = keepsGuestPrivilege && access == .load && mxr && flags & Sv39.x != 0
        if flags & needed == 0 && !readableByMXR {
            // The guest's tables and the view disagree (never expected): a fault for the guest,
            // not a fill that would fault again forever.
            counters.trueFaults &+= 1
            return .guestFault(.exception(access.pageFault, tval: va))
        }
        if !fill(ctx, va: va, entries: entries, level: level, leaf: leaf, gpa: gpa) {
            // The pool cannot hold even this address space: start it over and fill once more.
            drop(ctx, view: .user)
            drop(ctx, view: .kernel)
            flushHardwareTLB()
            reloadAll()
            var (again, entries) = GuestPageWalker.walkEntries(va, access, guestContext(view), map: map, memory: words, asGuestAccess: true)
            if case .translated(let g, let l, let level) = again, fill(ctx, va: va, entries: entries, level: level, leaf: l, gpa: g) {
                // Filled.
            } else {
                // Other harts' address spaces hold the pool (several vCPUs): every tree goes.
                dropEveryTree()
                reloadAll()
                (again, entries) = GuestPageWalker.walkEntries(va, access, guestContext(view), map: map, memory: words, asGuestAccess: true)
                guard case .translated(let g, let l, let level) = again, fill(ctx, va: va, entries: entries, level: level, leaf: l, gpa: g) else {
                    preconditionFailure("shadow pool too small for one walk")
                }
            }
        }
        counters.hiddenFaults &+= 1
        return .filled
    }

    /// Builds the shadow path for `va` in the current view and writes its 4 KiB leaf, from the
    /// guest walk's `entries` and its `leaf` at `level`. False when the pool ran dry.
    func fill(_ ctx: Context, va: UInt64, entries: WalkedEntries, level leafLevel: Int, leaf: UInt64, gpa: UInt64) -> Bool {
        guard var table = ctx.roots[tree.rawValue] else { return false }
        for level in stride(from: ctx.key.levels - 1, to: 0, by: -1) {
            markUsed(table)
            let slot = table &+ Sv39.index(va, level: level) &* 8
            let e = words.read(slot) ?? 0
            if e & Sv39.v != 0 {
                table = Sv39.address(e)
                continue
            }
            // The next shadow table mirrors the guest's next table, unless the guest maps a
            // superpage here (or runs bare), which the shadow splits into 4 KiB pages.
            var source: UInt64?
            if let pte = entries.pte(atLevel: level), !Sv39.isLeaf(pte) {
                source = Sv39.address(pte)
            }
            guard let page = allocate(for: ctx, level: level - 1, source: source, parent: slot) else { return false }
            words.write(slot, Sv39.entry(page, Sv39.v))
            table = page
        }
        markUsed(table)
        let slot = table &+ Sv39.index(va, level: 0) &* 8
        let old = words.read(slot) ?? 0
        let frame = gpa & ~(Sv39.pageSize - 1)
        guard let (target, _) = map.machineAddress(frame) else { return false }
        let flags = leafFlags(guestLeaf: leaf, frame: frame)
        guard flags != 0 else { return true }
        words.write(slot, Sv39.entry(target, flags))
        if flags & Sv39.w != 0 { noteWritable(slot, frame: frame, target: target) }
        // A guest superpage, or no translation at all (a kernel runs bare before it turns paging
        // on, and touches every page of RAM while it builds its free list), decides all of the
        // 2 MiB this leaf table covers.
        if leafLevel > 0 || ctx.key.bare {
            prefetch(table, va: va, gpa: gpa, leaf: leaf)
        }
        // An upgrade (a first write to a clean page) must not meet the old entry in the TLB.
        if old & Sv39.v != 0 { flushHardwareTLB() }
        return true
    }

    /// Under a guest superpage (or bare), one fault fills the whole 2 MiB of it that the shadow
    /// leaf table covers (as shadow MMUs prefetch neighbouring entries): the guest's one leaf decides
    /// all 512 entries, so a kernel's direct map costs one hidden fault per 2 MiB, not per page.
    /// Entries already present are left alone; pages outside the VM stay unmapped.
    func prefetch(_ table: UInt64, va: UInt64, gpa: UInt64, leaf: UInt64) {
        // Written in place, then the machine told once, as one write of the page would: each
        // entry is read and written alone, and nothing here reads the table otherwise.
        guard let entries = tableEntries(table) else { return }
        let base = gpa & ~((1 << 21) - 1)
        var changed = false
        for i in 0..<512 {
            guard entries[i] & Sv39.v == 0 else { continue }
            let frame = base + UInt64(i) << 12
            guard let (target, _) = map.machineAddress(frame) else { continue }
            let flags = leafFlags(guestLeaf: leaf, frame: frame)
            guard flags != 0 else { continue }
            entries[i] = Sv39.entry(target, flags)
            if flags & Sv39.w != 0 { noteWritable(table &+ UInt64(i) &* 8, frame: frame, target: target) }
            changed = true
        }
        if changed { withMachine { $0.memoryChanged(physical: table, count: Sv39.pageSize) } }
    }

    /// The 512 entries of the shadow table page at machine address `table`, in the machine's RAM
    /// itself (nil unless it is RAM): a page walked or filled whole, where a copy would cost an
    /// array. A write through it must be followed by `Machine.memoryChanged`.
    func tableEntries(_ table: UInt64) -> TableEntries? {
        withMachine { $0.hostPointer(physical: table, count: Sv39.pageSize) }.map(TableEntries.init)
    }

    /// The flags of a shadow leaf mapping guest page `frame` under guest leaf `pte`, in the current view.
    func leafFlags(guestLeaf pte: UInt64, frame: UInt64) -> UInt64 {
        if keepsGuestPrivilege { return privilegedLeafFlags(guestLeaf: pte, frame: frame) }
        var r = pte & Sv39.r != 0 || (mxr && pte & Sv39.x != 0)
        var w = pte & Sv39.w != 0
        var x = pte & Sv39.x != 0
        if current?.key.bare == true {
            // Bare: no translation in the guest's view, so no U/S page protection either.
        } else if pte & Sv39.u != 0 {
            if view == .kernel {
                // The guest kernel never executes its user pages, and touches them only with SUM.
                x = false
                if !sum { r = false; w = false }
            }
        } else if view == .user {
            r = false; w = false; x = false
        }
        // Writable only once the guest's D bit is set (so the first store reaches the VMM, which
        // sets it), never for a page the shadows mirror, nor one the dirty log has clean.
        if pte & Sv39.d == 0 || isWriteProtected(guestPhysical: frame) || writeLog.isClean(frame) { w = false }
        // No access at all is no entry: a valid entry without R or X would be a pointer to a table.
        guard r || x else { return 0 }
        var flags = Sv39.v | Sv39.u | Sv39.a | Sv39.d
        if r { flags |= Sv39.r }
        if w && r { flags |= Sv39.w }
        if x { flags |= Sv39.x }
        return flags
    }
}
