import Hypervisor
import LuaKit
import Machine
import RISCV

/// The counters a VM collected, as one ordered tree: `vm:stats()` turns it into a plain nested
/// Lua table and `vmlab boot --stats` into `path value` lines, so both show the same names.
/// Counts are summed over harts; every trap cause is present (zero when it never happened), so a
/// lab can compare `s.traps.by_cause.ecall_u` without guarding against nil. The one text leaf,
/// `profile`, names the prices behind every cycle count, so a printed result is never without them.
public indirect enum VMStats: Equatable, Sendable {
    case count(UInt64)
    case text(String)
    case group([(String, VMStats)])
    /// A sequence (per-vCPU counters, faults that fired): a Lua list, `path.1.key` in lines.
    case list([VMStats])

    public static func == (a: VMStats, b: VMStats) -> Bool {
        switch (a, b) {
        case (.count(let x), .count(let y)): x == y
        case (.text(let x), .text(let y)): x == y
        case (.group(let x), .group(let y)): x.map(\.0) == y.map(\.0) && zip(x, y).allSatisfy { $0.1 == $1.1 }
        case (.list(let x), .list(let y)): x == y
        default: false
        }
    }

    /// Modelled cycles: the machine's clock (`total`), and the work of every vCPU priced by the
    /// technique's account (`Technique.account`: direct execution for `native`, the software
    /// CPU's prices for `interpret`), summed over vCPUs, by category and by event. `waited` (in
    /// `by_category`) is the clock time no event accounts for: WFI sleep, catching up with another
    /// hart. With one hart the categories sum to `total` exactly; with several they sum to the
    /// harts' clocks added together.
    static func cycles(_ machine: Machine, _ s: GuestStatistics) -> VMStats {
        var byCategory: [(String, VMStats)] = CostCategory.allCases.map { ($0.name, .count(s.cycles.byCategory[$0.name] ?? 0)) }
        byCategory.append(("waited", .count(s.cycles.waited)))
        // Every event, zero or not, so `s.cycles.by_event.vm_exit` is never nil.
        let byEvent: [(String, VMStats)] = CostEvent.allCases.map { event in
            let cost = s.cycles.byEvent[event.name]
            return (event.name, .group([("count", .count(cost?.count ?? 0)), ("cycles", .count(cost?.cycles ?? 0))]))
        }
        return .group([
            ("total", .count(machine.cycles)),
            ("by_category", .group(byCategory)),
            ("by_event", .group(byEvent)),
        ])
    }

    /// A dictionary of counts, every name of `names` present (zero when absent), then any other
    /// name sorted: a lab reads `s.exits.by_cause.ecall_s` without guarding against nil.
    static func counts(_ values: [String: UInt64], names: [String] = []) -> VMStats {
        var entries: [(String, VMStats)] = names.map { ($0, .count(values[$0] ?? 0)) }
        for name in values.keys.sorted() where !names.contains(name) { entries.append((name, .count(values[name]!))) }
        return .group(entries)
    }

    static func fault(_ f: InjectedFault) -> VMStats {
        .group([
            ("id", .count(UInt64(f.id))), ("fault", .text(f.kind.rawValue)),
            ("parameters", .group(f.parameters.keys.sorted().map { name in
                switch f.parameters[name]! {
                case .integer(let n): (name, .count(n))
                case .string(let text): (name, .text(text))
                }
            })),
            ("trigger", .text(f.trigger.description)), ("instructions", .count(f.instructions)),
            ("cycles", .count(f.cycles)), ("pc", .count(f.pc)), ("effect", .text(f.effect)),
        ])
    }

    /// What the VMM adds to the machine's counters: the mode, exits, hypercalls, events, per-vCPU
    /// counters, the technique's own counters, the faults that fired, and the host's share.
    static func vmm(_ guest: Guest, _ s: @escaping () -> GuestStatistics) -> [(String, () -> VMStats)] {
        let causes = RISCV.ExceptionCause.allCases.map(\.name) + RISCV.InterruptCause.allCases.map(\.name)
        var sections: [(String, () -> VMStats)] = [
            ("exits", { .group([("total", .count(s().exits.values.reduce(0, &+))), ("by_cause", counts(s().exits, names: causes))]) }),
            ("hypercalls", { .group([("total", .count(s().hypercalls.values.reduce(0, &+))), ("by_cause", counts(s().hypercalls))]) }),
            ("privileged", { .count(s().privileged) }),
            ("dma", {
                let dma = s().dma
                return .group([("reads", .count(dma.reads)), ("writes", .count(dma.writes)),
                               ("bytes_read", .count(dma.bytesRead)), ("bytes_written", .count(dma.bytesWritten))])
            }),
            ("nics", { .list(guest.board.nics.map { nic in
                .group([("mac", .text(nic.macString)), ("frames_sent", .count(nic.framesSent)),
                        ("frames_received", .count(nic.framesReceived)), ("frames_dropped", .count(nic.framesDropped)),
                        ("backlog", .count(UInt64(nic.backlogCount))), ("link", .text(nic.linkUp ? "up" : "down"))])
            }) }),
            ("events", { counts(s().events, names: GuestEventKind.allCases.map(\.rawValue)) }),
            ("vcpus", { .list(s().vcpus.map { .group([("instructions", .count($0.instructions)), ("cycles", .count($0.cycles)),
                                                      ("traps", .count($0.traps))]) }) }),
            ("technique", { let technique = s().technique; return .group(technique.keys.sorted().map { ($0, counts(technique[$0]!)) }) }),
            ("faults", { .list(s().faults.map(fault)) }),
        ]
        if guest.host != nil {
            sections.append(("host", {
                let host = s().host!
                return .group([("cycles", .count(host.cycles)), ("switches", .count(host.switches)),
                               ("vms", .count(UInt64(host.guests)))])
            }))
        }
        return sections
    }

    /// The machine's counters summed over harts (a machine has at least one hart).
    static func summedCounters(_ machine: Machine) -> HartCounters {
        var total = machine.counters(hart: 0)
        for h in 1..<max(1, machine.hartCount) {
            let c = machine.counters(hart: h)
            total.instructions &+= c.instructions
            total.cycles &+= c.cycles
            for i in 0..<64 {
                total.exceptions[i] &+= c.exceptions[i]
                total.interrupts[i] &+= c.interrupts[i]
                total.handledByHost[i] &+= c.handledByHost[i]
            }
            total.waits &+= c.waits
            total.mmioAccesses &+= c.mmioAccesses
            let t = c.tlb
            total.tlb.fetchHits &+= t.fetchHits; total.tlb.loadHits &+= t.loadHits; total.tlb.storeHits &+= t.storeHits
            total.tlb.fetchMisses &+= t.fetchMisses; total.tlb.loadMisses &+= t.loadMisses
            total.tlb.storeMisses &+= t.storeMisses
            total.tlb.fullFlushes &+= t.fullFlushes; total.tlb.asidFlushes &+= t.asidFlushes
            total.tlb.addressFlushes &+= t.addressFlushes; total.tlb.satpFlushes &+= t.satpFlushes
            total.tlb.hostFlushes &+= t.hostFlushes
            total.tlb.walkReferences &+= t.walkReferences; total.tlb.evictions &+= t.evictions
            total.tlb.nestedHits &+= t.nestedHits; total.tlb.nestedMisses &+= t.nestedMisses
            total.tlb.walkCacheHits &+= t.walkCacheHits; total.tlb.walkCacheMisses &+= t.walkCacheMisses
        }
        return total
    }

    /// The counters of `guest` now: the machine's (summed over harts), cycles priced by the
    /// guest's technique and profile, and the VMM's own. With `only`, just the top-level entry of
    /// that name (an empty group if there is none): each entry is computed only when asked for,
    /// so `vm:stats "instructions"` does not price every event or sort every cause.
    static func collect(_ guest: Guest, only: Substring? = nil) -> VMStats {
        let machine = guest.machine
        var statistics: GuestStatistics?
        let s = {
            if let statistics { return statistics }
            let computed = guest.statistics()
            statistics = computed
            return computed
        }
        var summed: HartCounters?
        let total = {
            if let summed { return summed }
            let computed = summedCounters(machine)
            summed = computed
            return computed
        }
        let sections: [(String, () -> VMStats)] = [
            ("profile", { .text(guest.profile.description) }),
            ("mode", { .text(guest.mode.rawValue) }),
            ("instructions", { .count(total().instructions) }),
            ("cycles", { cycles(machine, s()) }),
            ("traps", {
                let total = total()
                var byCause: [(String, VMStats)] = []
                for cause in RISCV.ExceptionCause.allCases { byCause.append((cause.name, .count(total.exceptions[Int(cause.rawValue)]))) }
                for cause in RISCV.InterruptCause.allCases { byCause.append((cause.name, .count(total.interrupts[Int(cause.rawValue)]))) }
                var byFirmware: [(String, VMStats)] = []
                for cause in RISCV.ExceptionCause.allCases { byFirmware.append((cause.name, .count(total.handledByHost[Int(cause.rawValue)]))) }
                let exceptions = total.exceptions.reduce(0, &+)
                let interrupts = total.interrupts.reduce(0, &+)
                return .group([
                    ("total", .count(exceptions &+ interrupts)),
                    ("exceptions", .count(exceptions)),
                    ("interrupts", .count(interrupts)),
                    ("by_cause", .group(byCause)),
                    // Traps bound for M-mode that the built-in firmware (Swift SBI) handled.
                    ("firmware", .group([("total", .count(total.handledByHost.reduce(0, &+))), ("by_cause", .group(byFirmware))])),
                ])
            }),
            ("tlb", {
                let t = total().tlb
                return .group([
                    ("hits", .count(t.hits)),
                    ("misses", .count(t.misses)),
                    ("flushes", .count(t.flushes)),
                    ("evictions", .count(t.evictions)),
                    // The nested TLB's G-stage lookups (zero without one: `tlb = { nested = N }`).
                    ("nested_hits", .count(t.nestedHits)),
                    ("nested_misses", .count(t.nestedMisses)),
                    // The page-walk cache's (zero without one: `tlb = { pwc = N }`).
                    ("pwc_hits", .count(t.walkCacheHits)),
                    ("pwc_misses", .count(t.walkCacheMisses)),
                    ("fetch", .group([("hits", .count(t.fetchHits)), ("misses", .count(t.fetchMisses))])),
                    ("load", .group([("hits", .count(t.loadHits)), ("misses", .count(t.loadMisses))])),
                    ("store", .group([("hits", .count(t.storeHits)), ("misses", .count(t.storeMisses))])),
                    ("flushes_by_kind", .group([
                        ("full", .count(t.fullFlushes)), ("asid", .count(t.asidFlushes)),
                        ("address", .count(t.addressFlushes)), ("satp", .count(t.satpFlushes)),
                        ("host", .count(t.hostFlushes)),
                    ])),
                ])
            }),
            ("walk", { .group([("references", .count(total().tlb.walkReferences))]) }),
            ("wfi", { .count(total().waits) }),
            // The hardware's and those the VMM performed for the guest (GuestStatistics.mmio's sum).
            ("mmio", { .group([("accesses", .count(total().mmioAccesses &+ guest.technique.deviceAccessesPerformed(guest)))]) }),
        ] + vmm(guest, s)
        return .group(sections.compactMap { name, make in only == nil || only! == name ? (name, make()) : nil })
    }

    /// The node at a dotted path of `guest`'s counters now, computing only the top-level entry
    /// the path starts with.
    static func select(_ path: String, of guest: Guest) -> Result<VMStats, SelectionError> {
        let first = path.prefix { $0 != "." }
        let part = collect(guest, only: first)
        // A first name that is not there: the whole tree names the ones that are.
        if case .group(let entries) = part, entries.isEmpty { return collect(guest).select(path) }
        return part.select(path)
    }

    /// A plain nested Lua table.
    var luaValue: LuaValue {
        switch self {
        case .count(let n): .unsigned(n)
        case .text(let s): .string(s)
        case .group(let entries):
            .table(Dictionary(uniqueKeysWithValues: entries.map { (LuaValue.string($0.0), $0.1.luaValue) }))
        case .list(let items): .array(items.map(\.luaValue))
        }
    }

    /// `path value` lines in tree order: `traps.by_cause.ecall_s 12`.
    public var lines: [String] {
        func walk(_ node: VMStats, _ path: String, _ out: inout [String]) {
            switch node {
            case .count(let n): out.append("\(path) \(n)")
            case .text(let s): out.append("\(path) \(s)")
            case .group(let entries):
                for (key, child) in entries { walk(child, path.isEmpty ? key : path + "." + key, &out) }
            case .list(let items):
                for (i, child) in items.enumerated() { walk(child, path + ".\(i + 1)", &out) }
            }
        }
        var out: [String] = []
        walk(self, "", &out)
        return out
    }

    /// The node at a dotted path.
    public func node(_ path: String) -> VMStats? {
        if case .success(let node) = select(path) { return node }
        return nil
    }

    /// The node at a dotted path (`tlb.hits`, `vcpus.1.instructions`), or why there is none:
    /// the first name that does not exist, and the names that do at that level, so a typo in a
    /// lab is answered with the right spelling.
    public func select(_ path: String) -> Result<VMStats, SelectionError> {
        var node = self
        var walked: [Substring] = []
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            let here = walked.isEmpty ? "the top level" : "'" + walked.joined(separator: ".") + "'"
            switch node {
            case .list(let items):
                guard let i = Int(key), i >= 1 && i <= items.count else {
                    let range = items.isEmpty ? "it is empty" : "it has 1 to \(items.count)"
                    return .failure(SelectionError(message: "\(here) is a list: no item '\(key)' (\(range))"))
                }
                node = items[i - 1]
            case .group(let entries):
                guard let next = entries.first(where: { $0.0 == key })?.1 else {
                    let names = entries.map(\.0).joined(separator: ", ")
                    return .failure(SelectionError(message: "\(here) has no '\(key)' (it has \(names))"))
                }
                node = next
            case .count, .text:
                return .failure(SelectionError(message: "\(here) is a single value: it has no '\(key)'"))
            }
            walked.append(key)
        }
        return .success(node)
    }

    /// Why `select` found nothing at a path.
    public struct SelectionError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The count at a dotted path, for Swift callers and tests.
    public subscript(path: String) -> UInt64? {
        if case .count(let n) = node(path) { return n }
        return nil
    }

    /// The text at a dotted path (`profile`).
    public func text(_ path: String) -> String? {
        if case .text(let s) = node(path) { return s }
        return nil
    }
}

extension VirtualMachine {
    /// The counters now (nil once closed).
    public var stats: VMStats? { guest.map { VMStats.collect($0) } }

    /// The counters at a dotted path (`tlb.hits`), computing only what the path needs.
    public func stats(at path: String) -> Result<VMStats, VMStats.SelectionError>? {
        guest.map { VMStats.select(path, of: $0) }
    }
}
