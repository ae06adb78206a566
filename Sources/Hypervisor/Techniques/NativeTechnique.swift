// `native`: no VMM. The guest's board machine is the hardware, priced by the profile's machine
// table; the account is read back from the machine's counters (CycleAccount+Native.swift).
import Boot

public final class NativeTechnique: Technique {
    public init() {}
    public var mode: ExecutionMode { .native }

    public func install(on guest: Guest) throws(GuestBuildError) {
        guest.machine.costs = guest.profile.machineCostTable
    }

    public func account(_ guest: Guest, vcpu: Int) -> CycleAccount {
        CycleAccount.native(guest.machine.counters(hart: vcpu), profile: guest.profile)
    }

    public func counters(_ guest: Guest) -> [String: [String: UInt64]] {
        guard let sbi = guest.board.firmware?.sbi else { return [:] }
        return ["firmware_calls": sbi.callsByExtension]
    }
}
