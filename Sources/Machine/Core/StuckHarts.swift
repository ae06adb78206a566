/// Decides when a machine with several harts cannot go on because each of its harts is stuck on a
/// trap vector it cannot fetch (``TrapVectorLoop``) or stopped (SBI HSM).
///
/// One stuck hart does not end the run there: the others may still finish the program, and the
/// stuck hart spins as the hardware would. But once every started hart is stuck, nothing can move
/// any of them (a stuck hart retires nothing, so it can neither start a stopped hart nor send an
/// interrupt, and each one's interrupts are masked by its trap), and the run would spin until its
/// budget, for ever under `vmlab boot`. A hart in WFI may still be woken (a timer), so the machine
/// goes on while one waits — unless `mie` enables no interrupt at all: WFI resumes only for an
/// interrupt pending and enabled there, whatever the global enables, and only the sleeping hart
/// itself could write its `mie` (a hook that does so runs before the check, which reads it now).
///
/// Each stuck hart reports again at every trap of its loop (`Machine.hartIsStuck`), so the
/// decision needs no guess about the others: the machine stops when the hart that reports now
/// finds every other started hart's latest report made at the same *moment* — with no instruction
/// retired by any hart and no event delivered to an observer since (a hook may have mended a
/// hart) — and the hart still where it reported. A run forgets the reports of the last (the host
/// may have changed anything between runs, and a restored machine must stop where the original
/// did), so within one run every hart reports once more, a turn each, before the machine stops.
struct StuckHarts {
    struct Moment: Equatable {
        var retired: UInt64
        var eventsDelivered: UInt64
    }

    /// Where a hart was, and when, at its latest report; and the stop it reported first in this
    /// loop, which names the trap that led into it (later ones only find the loop's own fault).
    struct Report {
        var moment: Moment
        var pc: UInt64
        var priv: UInt8
        var virt: Bool
        var instret: UInt64
        var first: StopReason

        /// Whether `h` is still where it was when it made this report.
        func stillDescribes(_ h: UnsafeMutablePointer<HartState>) -> Bool {
            h.pointee.pc == pc && h.pointee.priv == priv && h.pointee.virt == virt && h.pointee.instret == instret
        }
    }

    /// The latest report of each hart in this run, by hart number.
    var reports: [Report?]

    init(harts: Int) { reports = Array(repeating: nil, count: harts) }

    /// At the start of a run (`Machine.run`).
    mutating func forget() {
        for h in reports.indices where reports[h] != nil { reports[h] = nil }
    }
}

extension Machine {
    /// Now, as the reports of stuck harts compare it.
    private var stuckMoment: StuckHarts.Moment {
        var retired: UInt64 = 0
        for h in harts { retired &+= h.state.pointee.instret }
        return StuckHarts.Moment(retired: retired, eventsDelivered: eventsDelivered)
    }

    /// Hart `h` is stuck on its trap vector (`stop`, from its ``TrapVectorLoop``); its observers
    /// have run. A one-hart machine stops with `stop`; one with several stops when no other hart
    /// can move (``StuckHarts``), with `stop` saying so.
    func hartIsStuck(_ h: Int, _ stop: StopReason) {
        guard harts.count > 1 else { requestStop(stop); return }
        let now = stuckMoment
        let s = harts[h].state
        let first = stuckHarts.reports[h].flatMap { $0.stillDescribes(s) ? $0.first : nil } ?? stop
        stuckHarts.reports[h] = StuckHarts.Report(moment: now, pc: s.pointee.pc, priv: s.pointee.priv, virt: s.pointee.virt,
                                                  instret: s.pointee.instret, first: first)
        var stuck: [Int] = [], stopped: [Int] = [], asleep: [Int] = []
        for other in harts where other.id != h {
            let o = other.state
            switch o.pointee.runState {
            case .stopped: stopped.append(other.id)
            case .waitingForInterrupt:
                guard o.pointee.mie == 0 else { return }
                asleep.append(other.id)
            case .started:
                guard let r = stuckHarts.reports[other.id], r.moment == now, r.stillDescribes(o) else { return }
                stuck.append(other.id)
            }
        }
        guard case .stuck(let hart, let pc, let why) = first else { requestStop(first); return }
        func naming(_ ids: [Int], _ one: String, _ many: String) -> String? {
            ids.isEmpty ? nil : ids.count == 1 ? "hart \(ids[0]) \(one)" : "harts \(ids.map(String.init).joined(separator: ", ")) \(many)"
        }
        let others = [naming(stuck, "is stuck on its own trap vector", "are stuck on their own trap vectors"),
                      naming(stopped, "is stopped", "are stopped"),
                      naming(asleep, "waits in wfi with no interrupt enabled (mie = 0)",
                             "wait in wfi with no interrupt enabled (mie = 0)")].compactMap { $0 }
        requestStop(.stuck(hart: hart, pc: pc, why: why + "; and no other hart can run on: " + others.joined(separator: ", ")))
    }
}
