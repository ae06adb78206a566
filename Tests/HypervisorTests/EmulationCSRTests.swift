import Foundation
import Testing
import Machine
import RISCV
@testable import Hypervisor

// The virtual supervisor CSRs' field rules (privileged spec, "Supervisor-Level CSRs").
@Suite struct EmulationCSRTests {
    @Test func sstatusKeepsOnlyWritableFieldsAndComputesSD() {
        var c = VirtualCSRs()
        c.write(CSR.sstatus, .max)
        let v = c.read(CSR.sstatus)!
        #expect(v & SupervisorBits.sstatusWritable == SupervisorBits.sstatusWritable)
        #expect(v & (1 << 6) == 0, "UBE is read-only zero")
        #expect(v & (3 << 9) == 0, "VS is read-only zero")
        #expect(v & (3 << 15) == 0, "XS is read-only zero")
        #expect((v >> 32) & 3 == 2, "UXL reads 64-bit")
        #expect(v & SupervisorBits.sd != 0, "SD follows FS = Dirty")
        c.write(CSR.sstatus, 1 << 13)  // FS = Initial
        #expect(c.read(CSR.sstatus)! & SupervisorBits.sd == 0)
        #expect((c.read(CSR.sstatus)! >> 32) & 3 == 2, "UXL survives a write of zero")
    }

    @Test func interruptRegisters() {
        var c = VirtualCSRs()
        c.write(CSR.sie, .max)
        #expect(c.sie == SupervisorBits.interrupts)
        c.write(CSR.sip, .max)
        #expect(c.sip == SupervisorBits.ssi, "only SSIP is writable through sip")
        c.setPending(SupervisorBits.sti | SupervisorBits.sei, true)
        c.write(CSR.sip, 0)
        #expect(c.sip == SupervisorBits.sti | SupervisorBits.sei, "a write cannot clear STIP or SEIP")
    }

    @Test func trapVectorAndEpc() {
        var c = VirtualCSRs()
        c.write(CSR.stvec, 0x8000_1001)
        #expect(c.stvec == 0x8000_1001)
        c.write(CSR.stvec, 0x8000_2003)
        #expect(c.stvec == 0x8000_2001, "a reserved MODE keeps the old MODE")
        c.write(CSR.sepc, 0x8000_0003)
        #expect(c.read(CSR.sepc) == 0x8000_0002)
        c.write(CSR.scounteren, .max)
        #expect(c.scounteren == 0xFFFF_FFFF)
        c.write(CSR.senvcfg, .max)
        #expect(c.senvcfg == 1)
    }

    @Test func satpModesUpToTheWidestAndASIDLength() {
        var c = VirtualCSRs(asidBits: 9, widestTranslation: 4)
        c.write(CSR.satp, (8 << 60) | (0xFFFF << 44) | 0x80123)
        #expect(c.satpMode == 8)
        #expect(c.asid == 0x1FF)
        #expect(c.rootTable == 0x8012_3000)
        c.write(CSR.satp, (9 << 60) | 0x80456)  // Sv48
        #expect(c.satpMode == 9 && c.rootTable == 0x8045_6000)
        let before = c.satp
        // Sv57 is wider than offered, 11 and 1 are reserved: such writes have no effect (WARL).
        for mode: UInt64 in [10, 11, 1, 15] {
            c.write(CSR.satp, (mode << 60) | 0x80789)
            #expect(c.satp == before)
        }
        var wide = VirtualCSRs(widestTranslation: 5)
        wide.write(CSR.satp, (10 << 60) | 0x80789)
        #expect(wide.satpMode == 10)
        c.write(CSR.satp, 0)
        #expect(c.satp == 0)
    }

    /// A snapshot written when the shadows offered Sv39 alone has no widest translation: Sv39 it stays.
    @Test func csrsFromAnOlderSnapshotOfferSv39Alone() throws {
        var c = VirtualCSRs(widestTranslation: 5)
        c.write(CSR.satp, (8 << 60) | 0x80123)
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as! [String: Any]
        #expect(json["widestTranslation"] as? Int == 5)
        json["widestTranslation"] = nil
        var old = try JSONDecoder().decode(VirtualCSRs.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.widestTranslation == 3 && old.satp == c.satp)
        old.write(CSR.satp, (9 << 60) | 0x80456)
        #expect(old.satp == c.satp)
    }

