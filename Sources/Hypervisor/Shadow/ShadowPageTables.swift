// Shadow page tables: the tables the MMU really walks while a deprivileged guest runs. The guest
// keeps its own tables (Sv39, Sv48 or Sv57) in its memory; the VMM derives from them, lazily,
// tables of the same mode that map the guest's virtual addresses straight to machine addresses of
// the VM's own memory — and never to anything else. Coherence is kept by write protection: every guest page that a shadow table mirrors
// is mapped read-only in every shadow, so the guest's stores to its own page tables trap, and the
// VMM performs them (a traced write) and drops the shadow entries they affect.
//
// Ring compression: the guest kernel runs in U-mode, so every shadow leaf has U set, and the
// architecture's U/S page protection must be rebuilt in two views of each guest address space:
// the guest-kernel view maps the guest's kernel pages (and its user pages, without execute, when
// the guest sets sstatus.SUM); the guest-user view maps only the guest's user pages.
//
// A guest that keeps its own privileges (VS- and VU-mode under `hw` with shadow paging) needs no
// ring compression: its shadow leaves keep the guest's U bit, one tree per address space, and the
// hardware checks U/S, SUM and MXR itself (ShadowPageTables+GuestPrivilege.swift). Such a guest
// may run several vCPUs: the address spaces are shared, each hart runs its own (`currents`), and
// whatever drops a tree reloads every hart and flushes every hart's TLB.
//
// Shadow leaves are always 4 KiB pages, whatever the guest's page size, so that one write-protected
// page-table page inside a guest superpage costs one read-only 4 KiB entry, not the whole superpage.

import RISCV
import Machine

/// Which of a guest address space's two shadow views the hart walks.
public enum ShadowView: Int, Sendable, CaseIterable, CustomStringConvertible, Codable {
    /// The guest's user mode: only its U pages.
    case user = 0
    /// The guest's kernel: its S pages, and its U pages as data when SUM is set.
    case kernel = 1

    public var description: String { self == .user ? "user" : "kernel" }
    /// The privilege the guest believes it runs at in this view.
    public var guestPrivilege: PrivilegeMode { self == .user ? .user : .supervisor }
}

/// What the shadow pager has done so far.
public struct ShadowCounters: Sendable, Equatable, Codable {
    /// Faults the guest never sees: a shadow entry filled (or upgraded for a first write).
    public var hiddenFaults: UInt64 = 0
    /// Faults the guest's own tables cause: reflected to the guest kernel.
    public var trueFaults: UInt64 = 0
    /// Stores to write-protected guest page-table pages, performed by the VMM.
    public var tracedWrites: UInt64 = 0
    /// Shadow table pages in use now.
    public var shadowPages: UInt64 = 0
    /// Shadow table pages ever allocated.
    public var pagesAllocated: UInt64 = 0
    /// Guest address-space switches (satp writes selecting another shadow).
    public var satpSwitches: UInt64 = 0
    /// Hardware TLB flushes made for the guest (its sfence.vma, shadow downgrades, view drops).
    public var flushes: UInt64 = 0
    /// Cached shadow address spaces dropped to make room.
    public var evictions: UInt64 = 0
    /// Shadow table pages dropped because the guest kept writing the table they mirror without
    /// the shadow using them meanwhile (a write flood: `ShadowPageTables.unshadowAfter`).
    public var unshadowed: UInt64 = 0

    /// The counters under their snake_case names, for `vm:stats()`.
    public var dictionary: [String: UInt64] {
        ["hidden_faults": hiddenFaults, "true_faults": trueFaults, "traced_writes": tracedWrites,
         "shadow_pages": shadowPages, "pages_allocated": pagesAllocated, "satp_switches": satpSwitches,
         "flushes": flushes, "evictions": evictions, "unshadowed": unshadowed]
    }
}

/// How the shadow pager resolved a page fault of the guest.
public enum ShadowFaultResolution: Sendable, Equatable {
    /// A hidden fault: the shadow entry is filled; the guest retries the instruction.
    case filled
    /// The guest's own tables forbid the access (or name memory outside the VM): reflect this trap.
    case guestFault(VirtualTrap)
    /// A store to one of the guest's page-table pages: emulate it (`emulateTracedStore`).
    case tracedWrite(guestPhysical: UInt64)
}

