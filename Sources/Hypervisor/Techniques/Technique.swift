// A virtualisation technique: how a guest's vCPUs run and what the VMM charges for it. Each mode is
// one conforming type in this folder, so a technique is one well-named part of the VMM rather than a
// flag threaded through it; the `Guest` only asks its technique to install itself, to account for
// the run and to name its own counters.

/// One virtualisation technique.
public protocol Technique: AnyObject {
    var mode: ExecutionMode { get }
    /// Before the first instruction, and again whenever the guest's profile changes: configures the
    /// guest's machine (its price table, observers the technique needs).
    func install(on guest: Guest) throws(GuestBuildError)
    /// Modelled cycles by event for vCPU `vcpu`, from the machine's counters and the technique's own.
    func account(_ guest: Guest, vcpu: Int) -> CycleAccount
    /// Technique-specific counters for statistics, grouped: `["sbi": ["TIME": 3], ...]`.
    func counters(_ guest: Guest) -> [String: [String: UInt64]]
    /// Entries into the VMM by cause name (`vm:stats().exits`): empty for a mode with no VMM on
    /// the guest's path (native) or one that never leaves it (interpret).
    func exits(_ guest: Guest) -> [String: UInt64]
    /// Device register accesses of the guest that the VMM performed on the device model rather than
    /// the hardware (which counts its own): with them, `vm:stats().mmio` counts the same work the
    /// same in every mode, as the instruction count does.
    func deviceAccessesPerformed(_ guest: Guest) -> UInt64
}

extension Technique {
    public func exits(_ guest: Guest) -> [String: UInt64] { [:] }
    public func deviceAccessesPerformed(_ guest: Guest) -> UInt64 { 0 }

    /// The account of the whole VM: every vCPU's counts added.
    public func account(_ guest: Guest) -> CycleAccount {
        var total = account(guest, vcpu: 0)
        for v in 1..<max(1, guest.machine.hartCount) { total.add(account(guest, vcpu: v)) }
        return total
    }
}

extension Dictionary where Key == String, Value == UInt64 {
    /// These counts with every one of `names` present, zero where nothing was counted, so that a
    /// script can read any count by name.
    func withZeros(for names: [String]) -> [String: UInt64] {
        var all = self
        for name in names where all[name] == nil { all[name] = 0 }
        return all
    }
}
