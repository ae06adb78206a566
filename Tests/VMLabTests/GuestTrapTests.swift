import LuaKit
import Testing
@testable import VMLab

/// A store in U-mode that page-faults on the way out of a hot loop reports the store's own address
/// in `sepc` (privileged spec, "Supervisor Exception Program Counter": sepc holds the virtual
/// address of the instruction that took the trap), so a kernel can map the page and retry it.
/// Reduced from tinyos's forktest, whose demand-paged stack skipped the store and returned to 0
/// while the machine reported the next instruction's address (fixed in the Machine's fast path).
@Test func storePageFaultInAHotLoopReportsTheStoreAddress() throws {
    let session = try LabSession()
    let program = #"""

  la t0, mhandler
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  li t0, 0x80001000
  li t1, 0x200000df     # VA 0x80000000: U, RWX, A, D
  sd t1, 16(t0)
  li t1, 0x200000cf     # VA 0x40000000: same memory, S-only
  sd t1, 8(t0)
  li t0, 0x8000000000080001
  csrw satp, t0
  sfence.vma
  li t0, 0x8000
  csrw medeleg, t0
  la t0, shandler
  li t1, 0x40000000
  sub t0, t0, t1
  csrw stvec, t0
  li t0, 0x1800
  csrc mstatus, t0
  la t0, umode
  csrw mepc, t0
  mret
umode:
  li sp, 0xBFFF0000
loop:
  addi sp, sp, 16
store:
  sd ra, 8(sp)
  j loop
  .align 2
shandler:
  csrr t1, sepc
  csrr t2, scause
  csrr t4, stval
  wfi
  j shandler
  .align 2
mhandler:
  csrr t1, mepc
  csrr t2, mcause
  li t3, 1
  wfi
  j mhandler
"""#
    let results = try session.lua.run("""
        local code, symbols = vmlab.asm(...)
        local vm <close> = assert(vmlab.vm { image = code, memory = "1G" })
        local stop = vm:run { max_instructions = 1000000 }
        return stop, vm:read("t2"), vm:read("t4"), vm:read("t1"), symbols.store
        """, args: [.string(program)])
    #expect(results.count == 5)
    #expect(results.first == .string("idle"))
    #expect(results[1] == .integer(15))                 // scause: store/AMO page fault
    #expect(results[2] == .integer(0xC000_0008))        // stval: the first unmapped address
    #expect(results[3] == results[4])                  // sepc: the store itself
}
