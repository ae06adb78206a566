import Testing
@testable import Hypervisor

// A VMM counts traps by cause number on every exit and names them only when statistics are read.
@Suite struct CauseCountsTests {
    @Test func countsByNumberReadByName() {
        var counts = CauseCounts()
        counts.count(.exception(.ecallU))
        counts.count(.exception(.ecallU))
        counts.count(.exception(.loadPageFault, tval: 0x1000))
        counts.count(.interrupt(.supervisorTimer))
        counts.count(VirtualTrap(cause: 40, isInterrupt: false, tval: 0))     // reserved, still counted
        counts.count(VirtualTrap(cause: 1000, isInterrupt: false, tval: 0))   // beyond any mcause code
        #expect(counts.byName == ["ecall_u": 2, "load_page_fault": 1, "supervisor_timer": 1,
                                  "exception_40": 1, "exception_1000": 1])
        #expect(CauseCounts().byName.isEmpty)
    }
}
