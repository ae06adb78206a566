// Checkpoints of a VM: `snapshot()` between runs, `restore(_:)` to go back there. A restored VM runs
// on exactly as it did from the snapshot, counter for counter, since the machine is deterministic
// and its whole state goes back (VirtBoard+Snapshot.swift, Machine+Snapshot.swift).
//
// Every mode: under `interpret` the software CPU is the board's machine, priced by the
// interpreter's table, and holds no state of its own but its dirty log; under `trap` the monitor's
// virtual CPU, the shadow pager's bookkeeping and the virtual SBI go back too
// (TrapTechnique+Snapshot.swift; the shadow tables are in the machine's hidden RAM); under `bt`
// those and the translator's state, with the translation cache, which is charged for (an
// instruction translated again is paid again) and lives in the machine's decoded-code cache,
// which the machine's restore drops: the translator puts back what it held
// (BinaryTranslator+Snapshot.swift); under `pv` the domain's frame table, channels, grants and
// block ring (ParavirtualTechnique+Snapshot.swift); under `hw` the VMM's counters, its SBI's
// timers, its shadow pager or IOMMU (HardwareAssistedTechnique+Snapshot.swift). A VM alone on its
// private host also takes its host's clock back (on a shared host, the host's clock and switches
// count on: they are the other VMs' time too).
//
// A snapshot restores onto the VM it was taken of, or onto another VM built with the same options
// (mode, profile, board): that is a cold migration, as from one host to another. Whatever the
// snapshot does not hold (disk images, what the cards plug into) must be the same on both sides,
// so the options are compared and a difference refuses the restore before anything changes (and
// a snapshot read from a file also compares the disk images' contents with those it was saved
// with).
//
// What stays as it is: hooks, breakpoints, watchpoints, the cost profile, and the fault
// injector's plans and record (the experiment around the machine, not the machine). A fault
// planned for an instruction count the restore goes back before fires again when the VM gets
// there; one that already fired stays in `faults` as having fired.
import Boot
import Machine

/// A VM's state at one moment between runs (`Guest.snapshot()`).
public struct GuestSnapshot {
    /// The VM it was taken of, and what it was built with.
    weak var guest: Guest?
    public let mode: ExecutionMode
    /// Under `hw`: the VMM's policy, whose paging (nested or shadow) and devices (emulated,
    /// assigned, with or without the IOMMU) the rest of the VMM's state depends on.
    let hardwarePolicy: HardwareAssistedPolicy?
    public let profile: CostProfile
    /// The board the VM was built with: what a VM must be built with to take the snapshot.
    public let boardConfiguration: VirtBoardConfiguration
    var board: BoardSnapshot
    let finalStop: StopReason?
    let lastStop: StopReason?
    let untilReached: Bool
    /// The private host's clock (nil on a shared host, and without one).
    let hostClock: Host.Clock?
    /// The VMM's own state (`SnapshottingTechnique`), nil for a technique that keeps none.
    let techniqueState: Any?
    /// Instructions retired and the modelled clock when it was taken.
    public let instructions: UInt64
    public let cycles: UInt64
    /// What a snapshot file recorded of the disk images it was saved with, one entry per disk of
    /// `boardConfiguration` (GuestSnapshot+File.swift): a restore refuses images whose contents
    /// differ. Nil for a snapshot taken in this process, which restores onto the same files.
    var diskContents: [UInt64?]? = nil
    /// Bytes of guest RAM it keeps (pages that were not all zero).
    public var ramBytes: Int { board.machine.ramBytesKept }

    /// The guest-physical addresses of the pages of guest RAM whose contents differ from
    /// `earlier`'s (the VMM's hidden memory left out): what a pre-copy migration that had sent
    /// `earlier` must send again. Throws for a snapshot of a VM built otherwise.
    public func changedPages(since earlier: GuestSnapshot) throws(SnapshotError) -> [UInt64] {
        guard earlier.mode == mode, earlier.boardConfiguration.snapshotDifference(from: boardConfiguration) == nil,
              let pages = board.machine.changedPages(since: earlier.board.machine) else {
            throw SnapshotError("the snapshots are of VMs built otherwise")
        }
        let guestRAM = VirtBoard.guestRAM(boardConfiguration)
        return pages.filter { $0 >= guestRAM.address && $0 < guestRAM.end }
    }
}

