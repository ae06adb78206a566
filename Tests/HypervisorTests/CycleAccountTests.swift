import Testing
@testable import Hypervisor

@Suite struct CycleAccountTests {
    /// A few events of several categories, recorded in a fixed order.
    static func sample(_ profile: CostProfile = .classic2006) -> CycleAccount {
        var a = CycleAccount(profile: profile)
        a.record(.instruction, count: 1000)
        a.record(.walkReference, count: 30)
        a.record(.tlbMiss, count: 10)
        a.record(.vmExit, count: 3)
        a.record(.vmEntry, count: 3)
        a.record(.privilegedEmulated, count: 2)
        a.record(.hypercall)
        a.record(.pvUpdate, count: 2048)
        a.record(.mmioAccess, count: 4)
        a.record(.vmExit)
        return a
    }

    @Test func cyclesAreCountsTimesPrices() {
        let a = Self.sample()
        let p = CostProfile.classic2006
        #expect(a.count(.vmExit) == 4)
        #expect(a.cycles(.vmExit) == 4 * 1931)
        #expect(a.cycles(.instruction) == 1000)
        #expect(a.cycles(.pvUpdate) == 2048 * p.cycles(.pvUpdate))
        #expect(a.count(.translation) == 0 && a.cycles(.translation) == 0)
        let expected: UInt64 = 1000 + 30 * 11 + 4 * 1931 + 3 * 2409 + 2 * 1788 + 1572 + 2048 * 110 + 4 * 3209
        #expect(a.chargedCycles == expected)
        #expect(a.total == expected)
        #expect(a.microseconds == Double(expected) / 3800)
    }

    @Test func categoriesSplitTheTotal() {
        var a = Self.sample()
        a.waitedCycles = 77
        #expect(a.cycles(in: .exit) == 4 * 1931 + 3 * 2409)
        #expect(a.cycles(in: .mmu) == 30 * 11)
        #expect(a.cycles(in: .hypercall) == 1572 + 2048 * 110)
        #expect(a.cycles(in: .interpretation) == 0)
        #expect(a.byCategory.map(\.category) == CostCategory.allCases)
        #expect(a.byCategory.reduce(0) { $0 + $1.cycles } == a.chargedCycles)
        #expect(a.total == a.chargedCycles + 77)
        // byEvent lists what happened, in taxonomy order.
        #expect(a.byEvent.map(\.event) == [.instruction, .walkReference, .tlbMiss, .vmExit, .vmEntry,
                                           .privilegedEmulated, .hypercall, .pvUpdate, .mmioAccess])
        #expect(a.byEvent.reduce(0) { $0 + $1.cycles } == a.chargedCycles)
    }

    @Test func repricingKeepsCountsAndChangesCycles() throws {
        let a = Self.sample()
        let m = a.repriced(with: .modern)
        for e in CostEvent.allCases { #expect(m.count(e) == a.count(e)) }
        #expect(m.cycles(.vmExit) == 4 * 500)
        #expect(m.profile == .modern)
        // Editing one price moves exactly that event's share.
        let edited = try CostProfile.classic2006.with(["vm_exit": 2000])
        #expect(a.repriced(with: edited).chargedCycles == a.chargedCycles + 4 * (2000 - 1931))
    }

    @Test func accountsAddAndAreDeterministic() {
        var a = Self.sample()
        a.add(Self.sample())
        #expect(a.count(.vmExit) == 8)
        #expect(a.chargedCycles == 2 * Self.sample().chargedCycles)
        #expect(Self.sample() == Self.sample())
        #expect(Self.sample() != Self.sample(.modern))
    }
}

@Suite struct CycleAccountDescriptionTests {
    @Test func printsTheProfileTotalAndNonEmptyCategories() throws {
        var a = CycleAccount(profile: try CostProfile.classic2006.with(["vm_entry": 1000]))
        a.record(.instruction, count: 3800)
        a.record(.vmEntry, count: 2)
        a.waitedCycles = 1900
        #expect(a.description == """
            classic-2006 (edited: vm_entry=1000): 7700 cycles (2.02 µs at 3.8 GHz)
              guest           3800
              exit            2000
              waited          1900
            """)
    }
}
