// `pv`: para-virtualisation (Xen's technique [X03]). The guest kernel is modified to cooperate:
// it runs in S-mode on the machine, changes its page tables, switches address spaces, flushes the
// TLB, sets its timer and writes its console through hypercalls (HypercallABI.md), each validated by
// the VMM (Sources/Hypervisor/Paravirtual/). Everything else runs directly:
//
// - system calls, page faults and interrupts are delegated (medeleg/mideleg, as the firmware sets
//   them) and go straight to the guest kernel without the VMM;
// - mstatus.TVM and TW (and TSR if the policy asks) make what the kernel still does unmodified
//   trap and be emulated, counted by kind (PrivilegedEmulation.swift); illegal instructions are
//   therefore not delegated, and the VMM reflects the ones it does not emulate;
// - PMP confines S- and U-mode to the VM's device window (no execute) and its RAM, so even the
//   kernel's own page tables cannot reach past its memory.
//
// Costs (CostEvent rules): every VMM entry — hypercall, SBI call, emulated instruction — is a
// `hypercall` on the machine's clock; on top, the account carries `pv_update` per validated
// update, `privileged_emulated` per emulated instruction, `exception_reflected` per reflection and
// `tlb_flush` per flush the VMM makes and `interrupt_injected` per upcall, each charged to the
// vCPU's clock as the VMM does the work (DomainCosts.swift), so guest-visible time includes it
// and the account equals the clock.
import Boot
import Machine
import RISCV

public final class ParavirtualTechnique: Technique {
    public let policy: ParavirtualPolicy
    /// The VMM-side state of the guest (nil before `install`).
    public private(set) var domain: ParavirtualDomain?

    public init(policy: ParavirtualPolicy = ParavirtualPolicy()) { self.policy = policy }

    public var mode: ExecutionMode { .pv }

    /// The machine's prices: the native table, with every VMM entry priced as a hypercall.
    public static func costTable(_ p: CostProfile) -> CostTable {
        var t = p.machineCostTable
        t.handledTrap = p.cycles(.hypercall)
        return t
    }

    public func install(on guest: Guest) throws(GuestBuildError) {
        let machine = guest.machine
        machine.costs = Self.costTable(guest.profile)
        // Re-installing (a new profile) keeps the domain and its page types; work from now on
        // is charged at the new prices.
        if let domain {
            domain.prices = ParavirtualPrices(guest.profile)
            return
        }
        let domain = ParavirtualDomain(id: guest.id, machine: machine, firmware: guest.board.firmware?.sbi,
                                       console: guest.board.console, policy: policy)
        domain.prices = ParavirtualPrices(guest.profile)
        self.domain = domain
        // The first disk also gets a split-driver back-end (the emulated virtio device stays).
        if let disk = guest.board.disks.first { domain.blockBackend = BlockBackend(image: disk.image) }
        machine.trapHandler = ParavirtualTrapHandler(domain: domain, firmware: guest.board.firmware)
        for hart in 0..<machine.hartCount { Self.deprivilege(machine, hart: hart, policy: policy) }
    }

    /// The M-mode set-up of one vCPU (after the firmware's own).
    static func deprivilege(_ machine: Machine, hart: Int, policy: ParavirtualPolicy) {
        let medeleg = machine.readCSR(RISCV.CSR.medeleg, hart: hart) ?? 0
        machine.writeCSR(RISCV.CSR.medeleg, medeleg & ~(1 << RISCV.ExceptionCause.illegalInstruction.rawValue), hart: hart)
        // mstatus TVM (bit 20), TW (21), TSR (22): Privileged spec 3.1.6.5.
        var mstatus = machine.readCSR(RISCV.CSR.mstatus, hart: hart) ?? 0
        mstatus |= 1 << 20 | 1 << 21
        if policy.trapSupervisorReturn { mstatus |= 1 << 22 }
        machine.writeCSR(RISCV.CSR.mstatus, mstatus, hart: hart)
        confine(machine, hart: hart)
    }

    /// PMP (Privileged spec 3.7): entry 0 = TOR [0, RAM base) read/write — the device window;
    /// entry 1 = TOR [RAM base, RAM end) read/write/execute; nothing else matches, so S/U accesses
    /// elsewhere fault. Entries are left unlocked: M-mode (the VMM) is not confined.
    static func confine(_ machine: Machine, hart: Int) {
        let base = machine.configuration.ramBase, end = base &+ machine.configuration.ramSize
        let tor: UInt64 = 1 << 3, r: UInt64 = 1, w: UInt64 = 2, x: UInt64 = 4
        machine.writeCSR(0x3B0, base >> 2, hart: hart)            // pmpaddr0
        machine.writeCSR(0x3B1, end >> 2, hart: hart)             // pmpaddr1
        machine.writeCSR(0x3A0, (tor | r | w) | (tor | r | w | x) << 8, hart: hart)   // pmpcfg0
        machine.flushTLB(hart: hart)
    }

    public func account(_ guest: Guest, vcpu: Int) -> CycleAccount {
        let counters = guest.machine.counters(hart: vcpu)
        var a = CycleAccount(profile: guest.profile)
        let exceptions = counters.exceptions.reduce(0, &+)
        let handled = counters.handledByHost.reduce(0, &+)
        a.record(.instruction, count: counters.instructions)
        a.record(.walkReference, count: counters.tlb.walkReferences)
        a.record(.tlbMiss, count: counters.tlb.misses)
        a.record(.tlbFlush, count: counters.tlb.flushes &- counters.tlb.hostFlushes)
        a.record(.trap, count: exceptions &- handled)
        a.record(.interrupt, count: counters.interrupts.reduce(0, &+))
        a.record(.mmioAccess, count: counters.mmioAccesses)
        // The PV kernel runs in S-mode and writes its CSRs itself.
        a.record(.csrWrite, count: counters.privilegedCSRWrites)
        a.record(.hypercall, count: handled)
        if let domain, vcpu < domain.work.count {
            // The VMM's work for this vCPU, charged to its clock as it was done.
            let w = domain.work[vcpu]
            a.record(.pvUpdate, count: w.updates)
            a.record(.privilegedEmulated, count: w.emulated)
            a.record(.exceptionReflected, count: w.reflected)
            a.record(.tlbFlush, count: w.flushes)
            a.record(.interruptInjected, count: w.upcalls)
        }
        a.settleWaitedCycles(clock: counters.cycles)
        return a
    }

    public func counters(_ guest: Guest) -> [String: [String: UInt64]] {
        var groups = domain?.counterGroups ?? [:]
        if let sbi = guest.board.firmware?.sbi {
            groups["firmware_calls"] = sbi.callsByExtension
        }
        return groups
    }
}
