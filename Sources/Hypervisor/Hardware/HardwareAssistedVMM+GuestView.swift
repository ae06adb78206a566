// The guest's supervisor CSRs as a tool sees them (`vm:read("csr.satp")`): while a vCPU runs the
// guest (V = 1) its kernel's sstatus, satp, stvec, ... are the hart's VS CSRs, and under shadow
// paging its satp is the one the VMM keeps (vsatp holds the shadow's root). The HS-mode CSRs of
// the same names belong to the VMM, which no guest instruction reaches.

import Machine
import RISCV

extension HardwareAssistedVMM {
    /// Supervisor CSR `number` as the guest on vCPU `hart` sees it, or nil when the vCPU is not in
    /// the guest or the CSR has no VS substitute (it is then read as it is).
    public func guestCSR(_ number: UInt16, hart: Int) -> UInt64? {
        guard machine.isVirtualized(hart: hart), let vs = CSR.virtualSupervisorSubstitute(number) else { return nil }
        if vs == CSR.vsatp, shadow != nil { return guestSATPs[hart] }
        return machine.readCSR(vs, hart: hart)
    }

    /// Writes supervisor CSR `number` as the guest's kernel would (WARL); false when the vCPU is
    /// not in the guest or the CSR has no VS substitute. Under shadow paging a satp write switches
    /// the shadow, as the guest's own would.
    public func setGuestCSR(_ number: UInt16, _ value: UInt64, hart: Int) -> Bool {
        guard machine.isVirtualized(hart: hart), let vs = CSR.virtualSupervisorSubstitute(number) else { return false }
        if vs == CSR.vsatp, let shadow {
            switchGuestAddressSpace(value, shadow: shadow, hart: hart)
            return true
        }
        return machine.writeCSR(vs, value, hart: hart)
    }
}