/// A weak way to the shadows that does not reference them weakly: it lives exactly as long as they
/// do (they alone hold it), so a weak reference to it is nil once they have gone. A weak reference
/// to the shadows themselves would give them a side table, and every retain and release of them
/// would take the runtime's slow path: about 250 host instructions on each adapted store's
/// callout, measured with callgrind.
final class ShadowLink {
    /// Unchecked: the link cannot outlive the shadows, which alone hold it.
    unowned(unsafe) let shadow: ShadowPageTables
    init(_ shadow: ShadowPageTables) { self.shadow = shadow }
}

/// The shadow page tables of one VM.
public final class ShadowPageTables {
    /// Unowned: the machine holds the monitor that holds these shadows. Unchecked, as the
    /// monitor's is: every traced write reads it several times.
    public unowned(unsafe) let machine: Machine
    public let map: GuestPhysicalMap
    /// Cached guest address spaces (satp values) at most; the least recently used is evicted.
    public let capacity: Int
    public internal(set) var counters = ShadowCounters()
    /// The guest's sstatus.SUM and MXR, which shape the views (`setTranslationControls`).
    public internal(set) var sum = false
    public internal(set) var mxr = false
    /// The guest's satp and view the hart (`hart`: the one whose switch, fault or store is being
    /// handled) is running now, and the satp value loaded into it.
    public var guestSATP: UInt64 { guestSATPs[hart] }
    public internal(set) var view: ShadowView = .kernel
    public var machineSATP: UInt64 { machineSATPs[hart] }
    /// Per hart: a guest that keeps its privileges may run on several (`hw`); `trap` and `bt` run one.
    var guestSATPs: [UInt64]
    var machineSATPs: [UInt64]
    /// `counters.flushes` by the hart whose clock paid for each (the one being handled).
    public internal(set) var flushesByHart: [UInt64]
    /// Modelled cycles charged to the hart's clock per hardware TLB flush made for the guest.
    public var flushPrice: UInt64 = 0
    /// Traced writes to a guest table page, with no shadow fault walking through a shadow page
    /// that mirrors it in between, after which that shadow page is dropped (0: never). See
    /// ShadowPageTables+Unshadowing.swift.
    public var unshadowAfter = ShadowPolicy.defaultUnshadowAfter

    struct ContextKey: Hashable, Codable {
        var root: UInt64
        var asid: UInt16
        var bare: Bool
        /// The levels of the guest's translation, and of the shadow tree: 3 (Sv39), 4 (Sv48) or 5
        /// (Sv57). A bare guest's shadow is Sv39: it maps the guest's physical addresses, all
        /// below 2^38.
        var levels: Int

        init(root: UInt64, asid: UInt16, bare: Bool, levels: Int) {
            self.root = root
            self.asid = asid
            self.bare = bare
            self.levels = levels
        }

        /// The key of the address space guest satp `satp` selects.
        init(satp: UInt64) {
            let bare = satp >> 60 == 0
            self.init(root: bare ? 0 : (satp & ((1 << 44) - 1)) << 12, asid: bare ? 0 : UInt16(truncatingIfNeeded: satp >> 44),
                      bare: bare, levels: bare ? Sv39.levels : Sv39.levels(satpMode: satp >> 60) ?? Sv39.levels)
        }

        /// The guest satp that selects this address space.
        var guestSATP: UInt64 { bare ? 0 : (Sv39.satpMode(levels: levels) << 60) | (UInt64(asid) << 44) | (root >> 12) }

        private enum CodingKeys: String, CodingKey { case root, asid, bare, levels }

        init(from decoder: any Swift.Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            root = try c.decode(UInt64.self, forKey: .root)
            asid = try c.decode(UInt16.self, forKey: .asid)
            bare = try c.decode(Bool.self, forKey: .bare)
            // Absent from files written when every shadow was Sv39.
            levels = try c.decodeIfPresent(Int.self, forKey: .levels) ?? Sv39.levels
        }

        /// What `init(satp:)` can make (a snapshot file is not trusted).
        var isWellFormed: Bool { bare ? levels == Sv39.levels && root == 0 && asid == 0 : (3...5).contains(levels) }
    }

    final class Context {
        let key: ContextKey
        let slot: Int
        var roots: [UInt64?] = [nil, nil]
        var pages: Set<UInt64> = []
        var lastUse: UInt64 = 0
        init(key: ContextKey, slot: Int) { self.key = key; self.slot = slot }
    }

