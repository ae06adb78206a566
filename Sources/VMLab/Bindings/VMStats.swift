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

    public static func == (a: VMStats, b: VMStats) -> Bool {
        switch (a, b) {
        case (.count(let x), .count(let y)): x == y
        case (.text(let x), .text(let y)): x == y
        case (.group(let x), .group(let y)): x.map(\.0) == y.map(\.0) && zip(x, y).allSatisfy { $0.1 == $1.1 }
        default: false
        }
    }

    /// Modelled cycles: the machine's clock (`total`), and the work of every hart priced by
    /// `profile` (`CycleAccount.native`), summed over harts, by category and by event. `waited`
    /// (in `by_category`) is the clock time no event accounts for: WFI sleep, catching up with
    /// another hart. With one hart the categories sum to `total` exactly; with several they sum
    /// to the harts' clocks added together.
    static func cycles(_ machine: Machine, profile: CostProfile) -> VMStats {
        var account = CycleAccount(profile: profile)
        for h in 0..<max(1, machine.hartCount) { account.add(.native(machine: machine, hart: h, profile: profile)) }
        var byCategory: [(String, VMStats)] = account.byCategory.map { ($0.category.name, .count($0.cycles)) }
        byCategory.append(("waited", .count(account.waitedCycles)))
        // Every event, zero or not, so `s.cycles.by_event.vm_exit` is never nil.
        let byEvent: [(String, VMStats)] = CostEvent.allCases.map { event in
            (event.name, .group([("count", .count(account.count(event))), ("cycles", .count(account.cycles(event)))]))
        }
        return .group([
            ("total", .count(machine.cycles)),
            ("by_category", .group(byCategory)),
            ("by_event", .group(byEvent)),
        ])
    }

    /// The counters of `machine` now, cycles priced by `profile` (the one the machine charges).
    static func collect(_ machine: Machine, profile: CostProfile) -> VMStats {
        // Hart 0's counters, plus every other hart's (a machine has at least one hart).
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
        }
        var byCause: [(String, VMStats)] = []
        for cause in RISCV.ExceptionCause.allCases { byCause.append((cause.name, .count(total.exceptions[Int(cause.rawValue)]))) }
        for cause in RISCV.InterruptCause.allCases { byCause.append((cause.name, .count(total.interrupts[Int(cause.rawValue)]))) }
        var byFirmware: [(String, VMStats)] = []
        for cause in RISCV.ExceptionCause.allCases { byFirmware.append((cause.name, .count(total.handledByHost[Int(cause.rawValue)]))) }
        let exceptions = total.exceptions.reduce(0, &+)
        let interrupts = total.interrupts.reduce(0, &+)
        let t = total.tlb
        return .group([
            ("profile", .text(profile.description)),
            ("instructions", .count(total.instructions)),
            ("cycles", cycles(machine, profile: profile)),
            ("traps", .group([
                ("total", .count(exceptions &+ interrupts)),
                ("exceptions", .count(exceptions)),
                ("interrupts", .count(interrupts)),
                ("by_cause", .group(byCause)),
                // Traps bound for M-mode that the built-in firmware (Swift SBI) handled.
                ("firmware", .group([("total", .count(total.handledByHost.reduce(0, &+))), ("by_cause", .group(byFirmware))])),
            ])),
            ("tlb", .group([
                ("hits", .count(t.hits)),
                ("misses", .count(t.misses)),
                ("flushes", .count(t.flushes)),
                ("evictions", .count(t.evictions)),
                ("fetch", .group([("hits", .count(t.fetchHits)), ("misses", .count(t.fetchMisses))])),
                ("load", .group([("hits", .count(t.loadHits)), ("misses", .count(t.loadMisses))])),
                ("store", .group([("hits", .count(t.storeHits)), ("misses", .count(t.storeMisses))])),
                ("flushes_by_kind", .group([
                    ("full", .count(t.fullFlushes)), ("asid", .count(t.asidFlushes)),
                    ("address", .count(t.addressFlushes)), ("satp", .count(t.satpFlushes)),
                    ("host", .count(t.hostFlushes)),
                ])),
            ])),
            ("walk", .group([("references", .count(t.walkReferences))])),
            ("wfi", .count(total.waits)),
            ("mmio", .group([("accesses", .count(total.mmioAccesses))])),
        ])
    }

    /// A plain nested Lua table.
    var luaValue: LuaValue {
        switch self {
        case .count(let n): .unsigned(n)
        case .text(let s): .string(s)
        case .group(let entries):
            .table(Dictionary(uniqueKeysWithValues: entries.map { (LuaValue.string($0.0), $0.1.luaValue) }))
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
            }
        }
        var out: [String] = []
        walk(self, "", &out)
        return out
    }

    /// The node at a dotted path.
    public func node(_ path: String) -> VMStats? {
        var node = self
        for key in path.split(separator: ".") {
            guard case .group(let entries) = node, let next = entries.first(where: { $0.0 == key })?.1 else { return nil }
            node = next
        }
        return node
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
    public var stats: VMStats? { board.map { VMStats.collect($0.machine, profile: spec.profile) } }
}
