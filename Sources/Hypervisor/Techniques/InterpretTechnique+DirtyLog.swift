// The interpreter's dirty log (`vm:dirty_pages` under `interpret`): the software CPU sees every
// store, so it logs them exactly, as QEMU does under TCG for migration — its soft TLB keeps no
// store entry for a page the log has clean, so the first store to each page after a clear takes
// the slow path, which notes it (RAMWriteLog.swift). Devices' DMA and tools' writes are noted on
// the machine's own paths. What the guest pays is host time, never modelled cycles: the soft TLB
// is the host's cache. A snapshot takes the log back.
import Boot
import Machine

/// What the interpreter's dirty log has done (`vm:stats().technique.dirty_log`).
public struct InterpretDirtyLogCounters: Sendable, Equatable, Codable {
    /// Harvests (`dirtyPages`), and how many of them cleared the log.
    public var harvests: UInt64 = 0
    public var clears: UInt64 = 0
    /// Pages reported dirty, over all harvests.
    public var pagesReported: UInt64 = 0
}

/// An interpreted VM's state for a snapshot: its dirty log, if it keeps one.
struct InterpretTechniqueState: Codable {
    var writeLog: RAMWriteLog.State?
    var dirtyLog: InterpretDirtyLogCounters
}

extension InterpretTechnique {
    /// The guest-physical addresses of the pages written since the log was last cleared (at
    /// first: since the VM was built, so every page of its RAM), ascending; with `clear`, the log
    /// starts again from here.
    public func dirtyPages(_ guest: Guest, clear: Bool) -> [UInt64] {
        let ram = guest.board.guestRAM
        let pages = guest.machine.writeLog?.writtenPages
            ?? (0..<(ram.size >> 12)).map { ram.address &+ $0 << 12 }
        dirtyLog.harvests &+= 1
        dirtyLog.pagesReported &+= UInt64(pages.count)
        if clear {
            dirtyLog.clears &+= 1
            if guest.machine.writeLog == nil {
                guest.machine.writeLog = Self.newLog(guest)
            } else {
                guest.machine.clearWriteLog()
            }
        }
        return pages
    }

    func dirtyLogCounters(_ guest: Guest) -> [String: UInt64] {
        let log = guest.machine.writeLog
        return ["harvests": dirtyLog.harvests, "clears": dirtyLog.clears, "pages_reported": dirtyLog.pagesReported,
                "first_stores": log?.pagesWrittenByStores ?? 0, "pages_written_by_vmm": log?.pagesWrittenOtherwise ?? 0]
    }
}

extension InterpretTechnique: SnapshottingTechnique {
    func saveTechniqueState() -> Any {
        InterpretTechniqueState(writeLog: installedGuest?.machine.writeLog?.state, dirtyLog: dirtyLog)
    }

    func fits(_ state: Any) -> Bool {
        guard let s = state as? InterpretTechniqueState, let guest = installedGuest else { return false }
        guard let saved = s.writeLog else { return true }
        return Self.newLog(guest).fits(saved)
    }

    /// A log over the guest's RAM, every page clean.
    private static func newLog(_ guest: Guest) -> RAMWriteLog {
        RAMWriteLog(base: guest.board.guestRAM.address, size: guest.board.guestRAM.size)
    }

    func restoreTechniqueState(_ state: Any) {
        let s = state as! InterpretTechniqueState
        dirtyLog = s.dirtyLog
        guard let guest = installedGuest else { return }
        if let saved = s.writeLog {
            let log = Self.newLog(guest)
            log.restore(saved)
            guest.machine.writeLog = log
        } else if guest.machine.writeLog != nil {
            guest.machine.writeLog = nil
        }
    }
}
