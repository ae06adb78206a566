// `vm:stats()` as plain Swift data: numbers, strings, dictionaries and arrays the Lua layer converts
// one to one. It is computed from counters when asked (never accumulated on the hot path), so it is
// readable at any time, also from inside a hook, and two identical runs give equal statistics.
import Boot
import Machine
import RISCV

/// A VM's statistics at one moment.
public struct GuestStatistics: Sendable, Equatable {
    public struct Cycles: Sendable, Equatable {
        public var total: UInt64
        /// Cycles by `CostCategory` name (every category, zeros included).
        public var byCategory: [String: UInt64]
        /// Count and cycles by `CostEvent` name (events that happened).
        public var byEvent: [String: EventCost]
        /// Cycles spent waiting (WFI, idle) with no event to charge.
        public var waited: UInt64
        public var microseconds: Double
    }
    public struct EventCost: Sendable, Equatable {
        public var count: UInt64
        public var cycles: UInt64
    }
    public struct VCPU: Sendable, Equatable {
        public var instructions: UInt64
        public var cycles: UInt64
        public var traps: UInt64
    }
    public struct TLB: Sendable, Equatable {
        public var hits: UInt64, misses: UInt64, flushes: UInt64, evictions: UInt64
    }
    public struct DMA: Sendable, Equatable {
        public var reads: UInt64, writes: UInt64, bytesRead: UInt64, bytesWritten: UInt64
    }
    public struct HostShare: Sendable, Equatable {
        public var cycles: UInt64
        public var switches: UInt64
        public var guests: Int
    }

    public var name: String
    public var mode: String
    /// The profile's printable name (with its edits), and its base name.
    public var profile: String
    public var profileName: String
    public var instructions: UInt64
    public var cycles: Cycles
    /// Traps delivered to the guest, by cause name (exceptions and interrupts).
    public var traps: [String: UInt64]
    /// VM exits by cause (none under `native` and `interpret`).
    public var exits: [String: UInt64]
    /// Calls into the VMM by kind ("sbi_<extension>"); under `native` these are firmware calls and
    /// listed under `firmwareCalls` instead.
    public var hypercalls: [String: UInt64]
    public var firmwareCalls: [String: UInt64]
    public var privileged: UInt64
    public var tlb: TLB
    public var walkReferences: UInt64
    public var mmio: UInt64
    public var dma: DMA
    /// Events seen by hooks and triggers, by kind name.
    public var events: [String: UInt64]
    public var vcpus: [VCPU]
    public var technique: [String: [String: UInt64]]
    public var faults: [InjectedFault]
    /// The host the VM shares (nil for `native`).
    public var host: HostShare?
}

extension Guest {
    /// The VM's statistics now.
    public func statistics() -> GuestStatistics {
        let account = technique.account(self)
        var byEvent: [String: GuestStatistics.EventCost] = [:]
        for e in account.byEvent { byEvent[e.event.name] = .init(count: e.count, cycles: e.cycles) }
        var byCategory: [String: UInt64] = [:]
        for c in account.byCategory { byCategory[c.category.name] = c.cycles }
        let cycles = GuestStatistics.Cycles(total: account.total, byCategory: byCategory, byEvent: byEvent,
                                            waited: account.waitedCycles, microseconds: account.microseconds)
        var traps: [String: UInt64] = [:]
        var vcpus: [GuestStatistics.VCPU] = []
        var tlb = GuestStatistics.TLB(hits: 0, misses: 0, flushes: 0, evictions: 0)
        var walk: UInt64 = 0, mmio: UInt64 = 0, instructions: UInt64 = 0
        for h in 0..<machine.hartCount {
            let c = machine.counters(hart: h)
            var vcpuTraps: UInt64 = 0
            for code in 0..<64 {
                let delivered = c.exceptions[code] &- c.handledByHost[code]
                if delivered > 0 {
                    traps[RISCV.ExceptionCause(rawValue: UInt64(code))?.name ?? "exception_\(code)", default: 0] &+= delivered
                    vcpuTraps &+= delivered
                }
                if c.interrupts[code] > 0 {
                    traps[RISCV.InterruptCause(rawValue: UInt64(code))?.name ?? "interrupt_\(code)", default: 0] &+= c.interrupts[code]
                    vcpuTraps &+= c.interrupts[code]
                }
            }
            vcpus.append(.init(instructions: c.instructions, cycles: technique.account(self, vcpu: h).total, traps: vcpuTraps))
            tlb.hits &+= c.tlb.hits
            tlb.misses &+= c.tlb.misses
            tlb.flushes &+= c.tlb.flushes
            tlb.evictions &+= c.tlb.evictions
            walk &+= c.tlb.walkReferences
            mmio &+= c.mmioAccesses
            instructions &+= c.instructions
        }
        mmio &+= technique.deviceAccessesPerformed(self)
        let observation = machine.observationCounters
        var sbiCalls: [String: UInt64] = [:]
        if let sbi = board.firmware?.sbi {
            for (ext, n) in sbi.callsByExtension { sbiCalls["sbi_" + ext.lowercased()] = n }
        }
        var events: [String: UInt64] = [:]
        for (k, n) in self.events.counts { events[k.rawValue] = n }
        let share = host.map { GuestStatistics.HostShare(cycles: $0.cycles, switches: $0.switches, guests: $0.guests.count) }
        return GuestStatistics(
            name: name, mode: mode.rawValue, profile: profile.description, profileName: profile.name,
            instructions: instructions, cycles: cycles, traps: traps, exits: technique.exits(self),
            hypercalls: mode == .native ? [:] : sbiCalls, firmwareCalls: mode == .native ? sbiCalls : [:],
            privileged: observation.privileged.reduce(0, &+), tlb: tlb, walkReferences: walk, mmio: mmio,
            dma: .init(reads: observation.dmaReads, writes: observation.dmaWrites,
                       bytesRead: observation.dmaBytesRead, bytesWritten: observation.dmaBytesWritten),
            events: events, vcpus: vcpus, technique: technique.counters(self), faults: faults.record, host: share)
    }
}