    struct PageInfo: Codable {
        /// 0 = leaf table; the root is at the tree's levels - 1.
        var level: Int
        /// The guest table page (guest-physical) this shadow page mirrors; nil for a table that
        /// splits a guest superpage or maps bare memory.
        var source: UInt64?
        var slot: Int
        /// The shadow entry (machine address) that points at this page; nil for a root.
        var parent: UInt64?
        /// Traced writes to `source` since a shadow fault last walked through this page.
        var floodCount = 0
    }

    var contexts: [Context?]
    /// The address space each hart runs now.
    var currents: [Context?]
    /// The hart whose switch, fault or store is being handled: `current` is its address space.
    var hart = 0
    var current: Context? {
        get { currents[hart] }
        set { currents[hart] = newValue }
    }

    /// Whether some hart runs address space `ctx` now.
    func isCurrent(_ ctx: Context) -> Bool { currents.contains { $0 === ctx } }
    var pool: ShadowPool
    /// What each pool page in use is, by its position in the pool (`ShadowPool.index(of:)`).
    var pageInfo: [PageInfo?]
    /// Guest page-table page → the shadow pages mirroring it, in the order they were made (a
    /// page is mirrored by few: one per view of each address space that reaches it). A page with
    /// an entry here is write-protected in every shadow.
    var derived: GuestPageLists
    /// The pages with an entry in `derived`, as a bitmap over the guest's RAM (kept with it by
    /// `allocate` and `freeTree`): what `isWriteProtected` reads.
    var protected: ProtectedPages
    /// Guest page → shadow leaf entries (machine addresses) that mapped it writable. Checked
    /// lazily: an entry that no longer maps the page writable is skipped, and dropped when its
    /// list fills up (`noteWritable`).
    var writableMappings: GuestPageLists
    var clock: UInt64 = 0
    /// The dirty log (ShadowPageTables+DirtyLog.swift): which guest pages were written since it
    /// was last cleared, over the span of the guest's RAM (every page written until the first
    /// clear), and its harvests.
    let writeLog: RAMWriteLog
    var dirtyLog = ShadowDirtyLogCounters()
    let words: MachineWords
    /// Held by these shadows alone: what a holder that must not keep them alive references weakly.
    private(set) lazy var link = ShadowLink(self)
    /// Whether the guest runs at its own privileges (VS/VU-mode), so that shadow leaves keep its U
    /// bit and each address space has one tree (the kernel view's slot), rather than two views of
    /// a deprivileged guest.
    public let keepsGuestPrivilege: Bool
    /// The CSR the shadow root goes into: `satp`, or `vsatp` for a guest in VS-mode.
    let satpCSR: UInt16

    /// Shadows for `machine`, with tables in the machine RAM [poolBase, poolBase + poolSize), which
    /// must lie outside every region of `map` (so no shadow can ever map it).
    /// `keepsGuestPrivilege`: the guest runs in VS/VU-mode and the roots go into `vsatp`.
    public init(machine: Machine, map: GuestPhysicalMap, poolBase: UInt64, poolSize: UInt64, capacity: Int = 8,
                keepsGuestPrivilege: Bool = false) {
        precondition(!map.overlapsMachine(poolBase, poolSize), "the shadow pool overlaps the guest's memory")
        self.machine = machine
        self.keepsGuestPrivilege = keepsGuestPrivilege
        satpCSR = keepsGuestPrivilege ? CSR.vsatp : CSR.satp
        self.map = map
        self.capacity = max(1, capacity)
        pool = ShadowPool(base: poolBase, size: poolSize)
        precondition(pool.pages >= 16, "the shadow pool needs at least 16 pages")
        precondition(machine.readPhysical(at: pool.base, count: 8) != nil, "the shadow pool is not RAM")
        contexts = Array(repeating: nil, count: self.capacity)
        let harts = max(1, machine.hartCount)
        currents = Array(repeating: nil, count: harts)
        guestSATPs = Array(repeating: 0, count: harts)
        machineSATPs = Array(repeating: 0, count: harts)
        flushesByHart = Array(repeating: 0, count: harts)
        pageInfo = Array(repeating: nil, count: pool.pages)
        writeLog = RAMWriteLog(base: map.ramPages.lowerBound << 12, size: UInt64(map.ramPages.count) << 12, clean: false)
        words = MachineWords(machine: machine, writes: writeLog)
        protected = ProtectedPages(map: map)
        derived = GuestPageLists(map: map)
        writableMappings = GuestPageLists(map: map)
    }

