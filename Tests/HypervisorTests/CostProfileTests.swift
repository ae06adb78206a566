import Testing
import Machine
@testable import Hypervisor

@Suite struct CostProfileTests {
    @Test(arguments: CostProfile.all)
    func everyEventIsPricedWithASource(_ p: CostProfile) {
        for e in CostEvent.allCases {
            let v = p[e]
            #expect(v.source.count > 10, "\(p.name).\(e.name) has no real source")
            #expect(v.basis != .edited, "\(p.name).\(e.name) is marked edited in built-in data")
            if v.basis == .measured {
                // A measurement names the paper it comes from.
                #expect(["[AA06]", "[X03]", "[B08]", "[S01]"].contains { v.source.contains($0) }, "\(p.name).\(e.name): \(v.source)")
            }
        }
        #expect(p.edits.isEmpty)
        #expect(p.description == p.name)
        #expect(!p.summary.isEmpty && !p.clockSource.isEmpty)
    }

    @Test func eventNamesAreSnakeCaseAndRoundTrip() {
        #expect(Set(CostEvent.names).count == CostEvent.allCases.count)
        for e in CostEvent.allCases {
            #expect(e.name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) }, "\(e.name)")
            #expect(CostEvent(name: e.name) == e)
            #expect(!e.meaning.isEmpty)
        }
        #expect(CostEvent(name: "vmExit") == nil)
        // Every category is reachable, so `by_category` has no permanently empty row.
        #expect(Set(CostEvent.allCases.map(\.category)) == Set(CostCategory.allCases))
    }

    @Test func classicCarriesThePublishedFigures() {
        let p = CostProfile.classic2006
        #expect(p.cycles(.vmEntry) == 2409)
        #expect(p.cycles(.vmExit) == 1931)
        #expect(p.cycles(.vmcsRead) == 178 && p.cycles(.vmcsWrite) == 171)
        #expect(p.cycles(.btCallout) == 1254 && p.cycles(.btInline) == 216)
        #expect(p.cycles(.translation) == 2300)
        #expect(p.cycles(.walkReference) == 11)
        #expect(p.cycles(.trap) == 242)
        #expect(p.cycles(.mmioAccess) == 3209)
        // Derived values reproduce the totals they were derived from ([AA06] nanobenchmarks, P4).
        #expect(p.cycles(.trap) + p.cycles(.privilegedEmulated) == 2030)                     // rdtsc trap-and-emulate
        #expect(p.cycles(.vmExit) + p.cycles(.tracedWrite) + p.cycles(.vmEntry) == 12733)     // traced PTE store, VT
        #expect(p.cycles(.vmExit) + p.cycles(.deviceEmulated) + p.cycles(.vmEntry) == 15826)  // `in`, VT
        #expect(1093 + p.cycles(.shadowFault) == 3927)                                        // page fault, BT
        #expect(1 + p.cycles(.tracedWriteInline) == 391)                                      // traced store, BT
        #expect(889 + p.cycles(.exceptionReflected) == 3223)                                  // divide by zero, BT
        #expect(p.clockHz == 3_800_000_000 && p.clockDescription == "3.8 GHz")
        #expect(p.microseconds(3800) == 1.0)
    }

    @Test func core2ReplacesOnlyWhatAA06MeasuredOnCore2() {
        let c = CostProfile.core2_2006, p = CostProfile.classic2006
        #expect(c.cycles(.vmEntry) == 937 && c.cycles(.vmExit) == 1186)
        #expect(c.cycles(.vmcsRead) == 52 && c.cycles(.vmcsWrite) == 44)
        let replaced: Set<CostEvent> = [.vmEntry, .vmExit, .vmcsRead, .vmcsWrite]
        for e in CostEvent.allCases where !replaced.contains(e) {
            #expect(c.cycles(e) == p.cycles(e), "\(e.name)")
            #expect(c[e].source.hasPrefix("as classic-2006"), "\(e.name): \(c[e].source)")
        }
        #expect(c.clockDescription == "2.66 GHz")
    }

    @Test func modernIsAnEstimateAroundAThousandCycleRoundTrip() {
        let m = CostProfile.modern
        #expect(m.cycles(.vmExit) + m.cycles(.vmEntry) == 1000)
        #expect(m.cycles(.hypercall) == m.cycles(.vmExit) + m.cycles(.vmEntry))
        #expect(m[.vmExit].basis == .estimate && m[.vmEntry].basis == .estimate)
        #expect(m.clockDescription == "3 GHz")
        // Transitions are cheaper than on the 2006 machines, which is the point of the profile.
        #expect(m.cycles(.vmExit) < CostProfile.core2_2006.cycles(.vmExit))
        #expect(m.cycles(.vmEntry) < CostProfile.core2_2006.cycles(.vmEntry))
    }

