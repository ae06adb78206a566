// `interpret`: the VMM runs the guest in a software CPU. The guest's machine is that CPU: its RAM is
// the VM's carve-out of host RAM, and its price table is the interpreter's (every instruction
// `interpretation`, not `instruction`; walks through the guest-physical map are the VMM's software
// walks, `walk_reference` each; exceptions are reflected to the guest kernel in software, interrupts
// injected, device accesses emulated, SBI calls served by the VMM's virtual SBI). Because the
// machine charges exactly the prices `CycleAccount.interpreted` multiplies its counts by, the
// account equals the modelled clock, and guest-visible time advances with the interpreter's cost.
import Boot
import Machine

public final class InterpretTechnique: Technique {
    public init() {}
    public var mode: ExecutionMode { .interpret }
    /// The guest it runs (weak: the guest holds its technique), for its snapshots.
    weak var installedGuest: Guest?
    /// The dirty log's harvests (InterpretTechnique+DirtyLog.swift); the log is the machine's.
    var dirtyLog = InterpretDirtyLogCounters()

    public func install(on guest: Guest) throws(GuestBuildError) {
        guest.machine.costs = Self.costTable(guest.profile)
        installedGuest = guest
    }

    /// The software CPU's prices, event by event (`MachinePricing.interpreted`).
    public static func costTable(_ p: CostProfile) -> CostTable {
        MachinePricing.interpreted.costTable(p)
    }

    public func account(_ guest: Guest, vcpu: Int) -> CycleAccount {
        CycleAccount.interpreted(guest.machine.counters(hart: vcpu), profile: guest.profile)
    }

    public func counters(_ guest: Guest) -> [String: [String: UInt64]] {
        var groups: [String: [String: UInt64]] = [:]
        if let sbi = guest.board.firmware?.sbi {
            groups["hypercalls"] = Dictionary(uniqueKeysWithValues: sbi.callsByExtension.map { ("sbi_" + $0.key.lowercased(), $0.value) })
        }
        var emulated: [String: UInt64] = [:]
        for v in 0..<guest.machine.hartCount {
            let c = guest.machine.counters(hart: v)
            emulated["instructions", default: 0] &+= c.instructions
            emulated["exceptions_reflected", default: 0] &+= c.exceptions.reduce(0, &+) &- c.handledByHost.reduce(0, &+)
            emulated["interrupts_injected", default: 0] &+= c.interrupts.reduce(0, &+)
            emulated["device_accesses", default: 0] &+= c.mmioAccesses
            emulated["software_walk_references", default: 0] &+= c.tlb.walkReferences
        }
        groups["interpreter"] = emulated
        groups["dirty_log"] = dirtyLogCounters(guest)
        return groups
    }
}