    /// `body` applied to the machine without a retain, as `TrapMonitor.withMachine` (each
    /// traced write makes several calls).
    @inline(__always) @discardableResult
    func withMachine<R>(_ body: (Machine) -> R) -> R {
        Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef(body)
    }

    /// Whether guest-physical page `frame` is mirrored by some shadow table (and so write-protected).
    @inline(__always)
    public func isWriteProtected(guestPhysical gpa: UInt64) -> Bool {
        protected.contains(page: gpa >> 12) ?? !derived.isEmpty(page: gpa >> 12)
    }

    /// Whether a store to guest-virtual `va`, in the current view, lands on a write-protected
    /// page: false when the guest's own tables refuse the store (the hardware then takes the
    /// fault) or do not lead to the VM's memory. A look at the tables: no A/D bit is set.
    public func storeIsTraced(va: UInt64) -> Bool {
        guard let gpa = GuestPageWalker.physicalAddress(va, .store, guestContext(view), map: map, memory: words,
                                                        asGuestAccess: false) else { return false }
        return isWriteProtected(guestPhysical: gpa)
    }

    /// The guest's translation context in `view`.
    func guestContext(_ v: ShadowView) -> GuestTranslationContext {
        GuestTranslationContext(satp: guestSATP, privilege: v.guestPrivilege, sum: sum, mxr: mxr)
    }

    // MARK: switching

    /// Selects (building on demand) the shadow for the guest's `satp` in `view` and loads it into
    /// `hart`'s satp. Call it for every guest satp write and every change of virtual privilege.
    public func activate(satp: UInt64, view newView: ShadowView, hart h: Int) {
        hart = h
        let key = ContextKey(satp: satp)
        if current?.key != key { counters.satpSwitches &+= 1 }
        guestSATPs[hart] = satp
        view = newView
        let ctx = context(for: key)
        current = ctx
        clock &+= 1
        ctx.lastUse = clock
        load()
    }

    /// The tree the hart walks: the current view's, or the one tree of a guest that keeps its
    /// privileges and translates. A guest that keeps its privileges and runs bare has two: without
    /// translation its user mode reaches every page, as its kernel does, and no one tree can say
    /// both (a leaf with U is no kernel code, one without U no user page).
    var tree: ShadowView { tree(for: view) }

    /// The tree the hart walks in view `v` of the current address space.
    func tree(for v: ShadowView) -> ShadowView { keepsGuestPrivilege && current?.key.bare != true ? .kernel : v }

    /// Loads the current context's root for the current view into the hart, building the root if needed.
    func load() {
        guard let ctx = current else { return }
        let view = tree
        if ctx.roots[view.rawValue] == nil {
            let source = ctx.key.bare ? nil : ctx.key.root
            let level = ctx.key.levels - 1
            var page = allocate(for: ctx, level: level, source: source)
            if page == nil {
                // Even the current address space's other view could not make room: start over.
                // Its entries go from the TLB too: the next tree for that view reuses its machine ASID.
                drop(ctx, view: view == .user ? .kernel : .user)
                flushHardwareTLB()
                page = allocate(for: ctx, level: level, source: source)
            }
            var othersDropped = false
            if page == nil {
                // The pool holds only trees other harts run now (several vCPUs): every tree goes,
                // and those harts get new roots below and refill on demand.
                dropEveryTree()
                othersDropped = true
                page = allocate(for: ctx, level: level, source: source)
            }
            guard let root = page else { preconditionFailure("shadow pool too small for one root") }
            ctx.roots[view.rawValue] = root
            if othersDropped {
                writeRoot(ctx, view: view)
                reloadAll()
                return
            }
        }
        writeRoot(ctx, view: view)
    }

    /// Drops the trees of every cached address space, those harts run now included (they must be
    /// reloaded), and flushes every hart's TLB.
    func dropEveryTree() {
        for case let ctx? in contexts {
            drop(ctx, view: .user)
            drop(ctx, view: .kernel)
        }
        flushHardwareTLB()
    }

    /// Loads `ctx`'s root for `view` into the hart.
    private func writeRoot(_ ctx: Context, view: ShadowView) {
        let asid = UInt64(ctx.slot * 2 + view.rawValue + 1)
        machineSATPs[hart] = (Sv39.satpMode(levels: ctx.key.levels) << 60) | (asid << 44) | (ctx.roots[view.rawValue]! >> 12)
        withMachine { $0.writeCSR(satpCSR, machineSATPs[hart], hart: hart) }
    }

