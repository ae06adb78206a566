// What a VM under `pv` keeps besides its machine, for snapshots (Guest+Snapshot.swift): the
// domain's frame table (which frames are validated page tables, pinned, how often referenced),
// its event channels and grants, the split block back-end's ring, and its counters. The kernel runs
// on the machine itself, its SBI is the board's, and the disk's image is the virtio disk's (saved
// with the board), so with these the VM runs on exactly as it did.
import Boot
import Machine

struct ParavirtualState: Codable {
    var frames: FrameTable
    var channels: EventChannelTable
    var grants: GrantTable
    var sharedInfo: UInt64?
    var timerDeadline: UInt64?
    var pendingWithoutPage: UInt64
    var ringGrant: UInt64?
    var requests: BlockRequests?
    var calls: [String: UInt64], errors: [String: UInt64]
    var updatesApplied: UInt64, updatesRefused: UInt64, entriesValidated: UInt64, implicitPins: UInt64
    var inconsistencies: UInt64
    var emulated: [String: UInt64]
    var reflected: UInt64, upcalls: UInt64
    var notifications: [String: UInt64]
    var flushes: UInt64, grantUses: UInt64, grantRefusals: UInt64
    var work: [ParavirtualWork]

    /// The block back-end's request counters.
    struct BlockRequests: Codable {
        var served: UInt64, failed: UInt64, batches: UInt64
    }
}

extension ParavirtualTechnique: SnapshottingTechnique {
    func saveTechniqueState() -> Any {
        let d = domain!
        let b = d.blockBackend
        return ParavirtualState(
            frames: d.frames, channels: d.channels, grants: d.grants, sharedInfo: d.sharedInfo,
            timerDeadline: d.timerDeadline, pendingWithoutPage: d.pendingWithoutPage, ringGrant: b?.ringGrant,
            requests: b.map { .init(served: $0.requestsServed, failed: $0.requestsFailed, batches: $0.batches) },
            calls: d.calls, errors: d.errors, updatesApplied: d.updatesApplied, updatesRefused: d.updatesRefused,
            entriesValidated: d.entriesValidated, implicitPins: d.implicitPins, inconsistencies: d.inconsistencies,
            emulated: d.emulated, reflected: d.reflected, upcalls: d.upcalls, notifications: d.notifications,
            flushes: d.flushes, grantUses: d.grantUses, grantRefusals: d.grantRefusals, work: d.work)
    }

    func fits(_ state: Any) -> Bool {
        guard let s = state as? ParavirtualState, let d = domain else { return false }
        return s.frames.ramBase == d.frames.ramBase && s.frames.frames == d.frames.frames && s.frames.isWellFormed
            && s.channels.isWellFormed && s.grants.isWellFormed
            && (s.requests == nil) == (d.blockBackend == nil) && s.work.count == d.work.count
    }

    func restoreTechniqueState(_ state: Any) {
        let s = state as! ParavirtualState
        let d = domain!
        d.frames = s.frames
        d.channels = s.channels
        d.grants = s.grants
        d.sharedInfo = s.sharedInfo
        d.timerDeadline = s.timerDeadline
        d.pendingWithoutPage = s.pendingWithoutPage
        if let b = d.blockBackend, let r = s.requests {
            b.ringGrant = s.ringGrant
            (b.requestsServed, b.requestsFailed, b.batches) = (r.served, r.failed, r.batches)
        }
        d.calls = s.calls
        d.errors = s.errors
        d.updatesApplied = s.updatesApplied
        d.updatesRefused = s.updatesRefused
        d.entriesValidated = s.entriesValidated
        d.implicitPins = s.implicitPins
        d.inconsistencies = s.inconsistencies
        d.emulated = s.emulated
        d.reflected = s.reflected
        d.upcalls = s.upcalls
        d.notifications = s.notifications
        d.flushes = s.flushes
        d.grantUses = s.grantUses
        d.grantRefusals = s.grantRefusals
        d.work = s.work
    }
}
