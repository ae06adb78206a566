// The walk of a guest-virtual address as data, whichever walker the VM's mode has: the one query
// behind `vm:page_tables{}` (Lua values) and GDB's `monitor walk` (text), so that both offer the
// same walks in the same modes and refuse the same ones with the same reasons.
//
// A mode decides which tables there are. Under trap, bt and hw with shadow paging the hart walks
// shadow tables the VMM built, and the guest's own tables are read by the VMM's walker
// (`ShadowPageTables.walk`); under hw with nested paging the hart walks two stages
// (`Machine.nestedPageWalk`); in the other modes the hart walks the guest's tables itself
// (`Machine.pageWalk`).
import Machine
import RISCV

/// Which tables a walk goes through.
public enum GuestWalkSource: String, Sendable, CaseIterable {
    /// The guest's own tables: what the guest kernel believes.
    case guest
    /// The shadow tables the hart walks (trap, bt, hw with shadow paging).
    case shadow
    /// Both stages under hw with nested paging, each G-stage reference included.
    case nested
}

/// One walk of one guest-virtual address: the entries read, root first, and where it ends.
/// Reading it changed nothing: no TLB fill, no A/D update, no trap.
public struct GuestPageWalk: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        /// The entry's level: the root's is the highest, 0 maps 4 KiB pages.
        public var level: Int
        /// Where the entry is, in `GuestPageWalk.addresses`.
        public var pteAddress: UInt64
        public var pte: UInt64
        /// In a nested walk, which stage's table holds the entry.
        public var stage: NestedWalkStep.Stage?
        /// In a nested walk, for a guest entry: where the guest put it.
        public var guestPhysical: UInt64?
    }

    public enum Outcome: Sendable, Equatable {
        /// `pageLevel`: the level of the leaf that mapped it (nil when no leaf did: bare, or a
        /// nested walk, whose last leaf is the G stage's).
        case translated(physical: UInt64, pageLevel: Int?)
        case fault(ExceptionCause)
    }

    /// The kind of address the entries' addresses and the result are.
    public enum AddressSpace: String, Sendable {
        /// The machine's own physical addresses (no VMM in between).
        case physical
        /// The guest's idea of physical memory.
        case guestPhysical = "guest-physical"
        /// The host's RAM, under a software VMM.
        case machinePhysical = "machine-physical"
        /// The host's RAM, under the hypervisor extension.
        case hostPhysical = "host-physical"
    }

    public var va: UInt64
    public var source: GuestWalkSource
    /// The view a shadowing VMM walked in (whose privilege the guest's tables were read at);
    /// nil for the hart's own walks.
    public var view: ShadowView?
    /// The vCPU whose walker walked; nil for the VMM's walks.
    public var vcpu: Int?
    /// "bare", "sv39", "sv48", "sv57", or "two-stage" for a nested walk.
    public var mode: String
    /// The root table's address (0 for bare and for a nested walk, which has two).
    public var root: UInt64
    public var addresses: AddressSpace
    public var steps: [Step]
    public var outcome: Outcome
}

/// Why there is no walk.
public enum GuestWalkRefusal: Error, Equatable, CustomStringConvertible {
    /// The caller named a vCPU the VM does not have.
    case noVCPU(Int, count: Int)
    /// The VM's mode has no such tables, or not now: an answer, not a mistake.
    case unavailable(String)

    public var description: String {
        switch self {
        case .noVCPU(let vcpu, let count): "no vCPU \(vcpu) (the VM has \(count))"
        case .unavailable(let why): why
        }
    }
}

extension Guest {
    /// The walk of `va` through `source`'s tables. `view` chooses the shadowing VMM's view (the
    /// vCPU's current one by default) and `vcpu` the hart whose satp a hart's walk starts from;
    /// each matters only where the mode has it.
    public func pageWalk(_ va: UInt64, source: GuestWalkSource, view: ShadowView? = nil,
                         vcpu: Int) -> Result<GuestPageWalk, GuestWalkRefusal> {
        let shadow = shadowPageTables
        let usesVCPU = source == .nested || shadow == nil
        if usesVCPU, !(0..<machine.hartCount).contains(vcpu) {
            return .failure(.noVCPU(vcpu, count: machine.hartCount))
        }
        switch (source, shadow) {
        case (.nested, _):
            return nestedWalk(va, vcpu: vcpu)
        case (_, let shadow?):
            let walk = shadow.walk(source == .shadow ? .shadow : .guest, va: va, view: view)
            return .success(GuestPageWalk(
                va: va, source: source, view: view ?? shadow.view, vcpu: nil, mode: walk.mode, root: walk.root,
                addresses: source == .shadow ? .machinePhysical : .guestPhysical,
                steps: walk.steps.map { .init(level: $0.level, pteAddress: $0.pteAddress, pte: $0.pte) },
                outcome: Self.outcome(walk)))
        case (.shadow, nil):
            return .failure(.unavailable("no shadow page tables under '\(mode.rawValue)': the hart walks the guest's own tables (only 'trap', 'bt' and 'hw' with paging = \"shadow\" keep shadows)"))
        case (.guest, nil):
            let trace = machine.pageWalk(va, hart: vcpu)
            let outcome: GuestPageWalk.Outcome = switch trace.result {
            // The last entry read is the leaf; bare mode reads none and has no pages.
            case .physical(let physical): .translated(physical: physical, pageLevel: trace.steps.last?.level)
            case .fault(let cause): .fault(cause)
            }
            // Under hw, the VS stage's walk: the guest's tables, at guest-physical addresses.
            return .success(GuestPageWalk(
                va: va, source: .guest, view: nil, vcpu: vcpu, mode: trace.mode, root: trace.root,
                addresses: mode == .hw ? .guestPhysical : .physical,
                steps: trace.steps.map { .init(level: $0.level, pteAddress: $0.pteAddress, pte: $0.pte) },
                outcome: outcome))
        }
    }

    private func nestedWalk(_ va: UInt64, vcpu: Int) -> Result<GuestPageWalk, GuestWalkRefusal> {
        guard mode == .hw else {
            return .failure(.unavailable("no two-dimensional walk under '\(mode.rawValue)': only 'hw' translates in two stages"))
        }
        if shadowPageTables != nil {
            return .failure(.unavailable("no two-dimensional walk under 'hw' with paging = \"shadow\": the G stage is off (the hart walks the shadow tables)"))
        }
        guard let walk = machine.nestedPageWalk(va, hart: vcpu) else {
            return .failure(.unavailable("no two-dimensional walk: vCPU \(vcpu) is not in the guest now"))
        }
        let outcome: GuestPageWalk.Outcome = switch walk.result {
        case .physical(let physical): .translated(physical: physical, pageLevel: nil)
        case .fault(let cause): .fault(cause)
        }
        return .success(GuestPageWalk(
            va: va, source: .nested, view: nil, vcpu: vcpu, mode: "two-stage", root: 0, addresses: .hostPhysical,
            steps: walk.steps.map {
                .init(level: $0.level, pteAddress: $0.pteAddress, pte: $0.pte, stage: $0.stage, guestPhysical: $0.guestPhysical)
            },
            outcome: outcome))
    }

    private static func outcome(_ walk: PageTableWalk) -> GuestPageWalk.Outcome {
        switch walk.result {
        // A bare walk reads no entry and maps no page.
        case .translated(let physical, _, let level): .translated(physical: physical, pageLevel: walk.steps.isEmpty ? nil : level)
        case .fault(let cause): .fault(cause)
        }
    }
}
