// Looking at shadows: a walk of either the guest's tables or the shadow the hart uses, as data
// (`vm:page_tables`), and a coherence checker that compares every shadow leaf with what the guest's
// tables say now. A shadow may hold less than the guest's tables allow (entries are filled lazily,
// first writes are trapped to emulate D), never more: each entry must map the machine page the
// guest's tables and the VM's map give, with no permission the guest's tables (in that view) deny,
// and never write access to a page the shadows mirror.

import RISCV
import Machine

/// Whose tables a walk reads.
public enum PageTableSource: String, Sendable, CaseIterable {
    /// The guest's own tables (guest-physical addresses).
    case guest
    /// The shadow tables the hart walks (machine-physical addresses).
    case shadow
}

/// One shadow entry that disagrees with the guest's tables.
public struct ShadowIncoherence: Sendable, Equatable, CustomStringConvertible {
    /// The guest satp of the shadow address space.
    public var guestSATP: UInt64
    public var view: ShadowView
    public var va: UInt64
    /// The shadow leaf and where it is (machine-physical).
    public var shadowPTE: UInt64
    public var shadowAddress: UInt64
    public var problem: String

    public var description: String {
        "satp 0x\(String(guestSATP, radix: 16)) \(view) va 0x\(String(va, radix: 16)): \(problem) (shadow pte 0x\(String(shadowPTE, radix: 16)))"
    }
}

extension ShadowPageTables {
    /// The walk of `va` through the guest's tables (in the current view's privilege, without A/D
    /// side effects) or through the shadow the hart walks for `view` (default: the current one).
    public func walk(_ source: PageTableSource, va: UInt64, view v: ShadowView? = nil) -> PageTableWalk {
        let which = v ?? view
        switch source {
        case .guest:
            return GuestPageWalker.walk(va, .load, guestContext(which), map: map, memory: words, asGuestAccess: false)
        case .shadow:
            guard let ctx = current, let root = ctx.roots[tree(for: which).rawValue] else {
                return PageTableWalk(mode: Sv39.modeName(levels: current?.key.levels ?? Sv39.levels), root: 0, steps: [],
                                     result: .fault(.loadPageFault))
            }
            return shadowWalk(va, root: root, levels: ctx.key.levels)
        }
    }

    /// The walk of `va` through the shadow tree of `levels` levels at `root`, as the MMU makes it.
    func shadowWalk(_ va: UInt64, root: UInt64, levels: Int) -> PageTableWalk {
        var w = PageTableWalk(mode: Sv39.modeName(levels: levels), root: root, steps: [], result: .fault(.loadPageFault))
        guard Sv39.isCanonical(va, levels: levels) else { return w }
        var table = root
        for level in stride(from: levels - 1, through: 0, by: -1) {
            let a = table &+ Sv39.index(va, level: level) &* 8
            guard let e = words.read(a) else { return w }
            w.steps.append(PageTableStep(level: level, pteAddress: a, pte: e))
            guard e & Sv39.v != 0 else { return w }
            if Sv39.isLeaf(e) {
                let bits = 12 + 9 * UInt64(level)
                w.result = .translated(physical: (Sv39.address(e) & ~((1 << bits) - 1)) | (va & ((1 << bits) - 1)), leaf: e, level: level)
                return w
            }
            table = Sv39.address(e)
        }
        return w
    }

    /// Where `va` leads through the guest's own tables for `access` in the current view (at the
    /// privilege the guest believes it has, with its SUM and MXR), without updating A/D: the
    /// guest-physical address a tool reaches through "guest-virtual". The shadow would answer only
    /// for what it has filled so far, and for the hart's privilege, not the guest's.
    public func guestTranslation(_ va: UInt64, _ access: GuestAccess) -> PageTableWalk {
        GuestPageWalker.walk(va, access, guestContext(view), map: map, memory: words, asGuestAccess: false)
    }

    /// Every shadow leaf, in every cached address space and view, that disagrees with the guest's
    /// tables as they are now, and every hart TLB entry the shadows no longer back. Empty when the
    /// shadows (and the TLBs caching them) are coherent.
    public func checkCoherence() -> [ShadowIncoherence] {
        var problems: [ShadowIncoherence] = []
        for case let ctx? in contexts {
            let satp = ctx.key.guestSATP
            for v in ShadowView.allCases {
                guard let root = ctx.roots[v.rawValue] else { continue }
                let context = GuestTranslationContext(satp: satp, privilege: v.guestPrivilege, sum: sum, mxr: mxr)
                visit(root, level: ctx.key.levels - 1, levels: ctx.key.levels, vpn: 0) { va, address, pte in
                    // A guest that keeps its privileges and translates has one tree: each leaf is
                    // checked at the privilege its U bit grants it to.
                    let context = self.keepsGuestPrivilege && !ctx.key.bare
                        ? GuestTranslationContext(satp: satp, privilege: pte & Sv39.u != 0 ? .user : .supervisor, sum: self.sum, mxr: self.mxr)
                        : context
                    if let p = self.disagreement(va: va, pte: pte, context: context) {
                        problems.append(ShadowIncoherence(guestSATP: satp, view: v, va: va, shadowPTE: pte,
                                                          shadowAddress: address, problem: p))
                    }
                }
            }
        }
        for h in 0..<machine.hartCount {
            for entry in machine.tlbEntries(hart: h) {
                if let p = staleness(of: entry, hart: h) { problems.append(p) }
            }
        }
        return problems
    }