    /// Sstc's stimecmp: kept as written (the emulator refuses it where the machine lacks Sstc);
    /// files from before it decode with all ones, the reset value.
    @Test func stimecmpIsKeptAndOldFilesDecodeWithAllOnes() throws {
        var c = VirtualCSRs()
        #expect(c.read(CSR.stimecmp) == .max)
        c.write(CSR.stimecmp, 12345)
        #expect(c.read(CSR.stimecmp) == 12345)
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as? [String: Any])
        json["stimecmp"] = nil
        let old = try JSONDecoder().decode(VirtualCSRs.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.stimecmp == .max)
    }

    @Test func unknownCSRsAreNotVirtualised() {
        var c = VirtualCSRs()
        #expect(c.read(CSR.vstimecmp) == nil)
        #expect(c.read(CSR.mstatus) == nil)
        let written = c.write(CSR.mstatus, 0)
        #expect(!written)
    }
}

// Delivering traps into the guest kernel.
@Suite struct EmulationReflectionTests {
    @Test func exceptionFromUserSetsStatusStack() {
        var v = VirtualCPU()
        v.privilege = .user
        v.csrs.write(CSR.stvec, 0x8000_0101)  // vectored: exceptions still go to BASE
        v.csrs.write(CSR.sstatus, SupervisorBits.sie | SupervisorBits.spp)
        let pc = ExceptionReflection.deliver(.exception(.loadPageFault, tval: 0x1234), to: &v, pc: 0x4000)
        #expect(pc == 0x8000_0100)
        #expect(v.privilege == .supervisor)
        #expect(v.csrs.scause == 13 && v.csrs.sepc == 0x4000 && v.csrs.stval == 0x1234)
        #expect(v.csrs.sstatus & SupervisorBits.spp == 0, "SPP records U")
        #expect(v.csrs.sstatus & SupervisorBits.spie != 0, "SPIE records SIE")
        #expect(v.csrs.sstatus & SupervisorBits.sie == 0)
    }

    @Test func vectoredInterruptAndReturn() {
        var v = VirtualCPU()
        v.csrs.write(CSR.stvec, 0x8000_0101)
        v.csrs.write(CSR.sstatus, 0)
        let pc = ExceptionReflection.deliver(.interrupt(.supervisorTimer), to: &v, pc: 0x8000_2000)
        #expect(pc == 0x8000_0100 + 4 * 5)
        #expect(v.csrs.scause == causeInterruptBit | 5 && v.csrs.stval == 0)
        #expect(v.csrs.sstatus & SupervisorBits.spp != 0, "SPP records S")
        #expect(v.csrs.sstatus & SupervisorBits.spie == 0)
        let back = ExceptionReflection.returnFromSupervisor(&v)
        #expect(back == 0x8000_2000 && v.privilege == .supervisor)
        #expect(v.csrs.sstatus & SupervisorBits.spie != 0, "sret sets SPIE")
        #expect(v.csrs.sstatus & SupervisorBits.spp == 0, "sret clears SPP")
        #expect(v.csrs.sstatus & SupervisorBits.sie == 0, "SIE ← old SPIE (0)")
    }

    @Test func interruptSelectionFollowsEnablesAndPrivilege() {
        var v = VirtualCPU()
        v.setInterrupt(.supervisorTimer, pending: true)
        #expect(ExceptionReflection.pendingInterrupt(v) == nil, "not enabled in sie")
        v.csrs.write(CSR.sie, SupervisorBits.sti | SupervisorBits.sei)
        #expect(ExceptionReflection.pendingInterrupt(v) == nil, "kernel with SIE clear")
        v.privilege = .user
        #expect(ExceptionReflection.pendingInterrupt(v) == .supervisorTimer, "user mode: always enabled")
        v.privilege = .supervisor
        v.csrs.write(CSR.sstatus, SupervisorBits.sie)
        v.setInterrupt(.supervisorExternal, pending: true)
        #expect(ExceptionReflection.pendingInterrupt(v) == .supervisorExternal, "SEI outranks STI")
    }

    @Test func timerInterruptWakesWfi() {
        var v = VirtualCPU()
        v.waitingForInterrupt = true
        v.setInterrupt(.supervisorTimer, pending: true)
        #expect(v.waitingForInterrupt, "an interrupt masked in sie does not wake wfi")
        v.setInterrupt(.supervisorTimer, pending: false)
        v.csrs.write(CSR.sie, SupervisorBits.sti)
        v.setInterrupt(.supervisorTimer, pending: true)
        #expect(v.csrs.sip & SupervisorBits.sti != 0)
        #expect(!v.waitingForInterrupt, "a locally enabled interrupt wakes wfi even with SIE clear")
        v.setInterrupt(.supervisorTimer, pending: false)
        #expect(v.csrs.sip & SupervisorBits.sti == 0, "lowered (set_timer), it is pending no more")
    }
}
