// The shared info page: one page of guest RAM the guest registers and the VMM writes into, so
// that the common event-channel operations need no hypercall (Xen's `shared_info`, [X03] §3.2).
// Layout (little-endian; the guest's C view is `struct vmlab_shared_info` in hypercall.h):
//
//   offset  size  field
//   0       8     pending      bit p: port p has an event (the VMM sets, the guest clears)
//   8       8     mask         bit p: port p is masked (the guest sets; `evtchn_unmask` clears)
//   16      1     upcall_pending  1: an unmasked port is pending (the VMM sets, the guest clears)
//   17      1     upcall_mask     1: the vCPU's virtual interrupts are masked (the guest's own
//                                 "disable interrupts": a store, not a hypercall)
//   24      8     time         the `time` CSR at the VMM's last entry (a cheap clock read)
//
// After clearing `upcall_mask`, a guest that finds `upcall_pending` set makes any hypercall
// (`block` is cheapest) so the VMM delivers it, exactly as Xen guests do.

/// Field addresses of a shared info page at guest-physical `base`.
public struct SharedInfo: Sendable, Equatable {
    public var base: UInt64
    public init(_ base: UInt64) { self.base = base }
    public var pending: UInt64 { base }
    public var mask: UInt64 { base + 8 }
    public var upcallPending: UInt64 { base + 16 }
    public var upcallMask: UInt64 { base + 17 }
    public var time: UInt64 { base + 24 }
}

extension ParavirtualDomain {
    /// `register_shared_info(page)`: the page must be one of the VM's untyped RAM frames.
    func registerSharedInfo(_ page: UInt64) -> HypercallResult {
        guard page & 0xFFF == 0 else { return .failure(.invalidParam) }
        guard let frame = frames.frame(of: page) else { return .failure(.invalidAddress) }
        guard frames.type(of: frame) == .untyped else { return .failure(.denied) }
        sharedInfo = page
        flushPendingIntoPage()
        updateSharedTime()
        deliverUpcall()
        return .success()
    }

    func updateSharedTime() {
        guard let page = sharedInfo else { return }
        store64(SharedInfo(page).time, machine.mtime)
    }
}