extension Guest {
    /// The VM's state now (between runs).
    public func snapshot() throws(SnapshotError) -> GuestSnapshot {
        try checkSnapshotsAvailable()
        return GuestSnapshot(guest: self, mode: mode, hardwarePolicy: hardwarePolicy, profile: profile,
                             boardConfiguration: board.configuration,
                             board: board.snapshot(), finalStop: finalStop,
                             lastStop: lastStop, untilReached: untilReached, hostClock: privateHost?.clock,
                             techniqueState: (technique as? any SnapshottingTechnique)?.saveTechniqueState(),
                             instructions: instructions, cycles: cycles)
    }

    /// Puts the VM back where `snapshot` was taken (between runs); a VM that had powered off
    /// since runs again. The snapshot may come from another VM built with the same options; one
    /// from a VM built otherwise changes nothing and throws, naming the first difference.
    /// `translationCache: false` restores a `bt` VM with an empty translation cache, as a VMM
    /// that did not save it would: the VM runs on as before but pays again for every translation
    /// it needs (an experiment; elsewhere it changes nothing).
    public func restore(_ snapshot: GuestSnapshot, translationCache: Bool = true) throws(SnapshotError) {
        try checkSnapshotsAvailable()
        if snapshot.guest !== self {
            if snapshot.mode != mode {
                throw SnapshotError("the snapshot is of a VM under \(snapshot.mode.rawValue), not \(mode.rawValue)")
            }
            if let theirs = snapshot.hardwarePolicy, let ours = hardwarePolicy {
                if theirs.paging != ours.paging {
                    throw SnapshotError("the snapshot is of a VM under hw with \(theirs.paging.rawValue) paging, not \(ours.paging.rawValue)")
                }
                if theirs.devicesDescription != ours.devicesDescription {
                    throw SnapshotError("the snapshot is of a VM under hw with \(theirs.devicesDescription), not \(ours.devicesDescription)")
                }
            }
            if snapshot.profile != profile {
                throw SnapshotError("the snapshot is of a VM priced by \(snapshot.profile), not \(profile)")
            }
            if let difference = board.configuration.snapshotDifference(from: snapshot.boardConfiguration) {
                throw SnapshotError("the snapshot is of a VM built with \(difference)")
            }
            if let recorded = snapshot.diskContents { try GuestSnapshot.checkDisks(board.configuration.disks, against: recorded) }
        }
        let vmm = technique as? any SnapshottingTechnique
        if let vmm, let saved = snapshot.techniqueState, let refusal = vmm.refusal(saved) {
            throw SnapshotError(refusal)
        }
        try board.restore(snapshot.board)
        if let vmm, let saved = snapshot.techniqueState {
            if let bt = vmm as? BinaryTranslationTechnique {
                bt.restoreTechniqueState(saved, translationCache: translationCache)
            } else {
                vmm.restoreTechniqueState(saved)
            }
        }
        finalStop = snapshot.finalStop
        lastStop = snapshot.lastStop
        untilReached = snapshot.untilReached
        if let clock = snapshot.hostClock { privateHost?.clock = clock }
    }

    private var hardwarePolicy: HardwareAssistedPolicy? { (technique as? HardwareAssistedTechnique)?.policy }

    /// Every mode's VMM saves its state (a technique added without doing so would be refused).
    private func checkSnapshotsAvailable() throws(SnapshotError) {
        guard mode == .native || technique is any SnapshottingTechnique else {
            throw SnapshotError("snapshots are not available under \(mode.rawValue): its VMM's own state is not saved")
        }
    }
}
