// The guest's own page walk, done in software by the VMM (privileged spec, "Virtual Address
// Translation Process", for Sv39, Sv48 and Sv57): the shadow pager needs to know what the guest's
// tables say before it may put anything in a shadow entry, and students read the walk as data
// (`vm:page_tables`).
// Every table read goes through the VM's guest-physical map: a table outside the VM's RAM is an
// access fault for the guest, never a read of someone else's memory.

import RISCV
import Machine

/// One page-table entry read by a walk.
public struct PageTableStep: Sendable, Equatable {
    public var level: Int
    /// Where the entry is: guest-physical for a guest walk, machine-physical for a shadow walk.
    public var pteAddress: UInt64
    public var pte: UInt64
}

/// The entry a guest walk read at each level (levels 0 to 2 for Sv39, to 4 for Sv57), without an array.
struct WalkedEntries {
    static let maxLevels = 5
    private var ptes: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    private var seen: UInt8 = 0

    /// Keeps the first entry read at the step's level (a walk reads one per level).
    mutating func record(_ step: PageTableStep) {
        guard step.level >= 0, step.level < Self.maxLevels else { return }
        let bit = UInt8(1) << step.level
        guard seen & bit == 0 else { return }
        seen |= bit
        switch step.level {
        case 0: ptes.0 = step.pte
        case 1: ptes.1 = step.pte
        case 2: ptes.2 = step.pte
        case 3: ptes.3 = step.pte
        default: ptes.4 = step.pte
        }
    }

    /// The entry read at `level`, or nil when the walk did not reach it.
    func pte(atLevel level: Int) -> UInt64? {
        guard level >= 0, level < Self.maxLevels, seen & (UInt8(1) << level) != 0 else { return nil }
        switch level {
        case 0: return ptes.0
        case 1: return ptes.1
        case 2: return ptes.2
        case 3: return ptes.3
        default: return ptes.4
        }
    }
}

/// A walk as data: the entries read and its outcome.
public struct PageTableWalk: Sendable, Equatable {
    /// "bare", "sv39", "sv48" or "sv57".
    public var mode: String
    /// The root table's address (0 for bare).
    public var root: UInt64
    public var steps: [PageTableStep]
    public var result: Result

    public enum Result: Sendable, Equatable {
        /// `physical` is the translated address; `leaf` the leaf PTE (after any A/D update) and
        /// `level` its level (0 = 4 KiB page).
        case translated(physical: UInt64, leaf: UInt64, level: Int)
        case fault(ExceptionCause)
    }

    public var physical: UInt64? {
        if case .translated(let p, _, _) = result { return p }
        return nil
    }
}

/// The parameters of a guest walk that the guest's CSRs decide.
public struct GuestTranslationContext: Sendable, Equatable {
    public var satp: UInt64
    /// The privilege the guest believes the access is made at.
    public var privilege: PrivilegeMode
    public var sum: Bool
    public var mxr: Bool

    public init(satp: UInt64, privilege: PrivilegeMode, sum: Bool, mxr: Bool) {
        self.satp = satp
        self.privilege = privilege
        self.sum = sum
        self.mxr = mxr
    }

    var isBare: Bool { satp >> 60 == 0 }
    /// The levels of the guest's translation (its satp was checked when written:
    /// `VirtualCSRs.shadowedSatp`; anything else is taken as Sv39).
    var levels: Int { Sv39.levels(satpMode: satp >> 60) ?? Sv39.levels }
    var root: UInt64 { (satp & ((1 << 44) - 1)) << 12 }
}

/// Reads and writes 64-bit words of machine RAM for the VMM's slow paths.
struct MachineWords {
    /// Unchecked, as `ShadowPageTables.machine` is (the shadows hold these words).
    unowned(unsafe) let machine: Machine

    // Through an unmanaged reference: a method called on the unowned(unsafe) `machine` retains
    // and releases it around the call, and the software walks read thousands of words per traced
    // write.
    func read(_ ma: UInt64) -> UInt64? {
        Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef { $0.readPhysicalWord(at: ma) }
    }

    /// The dirty log the guest walker's A/D updates go into (held by the shadows; none for a
    /// walk outside them).
    unowned(unsafe) let writes: RAMWriteLog?

    init(machine: Machine, writes: RAMWriteLog? = nil) {
        self.machine = machine
        self.writes = writes
    }

    @discardableResult
    func write(_ ma: UInt64, _ value: UInt64) -> Bool {
        Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef { $0.loadPhysical(littleEndian: value, count: 8, at: ma) }
    }

    /// Writes an entry of the guest's own tables (at guest-physical `gpa`): a write to the
    /// guest's memory, which the dirty log notes.
    func writeGuestEntry(_ ma: UInt64, _ value: UInt64, guestPhysical gpa: UInt64) {
        write(ma, value)
        writes?.noteOtherWrite(gpa, count: 8)
    }
}

enum GuestPageWalker {
    /// Whether a guest leaf with `pte` permits `access` in context `c` (privileged spec, "Virtual
    /// Address Translation Process", step 5): U pages are never executed by S and read/written by S only
    /// with SUM; S pages never reached from U; MXR makes execute-only pages readable.
    static func permits(_ pte: UInt64, _ access: GuestAccess, _ c: GuestTranslationContext) -> Bool {
        if pte & Sv39.u != 0 {
            if c.privilege == .supervisor && (access == .fetch || !c.sum) { return false }
        } else if c.privilege == .user {
            return false
        }
        switch access {
        case .fetch: return pte & Sv39.x != 0
        case .load: return pte & Sv39.r != 0 || (c.mxr && pte & Sv39.x != 0)
        case .store: return pte & Sv39.w != 0
        }
    }