    /// `load` for every hart that runs an address space: after a drop of trees some hart other
    /// than the current one may have been walking.
    func reloadAll() {
        let handling = hart
        for h in currents.indices where currents[h] != nil {
            hart = h
            load()
        }
        hart = handling
    }

    func context(for key: ContextKey) -> Context {
        if let c = contexts.lazy.compactMap({ $0 }).first(where: { $0.key == key }) { return c }
        let slot: Int
        if let free = contexts.firstIndex(where: { $0 == nil }) {
            slot = free
        } else {
            // The least recently used that no other hart runs; with a cache of one, that is the
            // address space being left. (A cache holds at least one address space per hart.)
            let all = contexts.compactMap { $0 }
            let others = currents.indices.filter { $0 != hart }.compactMap { currents[$0] }
            let victim = all.filter { c in !others.contains { $0 === c } }.min { $0.lastUse < $1.lastUse } ?? all[0]
            if victim === current { current = nil }
            slot = victim.slot
            evict(victim)
        }
        let c = Context(key: key, slot: slot)
        contexts[slot] = c
        return c
    }

    func evict(_ ctx: Context) {
        drop(ctx, view: .user)
        drop(ctx, view: .kernel)
        contexts[ctx.slot] = nil
        counters.evictions &+= 1
        // Its machine ASIDs will be reused by the next address space in this slot.
        flushHardwareTLB()
    }

    /// Frees one view's whole tree.
    func drop(_ ctx: Context, view v: ShadowView) {
        guard let root = ctx.roots[v.rawValue] else { return }
        freeTree(root)
        ctx.roots[v.rawValue] = nil
    }

    /// The guest changed sstatus.SUM or MXR: the views they shape are rebuilt from scratch. SUM
    /// shapes only the guest-kernel view; MXR both.
    public func setTranslationControls(sum newSUM: Bool, mxr newMXR: Bool) {
        guard newSUM != sum || newMXR != mxr else { return }
        let views: [ShadowView] = newMXR != mxr ? [.user, .kernel] : [.kernel]
        sum = newSUM
        mxr = newMXR
        for case let ctx? in contexts { for v in views { drop(ctx, view: v) } }
        flushHardwareTLB()
        reloadAll()
    }

    /// Drops every shadow (all cached address spaces) and reloads the current ones empty.
    public func flushAll() {
        for case let ctx? in contexts where !isCurrent(ctx) { evict(ctx) }
        for case let ctx? in contexts {
            drop(ctx, view: .user)
            drop(ctx, view: .kernel)
        }
        flushHardwareTLB()
        reloadAll()
    }

    /// The guest's sfence.vma. Shadows are kept coherent by write protection, so only the hardware
    /// TLB (which caches shadow entries) is flushed.
    public func fence(va: UInt64?, asid: UInt16?) {
        flushHardwareTLB()
    }

    func flushHardwareTLB() {
        counters.flushes &+= 1
        flushesByHart[hart] &+= 1
        withMachine { machine in
            if flushPrice != 0 { machine.charge(flushPrice, hart: hart) }
            for h in 0..<machine.hartCount { machine.flushTLB(hart: h) }
        }
    }

    // MARK: page management

    /// A fresh shadow table page for `ctx`, evicting other address spaces when the pool is empty.
    func allocate(for ctx: Context, level: Int, source: UInt64?, parent: UInt64? = nil) -> UInt64? {
        var page = withMachine { pool.allocate(in: $0) }
        while page == nil {
            guard let victim = contexts.compactMap({ $0 }).filter({ $0 !== ctx && !isCurrent($0) })
                .min(by: { $0.lastUse < $1.lastUse }) else { return nil }
            evict(victim)
            page = withMachine { pool.allocate(in: $0) }
        }
        guard let p = page else { return nil }
        pageInfo[pool.index(of: p)!] = PageInfo(level: level, source: source, slot: ctx.slot, parent: parent)
        ctx.pages.insert(p)
        counters.shadowPages &+= 1
        counters.pagesAllocated &+= 1
        if let s = source {
            let first = derived.isEmpty(page: s >> 12)
            derived.append(p, page: s >> 12)
            if first {
                protected.set(page: s >> 12, true)
                writeProtect(s)
            }
        }
        return p
    }

