import Testing
@testable import RISCV

@Suite struct NamesTests {
    @Test func csrNamesAndNumbersAreABijection() {
        var seenNames = Set<String>(), seenNumbers = Set<UInt16>()
        for entry in CSR.all {
            #expect(seenNames.insert(entry.name).inserted, "duplicate name \(entry.name)")
            #expect(seenNumbers.insert(entry.number).inserted, "duplicate number \(entry.number)")
            #expect(CSR.number(entry.name) == entry.number)
            #expect(CSR.name(entry.number) == entry.name)
        }
        // unprivileged 4 + 3 counters + 29 hpm (+ *h) ... spot checks from the privileged spec's listing
        #expect(CSR.number("satp") == 0x180)
        #expect(CSR.number("hgatp") == 0x680)
        #expect(CSR.number("vsatp") == 0x280)
        #expect(CSR.number("mhpmcounter31") == 0xB1F)
        #expect(CSR.number("hpmcounter3h") == 0xC83)
        #expect(CSR.number("pmpaddr63") == 0x3EF)
        #expect(CSR.number("mhpmevent31h") == 0x73F)
        #expect(CSR.name(0x7C0) == nil)  // custom range
    }

    @Test func csrNumbersEncodeAccess() {
        #expect(CSR.isReadOnly(CSR.cycle))
        #expect(CSR.isReadOnly(CSR.mhartid))
        #expect(!CSR.isReadOnly(CSR.mstatus))
        #expect(CSR.minimumPrivilege(CSR.fflags) == .user)
        #expect(CSR.minimumPrivilege(CSR.sstatus) == .supervisor)
        #expect(CSR.minimumPrivilege(CSR.hstatus) == .hypervisor)
        #expect(CSR.minimumPrivilege(CSR.vsstatus) == .hypervisor)
        #expect(CSR.minimumPrivilege(CSR.mepc) == .machine)
        #expect(CSR.isHypervisor(CSR.hgatp))
        #expect(CSR.isRV32Only(CSR.mstatush))
        #expect(CSR.isRV32Only(CSR.pmpcfg(1)))
        #expect(!CSR.isRV32Only(CSR.pmpcfg(2)))
        #expect(CSR.rv64Name(CSR.cycleh) == nil)
        #expect(CSR.name(CSR.cycleh) == "cycleh")
    }

    @Test func trapCausesHaveTheSpecCodesAndNames() {
        #expect(ExceptionCause.illegalInstruction.rawValue == 2)
        #expect(ExceptionCause.ecallS.name == "ecall_s")
        #expect(ExceptionCause(name: "load_page_fault") == .loadPageFault)
        #expect(ExceptionCause.storeGuestPageFault.rawValue == 23)
        #expect(ExceptionCause.virtualInstruction.rawValue == 22)
        #expect(InterruptCause.supervisorTimer.name == "supervisor_timer")
        #expect(InterruptCause.machineExternal.rawValue == 11)
        #expect(InterruptCause.supervisorGuestExternal.mask == 1 << 12)
        #expect(InterruptCause(name: "virtual_supervisor_timer") == .virtualSupervisorTimer)
        #expect(ExceptionCause(name: "nonsense") == nil)
        for cause in ExceptionCause.allCases { #expect(ExceptionCause(name: cause.name) == cause) }
        for cause in InterruptCause.allCases { #expect(InterruptCause(name: cause.name) == cause) }
        #expect(causeInterruptBit == 0x8000_0000_0000_0000)
    }

    @Test func registerNames() {
        #expect(RegisterNames.integerNumber("fp") == 8)
        #expect(RegisterNames.integerNumber("x31") == 31)
        #expect(RegisterNames.integerNumber("t6") == 31)
        #expect(RegisterNames.integerNumber("x32") == nil)
        #expect(RegisterNames.floatingPointNumber("fa0") == 10)
        #expect(RegisterNames.floatingPointNumber("f31") == 31)
        #expect(RegisterNames.floatingPointNumber("a0") == nil)
    }

    @Test func opcodeNamesAndExtensions() {
        #expect(Opcode.fence_i.name == "fence.i")
        #expect(Opcode.lr_w.name == "lr.w")
        #expect(Opcode.fcvt_d_wu.name == "fcvt.d.wu")
        #expect(Opcode.hlvx_hu.name == "hlvx.hu")
        #expect(Opcode.fence_i.extension == .zifencei)
        #expect(Opcode.csrrw.extension == .zicsr)
        #expect(Opcode.amoadd_d.extension == .a)
        #expect(Opcode.mulhsu.extension == .m)
        #expect(Opcode.fld.extension == .d)
        #expect(Opcode.sret.extension == .privileged)
        #expect(Opcode.hsv_d.extension == .h)
        #expect(InstructionTable.byName["hfence.gvma"] == .hfence_gvma)
    }
}
