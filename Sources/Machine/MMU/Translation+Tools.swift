// Address translation for tools (a debugger, `vm:translate`, `vm:page_tables`): the same walk the
// hardware does (`Hart.walkTables`), run with no side effects at all: no TLB lookup or fill, no A/D
// update, no counters, no cycles, no traps. It answers "what would a walk of the page tables as they
// are in memory now give", which is what a real access gives unless the TLB holds a stale entry.

import RISCV

/// The kind of access to translate for.
public enum MemoryAccessKind: Sendable, Equatable {
    case fetch, load, store

    var accessType: AccessType {
        switch self {
        case .fetch: .fetch
        case .load: .load
        case .store: .store
        }
    }
}

/// The outcome of a translation: a physical address, or the exception a real access would raise.
public enum TranslationResult: Sendable, Equatable {
    case physical(UInt64)
    case fault(ExceptionCause)
}

/// One PTE a walk read.
public struct PageWalkStep: Sendable, Equatable {
    /// Page-table level of the PTE: `levels - 1` at the root, 0 for 4 KiB leaves.
    public var level: Int
    /// Physical address of the PTE.
    public var pteAddress: UInt64
    /// Its value as read.
    public var pte: UInt64

    public init(level: Int, pteAddress: UInt64, pte: UInt64) {
        self.level = level
        self.pteAddress = pteAddress
        self.pte = pte
    }
}

/// One reference of a two-stage walk (`Machine.nestedPageWalk`): an entry of the VS stage (the
/// guest's tables, at a guest physical address) or of the G stage (the VMM's, at a host physical
/// one).
public struct NestedWalkStep: Sendable, Equatable {
    public enum Stage: String, Sendable {
        /// The guest's own tables (vsatp).
        case guest
        /// The VMM's G-stage tables (hgatp).
        case host
    }
    public var stage: Stage
    public var level: Int
    /// Host physical address of the entry.
    public var pteAddress: UInt64
    /// For a VS-stage entry, its guest physical address (what the G stage translated to reach it).
    public var guestPhysical: UInt64?
    public var pte: UInt64
}

/// Records every reference of a two-stage tool walk, each with its stage.
struct NestedWalkRecorder: WalkVisitor {
    var steps: [NestedWalkStep] = []

    mutating func reference(level: Int, pteAddress: UInt64, pte: UInt64?) {
        if let pte { steps.append(NestedWalkStep(stage: .host, level: level, pteAddress: pteAddress, guestPhysical: nil, pte: pte)) }
    }

    /// The reference just recorded was the VS-stage entry itself.
    mutating func guestReference(level: Int, guestPhysical: UInt64, pte: UInt64) {
        guard !steps.isEmpty else { return }
        steps[steps.count - 1].stage = .guest
        steps[steps.count - 1].guestPhysical = guestPhysical
    }
}

/// What a walk of one virtual address read and found.
public struct PageWalkTrace: Sendable, Equatable {
    /// "bare", "sv39", "sv48" or "sv57" (satp.MODE).
    public var mode: String
    /// Physical address of the root page table (0 in bare mode).
    public var root: UInt64
    /// The PTEs read, root first.
    public var steps: [PageWalkStep]
    /// What the access would get.
    public var result: TranslationResult

    public init(mode: String, root: UInt64, steps: [PageWalkStep], result: TranslationResult) {
        self.mode = mode
        self.root = root
        self.steps = steps
        self.result = result
    }
}

/// Records the steps of a tool walk.
struct WalkRecorder: WalkVisitor {
    var steps: [PageWalkStep] = []

    mutating func reference(level: Int, pteAddress: UInt64, pte: UInt64?) {
        if let pte { steps.append(PageWalkStep(level: level, pteAddress: pteAddress, pte: pte)) }
    }
}

/// Records the VS-stage steps of a two-stage tool walk, at their guest physical addresses.
struct GuestWalkRecorder: WalkVisitor {
    var steps: [PageWalkStep] = []

    mutating func reference(level: Int, pteAddress: UInt64, pte: UInt64?) {}

    mutating func guestReference(level: Int, guestPhysical: UInt64, pte: UInt64) {
        steps.append(PageWalkStep(level: level, pteAddress: guestPhysical, pte: pte))
    }
}

extension Machine {
    /// Translates `va` as an access of kind `access` by `hart` at `privilege` (default: the hart's
    /// effective privilege for that kind: its privilege for fetches, the MPRV-adjusted one for
    /// loads and stores), under the hart's current satp, mstatus (SUM, MXR) and PMP, without any
    /// side effect. Bare mode and M-mode give `.physical(va)`. PMP is checked on the PTE reads (as
    /// the walk does) but not on the final physical address, which is a property of the access.
    public func translate(_ va: UInt64, hart: Int, access: MemoryAccessKind,
                          privilege: PrivilegeMode? = nil) -> TranslationResult {
        precondition(harts.indices.contains(hart), "no hart \(hart)")
        let t = harts[hart]
        var none = WalkRecorder()
        return toolWalk(va, t, access.accessType, privilege: privilege, visitor: &none)
    }