    @Test func lookupByName() throws {
        #expect(CostProfile.names == ["classic-2006", "core2-2006", "modern"])
        for name in CostProfile.names { #expect(try CostProfile.named(name).name == name) }
        #expect(CostProfile.standard == .classic2006)
        #expect(throws: CostProfileError.unknownProfile("classic")) { try CostProfile.named("classic") }
        #expect(CostProfileError.unknownProfile("classic").description
                == "unknown cost profile 'classic' (expected one of classic-2006, core2-2006, modern)")
    }

    @Test func editingReplacesNamedPricesOnly() throws {
        let p = CostProfile.classic2006
        let e = try p.with(["vm_entry": 1000, "trap": 0])
        #expect(e.cycles(.vmEntry) == 1000 && e.cycles(.trap) == 0)
        #expect(e[.vmEntry].basis == .edited)
        #expect(e[.vmEntry].source.contains("2409") && e[.vmEntry].source.contains("[AA06]"))
        #expect(e.edits == [.trap, .vmEntry])
        #expect(e.description == "classic-2006 (edited: trap=0, vm_entry=1000)")
        for ev in CostEvent.allCases where ev != .vmEntry && ev != .trap { #expect(e[ev] == p[ev]) }
        #expect(p.cycles(.vmEntry) == 2409)   // a value: the original is untouched
        #expect(e != p)
        // Editing again keeps the original provenance rather than nesting it.
        let e2 = try e.with(["vm_entry": 5])
        #expect(e2.cycles(.vmEntry) == 5 && e2[.vmEntry].source == e[.vmEntry].source)
        #expect(e2.edits == [.trap, .vmEntry])
        // Integral floating-point numbers (Lua numbers) are accepted.
        #expect(try p.with(["vm_exit": 12.0]).cycles(.vmExit) == 12)
        // The typed form does the same.
        #expect(p.with([.vmExit: 12]) == (try p.with(["vm_exit": 12])))
    }

    @Test func editingRejectsUnknownNamesAndBadNumbers() throws {
        let p = CostProfile.modern
        #expect(throws: CostProfileError.unknownEvent("vm_entri")) { try p.with(["vm_entri": 1]) }
        let message = CostProfileError.unknownEvent("vm_entri").description
        #expect(message.hasPrefix("unknown cost event 'vm_entri' (expected one of instruction, csr_write, walk_reference, "))
        #expect(CostEvent.names.allSatisfy { message.contains($0) })
        #expect(throws: CostProfileError.badCycles(event: "vm_exit", value: "-1")) { try p.with(["vm_exit": -1]) }
        #expect(throws: CostProfileError.badCycles(event: "vm_exit", value: "1.5")) { try p.with(["vm_exit": 1.5]) }
        #expect(throws: CostProfileError.badCycles(event: "trap", value: "-2.0")) { try p.with(["trap": -2.0]) }
        #expect(throws: (any Error).self) { try p.with(["trap": Double.nan]) }
        #expect(throws: (any Error).self) { try p.with(["trap": Double.infinity]) }
        #expect(throws: (any Error).self) { try p.with(["trap": 0x1p64]) }
        #expect(CostProfileError.badCycles(event: "vm_exit", value: "-1").description
                == "bad cost for 'vm_exit': -1 (expected a non-negative integer number of cycles, at most 2^32 = 4294967296)")
        // A price beyond 2^32 is refused: counts times it would wrap the totals.
        #expect(try p.with(["trap": 1 << 32]).cycles(.trap) == 1 << 32)
        #expect(throws: CostProfileError.badCycles(event: "trap", value: "4294967297")) { try p.with(["trap": (1 << 32) + 1]) }
        #expect(throws: CostProfileError.badCycles(event: "trap", value: "\(Int.max)")) { try p.with(["trap": Int.max]) }
        #expect(throws: CostProfileError.badCycles(event: "trap", value: "5000000000")) { try p.with(["trap": 5e9]) }
        // Several bad entries: the first in name order is reported, every time.
        for _ in 0..<5 {
            #expect(throws: CostProfileError.unknownEvent("aaa")) { try p.with(["zzz": 1, "aaa": 1, "trap": -1]) }
        }
    }

    @Test(arguments: CostProfile.all)
    func machineCostTableTakesTheMachinesShare(_ p: CostProfile) {
        let t = p.machineCostTable
        #expect(t.instruction == p.cycles(.instruction))
        #expect(t.walkReference == p.cycles(.walkReference))
        #expect(t.tlbMiss == p.cycles(.tlbMiss))
        #expect(t.tlbFlush == p.cycles(.tlbFlush))
        #expect(t.exception == p.cycles(.trap))
        #expect(t.interrupt == p.cycles(.interrupt))
        #expect(t.handledTrap == p.cycles(.firmwareCall))
        #expect(t.mmioAccess == p.cycles(.mmioAccess))
        let edited = p.machineCostTable.instruction + 7
        #expect((try? p.with(["instruction": Int(edited)]))?.machineCostTable.instruction == edited)
    }
}
