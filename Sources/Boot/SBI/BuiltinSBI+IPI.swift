// SBI IPI extension (EID "sPI"; SBI v2.0 chapter 7): `sbi_send_ipi(hart_mask, hart_mask_base)` makes
// a supervisor software interrupt pending on each named hart. OpenSBI sets `mip.SSIP` from M-mode;
// the receiving S-mode clears it in `sip`, so the bit is set and left for the guest to clear.

extension BuiltinSBI {
    func sendIPI(mask: UInt64, base: UInt64) -> SBIResult {
        guard let targets = harts(mask: mask, base: base) else { return .failure(.invalidParam) }
        for hart in targets { platform.raiseSupervisorSoftwareInterrupt(hart: hart) }
        return .success()
    }
}