    /// Why a hart's TLB entry is not backed by the shadow it was loaded from, or nil if it is. The
    /// shadows stay coherent by changing their entries and flushing only when an entry changed, so
    /// the TLB must never hold more than the shadows: an entry whose shadow is gone (a dropped view,
    /// an evicted address space) would outlive the write protection the next shadow under that
    /// machine ASID puts in place.
    func staleness(of entry: TLBEntry, hart h: Int) -> ShadowIncoherence? {
        // Machine ASIDs are slot * 2 + view + 1 (`load`).
        let index = Int(entry.asid) - 1
        let v = ShadowView(rawValue: index & 1) ?? .user
        let ctx = index >= 0 && index / 2 < contexts.count ? contexts[index / 2] : nil
        let satp = ctx?.key.guestSATP ?? 0
        func problem(_ text: String, pte: UInt64 = 0, at address: UInt64 = 0) -> ShadowIncoherence {
            ShadowIncoherence(guestSATP: satp, view: v, va: entry.virtualAddress, shadowPTE: pte, shadowAddress: address,
                              problem: "hart \(h)'s TLB (asid \(entry.asid)): \(text)")
        }
        if entry.level != 0 || entry.global { return problem("a superpage or global entry, which no shadow makes") }
        guard let origin = ctx, let root = origin.roots[v.rawValue] else { return problem("stale: the shadow it came from is gone") }
        let walk = shadowWalk(entry.virtualAddress, root: root, levels: origin.key.levels)
        let last = walk.steps.last
        guard case .translated(_, let leaf, let level) = walk.result, let at = last?.pteAddress else {
            guard let last, last.pte & Sv39.v != 0 else {
                return problem("stale: the shadow has no entry for it", pte: last?.pte ?? 0, at: last?.pteAddress ?? 0)
            }
            return problem("stale: the shadow has no leaf for it")
        }
        let granted = (!entry.readable || leaf & Sv39.r != 0) && (!entry.writable || leaf & Sv39.w != 0)
            && (!entry.executable || leaf & Sv39.x != 0)
        guard level == 0, Sv39.address(leaf) == entry.physicalAddress, granted else {
            return problem("stale: more than the shadow entry grants now", pte: leaf, at: at)
        }
        return nil
    }

    /// Calls `body` for each valid leaf under shadow table `page`, at `level` of a tree of `levels`.
    func visit(_ page: UInt64, level: Int, levels: Int, vpn: UInt64, _ body: (UInt64, UInt64, UInt64) -> Void) {
        guard let bytes = machine.readPhysical(at: page, count: Int(Sv39.pageSize)) else { return }
        for i in 0..<512 {
            let e = Sv39.entry(i, in: bytes)
            guard e & Sv39.v != 0 else { continue }
            let n = vpn << 9 | UInt64(i)
            if Sv39.isLeaf(e) || level == 0 {
                body(Sv39.virtualAddress(n << (9 * UInt64(level)), levels: levels), page &+ UInt64(i) &* 8, e)
            } else {
                visit(Sv39.address(e), level: level - 1, levels: levels, vpn: n, body)
            }
        }
    }

    /// Why shadow leaf `pte` for `va` disagrees with the guest's tables, or nil if it does not.
    func disagreement(va: UInt64, pte: UInt64, context: GuestTranslationContext) -> String? {
        if !Sv39.isLeaf(pte) { return "a pointer where a 4 KiB leaf belongs" }
        if pte & Sv39.u == 0 && !keepsGuestPrivilege { return "a leaf without U (the deprivileged guest could not use it)" }
        if keepsGuestPrivilege && context.isBare && (pte & Sv39.u != 0) != (context.privilege == .user) {
            return pte & Sv39.u != 0 ? "a leaf with U in the kernel tree of a bare guest" : "a leaf without U in the user tree of a bare guest"
        }
        let target = Sv39.address(pte)
        if pool.contains(target) { return "maps the VMM's own shadow pool" }
        let accesses: [(GuestAccess, UInt64)] = [(.load, Sv39.r), (.store, Sv39.w), (.fetch, Sv39.x)]
        for (access, bit) in accesses where pte & bit != 0 {
            let w = GuestPageWalker.walk(va, access, context, map: map, memory: words, asGuestAccess: false)
            guard case .translated(let gpa, let leaf, _) = w.result else {
                return "grants \(access) that the guest's tables deny"
            }
            guard let (ma, _) = map.machineAddress(gpa & ~(Sv39.pageSize - 1)) else { return "maps memory outside the VM" }
            if ma != target { return "maps machine 0x\(String(target, radix: 16)), the guest's tables say 0x\(String(ma, radix: 16))" }
            if leaf & Sv39.a == 0 && !context.isBare { return "the guest's A bit is clear" }
            if keepsGuestPrivilege && !context.isBare && leaf & Sv39.u != pte & Sv39.u { return "U differs from the guest's leaf" }
            if access == .store {
                if leaf & Sv39.d == 0 && !context.isBare { return "writable while the guest's D bit is clear" }
                if isWriteProtected(guestPhysical: gpa) { return "writable mapping of a guest page-table page" }
            }
        }
        return nil
    }
}