    /// The PTEs a walk of `va` by `hart` reads (for a load at the hart's data privilege, or
    /// supervisor when the hart is in M-mode so that the tables are walked at all), and its result.
    ///
    /// With V = 1 (hypervisor extension) it is the guest's own walk: the VS stage under vsatp,
    /// each PTE at its guest physical address (the G-stage references that reached it are not
    /// listed), the result the host physical address both stages give.
    public func pageWalk(_ va: UInt64, hart: Int) -> PageWalkTrace {
        precondition(harts.indices.contains(hart), "no hart \(hart)")
        let t = harts[hart]
        if t.state.pointee.dataVirt {
            let vsatp = t.state.pointee.hyper.vsatp
            let mode = ["bare", "sv39", "sv48", "sv57"][max(0, Hart.levels(mode: vsatp >> 60) - 2)]
            var recorder = GuestWalkRecorder()
            let found = t.twoStageWalk(va, .load, priv: t.state.pointee.dataPriv, permission: .load,
                                       commit: false, visitor: &recorder)
            return PageWalkTrace(mode: mode, root: mode == "bare" ? 0 : (vsatp & ((1 << 44) - 1)) << 12,
                                 steps: recorder.steps, result: found.fault.map { .fault($0) } ?? .physical(found.physical))
        }
        let satp = t.state.pointee.satp
        let mode: String
        switch t.translationLevels {
        case 3: mode = "sv39"
        case 4: mode = "sv48"
        case 5: mode = "sv57"
        default: mode = "bare"
        }
        let root = mode == "bare" ? 0 : (satp & ((1 << 44) - 1)) << 12
        var priv = t.state.pointee.dataPriv
        if priv == 3 { priv = 1 }
        var recorder = WalkRecorder()
        let result = toolWalk(va, t, .load, privilege: PrivilegeMode(rawValue: priv), visitor: &recorder)
        return PageWalkTrace(mode: mode, root: root, steps: recorder.steps, result: result)
    }

    /// Every entry a TLB miss of `hart` at `va` would read with V = 1 (a load at the hart's data
    /// privilege, as `pageWalk`), in the order the hardware reads them: for each VS-stage entry the
    /// G-stage walk that finds it first, then the G-stage walk of the final guest physical address
    /// — the two-dimensional walk, (n + 1)(m + 1) − 1 entries for n VS and m G levels. Nil when
    /// the hart does not run a guest (V = 0). Reads memory only.
    public func nestedPageWalk(_ va: UInt64, hart: Int) -> (steps: [NestedWalkStep], result: TranslationResult)? {
        precondition(harts.indices.contains(hart), "no hart \(hart)")
        let t = harts[hart]
        guard t.state.pointee.dataVirt else { return nil }
        var recorder = NestedWalkRecorder()
        let found = t.twoStageWalk(va, .load, priv: t.state.pointee.dataPriv, permission: .load, commit: false,
                                   visitor: &recorder)
        return (recorder.steps, found.fault.map { .fault($0) } ?? .physical(found.physical))
    }

    private func toolWalk<V: WalkVisitor>(_ va: UInt64, _ t: Hart, _ type: AccessType, privilege: PrivilegeMode?,
                                          visitor: inout V) -> TranslationResult {
        let s = t.state
        let priv = privilege?.rawValue ?? (type == .fetch ? s.pointee.priv : s.pointee.dataPriv)
        if priv != 3, type == .fetch ? s.pointee.virt : s.pointee.dataVirt {
            // A guest's address (V=1): both stages, the G stage's references included.
            let found = t.twoStageWalk(va, type, priv: priv, permission: type, commit: false, visitor: &visitor)
            return found.fault.map { .fault($0) } ?? .physical(found.physical)
        }
        let levels = t.translationLevels
        if levels == 0 || priv == 3 { return .physical(va) }
        // A non-canonical address faults before any walk (privileged spec, "Sv39": bits 63..39
        // must equal bit 38).
        let vaBits = UInt64(12 + 9 * levels)
        let canonical = UInt64(bitPattern: Int64(bitPattern: va << (64 - vaBits)) >> (64 - vaBits))
        guard canonical == va else { return .fault(type.pageFault) }
        let root = (s.pointee.satp & ((1 << 44) - 1)) << 12
        let found = t.walkTables(va, type, priv: priv, levels: levels, root: root, visitor: &visitor)
        if let cause = found.fault { return .fault(cause) }
        let ppn = (found.pte >> 10) & ((1 << 44) - 1)
        let pageBits = 12 + 9 * UInt64(found.level)
        let physicalBase = (ppn << 12) & ~((1 << pageBits) - 1)
        return .physical(physicalBase | (va & ((1 << pageBits) - 1)))
    }
}
