// The VMM's software work for a para-virtual guest, on the guest's clock. The machine charges the
// entry into the VMM itself (every hypercall, SBI call or emulated instruction is a handled trap,
// priced as `hypercall`); what the VMM then does — validating an update, emulating an
// instruction, reflecting an exception, flushing a TLB, injecting an upcall — the domain charges
// to the vCPU it did it for, as it does it (`Machine.charge`), and counts per vCPU, so the
// technique's account reproduces each vCPU's clock exactly (cost-model.md: "the account is the
// clock").
import Machine

/// Cycles the domain charges per unit of VMM work (from the guest's cost profile).
public struct ParavirtualPrices: Sendable, Equatable {
    public var pvUpdate: UInt64 = 0
    public var privilegedEmulated: UInt64 = 0
    public var exceptionReflected: UInt64 = 0
    public var tlbFlush: UInt64 = 0
    public var interruptInjected: UInt64 = 0

    public init() {}

    public init(_ p: CostProfile) {
        pvUpdate = p.cycles(.pvUpdate)
        privilegedEmulated = p.cycles(.privilegedEmulated)
        exceptionReflected = p.cycles(.exceptionReflected)
        tlbFlush = p.cycles(.tlbFlush)
        interruptInjected = p.cycles(.interruptInjected)
    }
}

/// VMM work done for one vCPU, by cost event (what its account records beyond the machine's).
public struct ParavirtualWork: Sendable, Equatable, Codable {
    public var updates: UInt64 = 0
    public var emulated: UInt64 = 0
    public var reflected: UInt64 = 0
    public var flushes: UInt64 = 0
    public var upcalls: UInt64 = 0

    public init() {}
}

extension ParavirtualDomain {
    enum Work { case update, emulated, reflected, flush, upcall }

    /// Counts one unit of `work` for `hart` and advances that hart's clock by its price.
    func charge(_ work: Work, hart: Int) {
        guard hart >= 0, hart < self.work.count else { return }
        let price: UInt64
        switch work {
        case .update: self.work[hart].updates &+= 1; price = prices.pvUpdate
        case .emulated: self.work[hart].emulated &+= 1; price = prices.privilegedEmulated
        case .reflected: self.work[hart].reflected &+= 1; price = prices.exceptionReflected
        case .flush: self.work[hart].flushes &+= 1; price = prices.tlbFlush
        case .upcall: self.work[hart].upcalls &+= 1; price = prices.interruptInjected
        }
        if price != 0 { machine.charge(price, hart: hart) }
    }
}
