// SBI RFENCE extension (EID "RFNC"; SBI v2.0 chapter 8): another hart's `fence.i`, `sfence.vma`
// and, with the H extension, `hfence.gvma` / `hfence.vvma`, performed on the named harts.
//
//   FID 0 remote_fence_i(mask, base)                 FID 4 remote_hfence_gvma(mask, base, start, size)
//   FID 1 remote_sfence_vma(mask, base, start, size) FID 5 remote_hfence_vvma_asid(..., asid)
//   FID 2 remote_sfence_vma_asid(..., asid)          FID 6 remote_hfence_vvma(mask, base, start, size)
//   FID 3 remote_hfence_gvma_vmid(..., vmid)
//
// A range of `start = 0, size = 0` or `size = 2^XLEN - 1` means the whole address space.

extension BuiltinSBI {
    func remoteFence(_ fid: UInt64, _ call: SBICall) -> SBIResult {
        guard fid <= 6 else { return .failure(.notSupported) }
        if fid >= 3 && !platform.hasHypervisorExtension { return .failure(.notSupported) }
        guard let targets = harts(mask: call[0], base: call[1]) else { return .failure(.invalidParam) }
        if fid == 0 {
            for hart in targets { platform.flushInstructionCache(hart: hart) }
            return .success()
        }
        let start = call[2], size = call[3]
        let range: MemoryRange?
        if (start == 0 && size == 0) || size == UInt64.max {
            range = nil
        } else {
            guard start.addingReportingOverflow(size).overflow == false else { return .failure(.invalidAddress) }
            range = MemoryRange(address: start, size: size)
        }
        let flush: SBITLBFlush
        switch fid {
        case 1: flush = SBITLBFlush(stage: .supervisor, range: range, asid: nil)
        case 2: flush = SBITLBFlush(stage: .supervisor, range: range, asid: call[4])
        case 3: flush = SBITLBFlush(stage: .guestPhysical(vmid: call[4]), range: range, asid: nil)
        case 4: flush = SBITLBFlush(stage: .guestPhysical(vmid: nil), range: range, asid: nil)
        case 5: flush = SBITLBFlush(stage: .virtualSupervisor, range: range, asid: call[4])
        default: flush = SBITLBFlush(stage: .virtualSupervisor, range: range, asid: nil)
        }
        for hart in targets { platform.flushTLB(hart: hart, flush) }
        return .success()
    }
}