    /// Walks the guest's tables for `va`. With `asGuestAccess` the walk is the guest's own access
    /// and does to a leaf whose A (or, for a store, D) bit is clear what the machine's walker
    /// would (`MachineConfiguration.adBits`): set the bits in the guest's leaf (Svadu, the
    /// default) or fault (Svade) — the shadow pager's emulation of A/D bits. Without it the walk
    /// is a look at the tables, with no side effect and no A/D fault.
    static func walk(_ va: UInt64, _ access: GuestAccess, _ c: GuestTranslationContext, map: GuestPhysicalMap,
                     memory: MachineWords, asGuestAccess: Bool) -> PageTableWalk {
        if c.isBare { return PageTableWalk(mode: "bare", root: 0, steps: [], result: bare(va)) }
        var steps: [PageTableStep] = []
        let result = resolve(va, access, c, map: map, memory: memory, asGuestAccess: asGuestAccess) { steps.append($0) }
        return PageTableWalk(mode: Sv39.modeName(levels: c.levels), root: c.root, steps: steps, result: result)
    }

    /// What `walk` finds, with the entry read at each level kept inline rather than as a list of
    /// steps: a shadow fill needs only those, on every hidden fault.
    static func walkEntries(_ va: UInt64, _ access: GuestAccess, _ c: GuestTranslationContext, map: GuestPhysicalMap,
                            memory: MachineWords, asGuestAccess: Bool) -> (PageTableWalk.Result, WalkedEntries) {
        var entries = WalkedEntries()
        if c.isBare { return (bare(va), entries) }
        let result = resolve(va, access, c, map: map, memory: memory, asGuestAccess: asGuestAccess) { entries.record($0) }
        return (result, entries)
    }

    /// What `walk` finds, without recording the steps: for the VMM's emulation of one access
    /// (a traced store, an instruction fetched to emulate it), which needs only the outcome.
    static func translate(_ va: UInt64, _ access: GuestAccess, _ c: GuestTranslationContext, map: GuestPhysicalMap,
                          memory: MachineWords, asGuestAccess: Bool) -> PageTableWalk.Result {
        c.isBare ? bare(va) : resolve(va, access, c, map: map, memory: memory, asGuestAccess: asGuestAccess) { _ in }
    }

    /// The guest-physical address `walk` translates `va` to, or nil for a fault (`translate`'s).
    static func physicalAddress(_ va: UInt64, _ access: GuestAccess, _ c: GuestTranslationContext, map: GuestPhysicalMap,
                                memory: MachineWords, asGuestAccess: Bool) -> UInt64? {
        let result = translate(va, access, c, map: map, memory: memory, asGuestAccess: asGuestAccess)
        if case .translated(let physical, _, _) = result { return physical }
        return nil
    }

    private static func bare(_ va: UInt64) -> PageTableWalk.Result {
        .translated(physical: va, leaf: Sv39.v | Sv39.r | Sv39.w | Sv39.x | Sv39.a | Sv39.d, level: 0)
    }

    /// The walk itself (Sv39, Sv48 or Sv57, as the guest's satp says). Each entry read is passed to `step` as the walk leaves it (a leaf
    /// with the A/D bits it set).
    @inline(__always)
    private static func resolve(_ va: UInt64, _ access: GuestAccess, _ c: GuestTranslationContext, map: GuestPhysicalMap,
                                memory: MachineWords, asGuestAccess: Bool,
                                step: (PageTableStep) -> Void) -> PageTableWalk.Result {
        let fault = PageTableWalk.Result.fault(access.pageFault)
        let levels = c.levels
        guard Sv39.isCanonical(va, levels: levels) else { return fault }
        var table = c.root
        var level = levels - 1
        while true {
            let pteAddress = table &+ Sv39.index(va, level: level) &* 8
            guard let (ma, isRAM) = map.machineAddress(pteAddress), isRAM, let read = memory.read(ma) else {
                return .fault(access.accessFault)
            }
            var pte = read
            let valid = pte & Sv39.v != 0 && !(pte & Sv39.r == 0 && pte & Sv39.w != 0) && pte >> 54 == 0
            if !valid || !Sv39.isLeaf(pte) {
                step(PageTableStep(level: level, pteAddress: pteAddress, pte: pte))
                // D, A and U are reserved in non-leaf entries (and faulted on, as the machine does).
                if !valid || pte & (Sv39.d | Sv39.a | Sv39.u) != 0 || level == 0 { return fault }
                table = Sv39.address(pte)
                level -= 1
                continue
            }
            let pageBits = 12 + 9 * UInt64(level)
            let ppn = pte >> 10 & ((1 << 44) - 1)
            let need = Sv39.a | (access == .store ? Sv39.d : 0)
            // Not permitted; a misaligned superpage; Svade: the guest manages A and D itself, and
            // the access faults until it has.
            if !permits(pte, access, c) || ppn & ((1 << (9 * UInt64(level))) - 1) != 0
                || (asGuestAccess && pte & need != need && memory.machine.configuration.adBits == .pageFault) {
                step(PageTableStep(level: level, pteAddress: pteAddress, pte: pte))
                return fault
            }
            if asGuestAccess && pte & need != need {
                pte |= need
                memory.writeGuestEntry(ma, pte, guestPhysical: pteAddress)
            }
            step(PageTableStep(level: level, pteAddress: pteAddress, pte: pte))
            let physical = (Sv39.address(pte) & ~((1 << pageBits) - 1)) | (va & ((1 << pageBits) - 1))
            return .translated(physical: physical, leaf: pte, level: level)
        }
    }
}