    /// Frees shadow page `page` and every table below it.
    func freeTree(_ page: UInt64) {
        guard let index = pool.index(of: page), let info = pageInfo[index] else { return }
        // Read in place: freeing the tables below writes no memory, this page's least of all.
        if info.level > 0, let table = tableEntries(page) {
            for i in 0..<512 {
                let e = table[i]
                if e & Sv39.v != 0 && !Sv39.isLeaf(e) { freeTree(Sv39.address(e)) }
            }
        }
        if let s = info.source {
            if !derived.isEmpty(page: s >> 12) {
                derived.remove(page, page: s >> 12)
                if derived.isEmpty(page: s >> 12) { protected.set(page: s >> 12, false) }
            }
        }
        contexts[info.slot]?.pages.remove(page)
        pageInfo[index] = nil
        pool.release(page)
        counters.shadowPages &-= 1
    }

    /// Guest page `frame` became a page-table page: no shadow may map it writable any longer.
    func writeProtect(_ frame: UInt64) {
        if withdrawWrite(frame: frame) > 0 { flushHardwareTLB() }
    }

    /// Makes every shadow leaf that maps guest page `frame` writable read-only (for page-table
    /// protection, or the dirty log); how many were. The caller flushes the TLBs.
    func withdrawWrite(frame: UInt64) -> Int {
        let entries = writableMappings.removeAll(page: frame >> 12)
        guard !entries.isEmpty, let target = map.machineAddress(frame)?.address else { return 0 }
        var changed = 0
        for a in entries {
            guard let e = words.read(a), e & Sv39.v != 0, e & Sv39.w != 0, Sv39.address(e) == target else { continue }
            words.write(a, e & ~Sv39.w)
            changed += 1
        }
        return changed
    }

    /// Records that the shadow entry at machine address `slot` maps guest page `frame` (machine
    /// address `target`) writable, for `writeProtect`. Nothing else removes an entry, so a page
    /// mapped writable again and again (a kernel's direct map, refilled in every shadow made and
    /// dropped as address spaces come and go) would grow its list without bound; a full list
    /// first drops the entries that no longer map the page writable, and repeats of one entry.
    /// (Every write of a writable entry comes here, so one dropped and made writable again is
    /// listed again.)
    @inline(__always)
    func noteWritable(_ slot: UInt64, frame: UInt64, target: UInt64) {
        let page = frame >> 12
        if writableMappings.isFull(page: page) { dropStaleWritableMappings(page: page, target: target) }
        writableMappings.append(slot, page: page)
    }

    @inline(never)
    private func dropStaleWritableMappings(page: UInt64, target: UInt64) {
        writableMappings.sortDroppingRepeats(page: page) { a in
            guard let e = words.read(a) else { return true }
            return e & Sv39.v == 0 || e & Sv39.w == 0 || Sv39.address(e) != target
        }
    }

    // MARK: coherence

    /// The guest (or a device, or the VMM) wrote `size` bytes at guest-physical `gpa`: every shadow
    /// entry mirroring a guest page-table entry in that range is dropped (and the subtree below it).
    /// `guestWrote` for a write named by machine-physical address (a device's DMA), page by
    /// page, since the guest's regions need not be contiguous in the machine.
    public func machineWrote(machinePhysical ma: UInt64, count: Int) {
        var done = 0
        while done < count {
            let at = ma &+ UInt64(done)
            let chunk = min(count - done, Int(Sv39.pageSize - (at & (Sv39.pageSize - 1))))
            if let gpa = map.guestAddress(ofMachine: at) { guestWrote(guestPhysical: gpa, size: chunk) }
            done += chunk
        }
    }

    public func guestWrote(guestPhysical gpa: UInt64, size: Int) {
        guard size > 0 else { return }
        writeLog.noteOtherWrite(gpa, count: UInt64(size))
        var changed = false
        var slot = gpa & ~7
        while slot < gpa &+ UInt64(size) {
            let frame = slot & ~(Sv39.pageSize - 1)
            // A copy: freeing a subtree below changes the lists.
            let pages = derived[frame >> 12]
            if !pages.isEmpty {
                let entry = (slot & (Sv39.pageSize - 1)) >> 3
                for page in pages {
                    guard let index = pool.index(of: page), let info = pageInfo[index] else { continue }
                    let a = page &+ entry &* 8
                    guard let e = words.read(a), e & Sv39.v != 0 else { continue }
                    if info.level > 0 && !Sv39.isLeaf(e) { freeTree(Sv39.address(e)) }
                    words.write(a, 0)
                    changed = true
                }
            }
            slot &+= 8
        }
        if changed { flushHardwareTLB() }
    }
}
