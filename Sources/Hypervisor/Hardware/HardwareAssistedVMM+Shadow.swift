// Shadow-on-hw: the `hw` VMM with shadow paging, as VT-x ran before EPT ([AA06]'s VT VMM "used the
// same software shadow-paging MMU" as the binary translator). The G stage is Bare; vsatp holds the
// VMM's shadow tables (ShadowPageTables, keeping the guest's privileges), which map the guest's
// virtual addresses straight to the machine's. What that costs in exits:
//
// - every satp access and sfence.vma of the guest (hstatus.VTVM, forced on): the VMM keeps the
//   guest's satp and switches shadows (CR3-load exiting);
// - every page fault (not delegated): a hidden fault fills the shadow and the guest retries; a
//   true fault is reflected into the guest's VS-mode; a store to one of the guest's page-table
//   pages (write-protected in every shadow) is performed by the VMM, a traced write;
// - every device register access: PMP denies S/U-mode the addresses below RAM, so the access
//   faults into the VMM, which emulates it (the shadow maps device pages, as under `trap`).

import Machine
import RISCV

extension HardwareAssistedVMM {
    /// The traps only shadow paging makes exit; false for the others (handled as with nested paging).
    func handleShadowPagingTrap(_ trap: MachineTrap, _ cause: RISCV.ExceptionCause, shadow: ShadowPageTables, hart: Int) -> Bool {
        switch cause {
        case .instructionPageFault, .loadPageFault, .storePageFault:
            let access: GuestAccess = cause == .instructionPageFault ? .fetch : cause == .loadPageFault ? .load : .store
            shadowFault(trap, access: access, shadow: shadow, hart: hart)
        case .loadAccessFault, .storeAccessFault:
            // PMP's refusal of a device address, or the guest's own access fault (RAM's end).
            if !emulateDeviceAccess(trap, hart: hart) { reflect(cause, tval: trap.tval, trap: trap, hart: hart) }
        default:
            return false
        }
        return true
    }

    /// The guest's page fault at `trap.tval`, resolved through its own tables.
    private func shadowFault(_ trap: MachineTrap, access: GuestAccess, shadow: ShadowPageTables, hart: Int) {
        prepareGuestWalk(shadow, privilege: trap.privilege, hart: hart)
        switch shadow.handleFault(va: trap.tval, access: access) {
        case .filled:
            work[hart].shadowFaults &+= 1
            charge(prices.shadowFault, hart: hart)
            onShadowWork?(.shadowFault, hart, trap.pc, access.pageFault.name, trap.tval)
            machine.setPC(trap.pc, hart: hart)
        case .guestFault(let t):
            reflect(t, trap: trap, hart: hart)
        case .tracedWrite(let gpa):
            switch shadow.emulateTracedStore(pc: trap.pc, hart: hart) {
            case .emulated:
                machine.retireEmulatedInstruction(hart: hart)
                work[hart].tracedWrites &+= 1
                charge(prices.tracedWrite, hart: hart)
                onShadowWork?(.tracedWrite, hart, trap.pc, nil, gpa)
            case .guestFault(let t):
                reflect(t, trap: trap, hart: hart)
            case .retry:
                machine.setPC(trap.pc, hart: hart)
            }
        }
    }

    private func reflect(_ t: VirtualTrap, trap: MachineTrap, hart: Int) {
        let cause = RISCV.ExceptionCause(rawValue: t.cause) ?? .loadPageFault
        reflect(cause, tval: t.tval, trap: trap, hart: hart)
    }

    /// The guest's tables are walked at the privilege the access was made at, with the guest's
    /// own vsstatus.SUM and MXR.
    func prepareGuestWalk(_ shadow: ShadowPageTables, privilege: PrivilegeMode, hart: Int) {
        let vsstatus = machine.readCSR(RISCV.CSR.vsstatus, hart: hart) ?? 0
        shadow.setGuestAccess(privilege: privilege, sum: vsstatus & SupervisorBits.sum != 0, mxr: vsstatus & SupervisorBits.mxr != 0,
                              hart: hart)
    }

    /// The guest-physical address a device access of the trapped instruction reaches through the
    /// guest's tables (the shadow maps device pages as the guest's tables do).
    func shadowGuestPhysical(_ access: DeviceAccess, trap: MachineTrap, hart: Int) -> UInt64? {
        guard let shadow else { return nil }
        prepareGuestWalk(shadow, privilege: trap.privilege, hart: hart)
        return GuestPageWalker.physicalAddress(access.va, access.isWrite ? .store : .load, shadow.guestContext(shadow.view),
                                               map: map, memory: shadow.words, asGuestAccess: true)
    }

    /// vCPU `hart` entered the guest (the SBI's hart start, with satp 0): under shadow paging it
    /// runs on the shadow of the bare address space, never on a Bare vsatp (with the G stage
    /// Bare too, that would reach all of the machine's memory).
    func enteredGuest(hart: Int) {
        if let shadow { switchGuestAddressSpace(0, shadow: shadow, hart: hart) }
    }

    /// The guest wrote its satp (an intercepted csrrw/csrrs/csrrc): the VMM keeps the value (WARL:
    /// Bare, Sv39, Sv48 and, where the machine has it, Sv57; 16 bits of ASID) and loads the shadow
    /// of that address space, a tree of the same mode, into vsatp.
    func switchGuestAddressSpace(_ value: UInt64, shadow: ShadowPageTables, hart: Int) {
        guard let legal = VirtualCSRs.shadowedSatp(value, asidBits: 16, widestTranslation: machine.configuration.widestTranslationLevels)
        else { return }
        guestSATPs[hart] = legal
        shadow.activate(satp: legal, view: .kernel, hart: hart)
    }
}
