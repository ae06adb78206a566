import Foundation
import Testing
@testable import Machine

// A machine snapshot as a snapshot file carries it: coded (JSON here, as the file's description)
// with its RAM beside, read back, restored, and run on as the machine did. And what a restore
// checks of a snapshot that did not come from `snapshot()`: every malformed part is refused
// before anything changes.

@Suite struct MachineSnapshotCodingTests {
    /// Every field of the hart's state record is either saved or named as the host's: a field
    /// added to `HartState` must be put in one or the other.
    @Test func everyFieldOfTheHartsStateIsSavedOrTheHosts() {
        let machine = Machine(MachineConfiguration())
        let state = machine.harts[0].state.pointee
        let all = Set(Mirror(reflecting: state).children.compactMap(\.label))
        let saved = Set(Mirror(reflecting: SavedHartState(state)).children.compactMap(\.label))
        #expect(saved.isDisjoint(with: SavedHartState.hostFields))
        #expect(saved.union(SavedHartState.hostFields) == all, "unclassified: \(all.subtracting(saved).subtracting(SavedHartState.hostFields))")
        #expect(SavedHartState.hostFields.isSubset(of: all), "named but gone: \(SavedHartState.hostFields.subtracting(all))")
    }

    static func coded(_ snapshot: MachineSnapshot) throws -> MachineSnapshot {
        var decoded = try JSONDecoder().decode(MachineSnapshot.self, from: JSONEncoder().encode(snapshot))
        #expect(decoded.ramContents.isEmpty, "RAM is not in the coded form")
        decoded.ramContents = snapshot.ramContents
        return decoded
    }

    @Test func aCodedSnapshotRestoresAndRunsOnAsTheMachineDid() throws {
        let r = try MachineSnapshotTests.counting()
        #expect(r.run(2000) == .budgetExhausted)   // mid-turn, reservations and PMP set
        let atSnapshot = MachineSnapshotTests.Observed(r.machine)
        let snapshot = try Self.coded(r.machine.snapshot())
        #expect(r.run(1_000_000) == .poweredOff(code: 0))
        let end = MachineSnapshotTests.Observed(r.machine)

        try r.machine.restore(snapshot)
        #expect(MachineSnapshotTests.Observed(r.machine) == atSnapshot)
        #expect(r.run(1_000_000) == .poweredOff(code: 0))
        #expect(MachineSnapshotTests.Observed(r.machine) == end)
    }

    /// Each edit makes a snapshot no machine of this shape could have taken; the restore names
    /// it and leaves the machine as it was.
    static func malform(_ s: inout MachineSnapshot, _ what: String) {
        switch what {
        case "hart count": s.harts.removeLast()
        case "privilege": s.harts[1].state.priv = 2
        case "data privilege": s.harts[0].state.dataPriv = 7
        case "MPP": s.harts[0].state.mstatus |= 2 << 11
        case "frm": s.harts[0].state.frm = 256
        case "V without H": s.harts[0].state.virt = true
        case "registers": s.harts[0].registers.removeLast()
        case "trap counts": s.harts[2].trapCounts.append(0)
        case "TLB entries": s.harts[0].tlbEntries.removeLast()
        case "TLB replacement": s.harts[0].tlbReplacement[0] = 4
        case "TLB level": s.harts[0].tlbEntries[0].level = 5
        case "nested TLB": s.harts[0].nestedTLB.append(NestedTLBEntry())
        case "nested TLB victim": s.harts[0].nestedTLBNext = 1
        case "walk cache": s.harts[0].walkCacheNext = -1
        case "PMP": s.harts[0].pmpAddresses.removeLast()
        case "trigger select": s.harts[0].triggers.select = 4
        case "triggers": s.harts[0].triggers.tdata2.removeLast()
        case "translation level": s.harts[0].lastTranslationLevel = 9
        case "RAM page beyond RAM": s.ramPages[s.ramPages.count - 1] = 1 << 20
        case "RAM pages out of order": s.ramPages.append(0); s.ramContents += [UInt8](repeating: 0, count: 4096)
        case "RAM bytes": s.ramContents.removeLast()
        case "interrupted turn": s.interruptedTurn = InterruptedTurn(hart: 3, left: 1, anyRan: false)
        case "last breakpoint": s.lastBreakpoint = .init(hart: -1, pc: 0)
        default: Issue.record("no edit \(what)")
        }
    }

    @Test(arguments: [
        "hart count",
        "privilege",
        "data privilege",
        "MPP",
        "frm",
        "V without H",
        "registers",
        "trap counts",
        "TLB entries",
        "TLB replacement",
        "TLB level",
        "nested TLB",
        "nested TLB victim",
        "walk cache",
        "PMP",
        "trigger select",
        "triggers",
        "translation level",
        "RAM page beyond RAM",
        "RAM pages out of order",
        "RAM bytes",
        "interrupted turn",
        "last breakpoint",
    ])
    func aMalformedSnapshotIsRefusedAndChangesNothing(_ what: String) throws {
        let r = try MachineSnapshotTests.counting()
        #expect(r.run(2000) == .budgetExhausted)
        var snapshot = try Self.coded(r.machine.snapshot())
        #expect(r.run(500) == .budgetExhausted)
        let before = MachineSnapshotTests.Observed(r.machine)
        Self.malform(&snapshot, what)
        #expect(throws: SnapshotError.self, "\(what)") { try r.machine.restore(snapshot) }
        do { try r.machine.restore(snapshot) } catch {
            #expect(error.description.hasPrefix("the snapshot is malformed: "), "\(what): \(error.description)")
        }
        let unchanged = MachineSnapshotTests.Observed(r.machine) == before
        #expect(unchanged, "\(what)")
    }
}

/// Sets and integer-keyed dictionaries in saved states code in order, not in their hash table's
/// (which is seeded per process): one state, one file.
@Suite struct SortedCodingTests {
    struct Sample: Codable, Equatable {
        @SortedSetCoding var pages: Set<UInt64>
        @SortedKeysCoding var counts: [UInt64: UInt64]
    }

    @Test func setsAndDictionariesCodeInAscendingOrder() throws {
        let sample = Sample(pages: Set((0..<200).map { UInt64($0) &* 0x9E37_79B9 }),
                            counts: Dictionary(uniqueKeysWithValues: (0..<200).map { (UInt64(199 - $0) * 7, UInt64($0)) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // as the file's description is written
        let text = String(decoding: try encoder.encode(sample), as: UTF8.self)
        let pages = sample.pages.sorted().map(String.init).joined(separator: ",")
        let counts = sample.counts.keys.sorted().map { "\($0),\(sample.counts[$0]!)" }.joined(separator: ",")
        let inOrder = text == "{\"counts\":[\(counts)],\"pages\":[\(pages)]}"
        #expect(inOrder)
        #expect(try JSONDecoder().decode(Sample.self, from: Data(text.utf8)) == sample)
    }

    @Test func aRepeatedKeyDoesNotDecode() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Sample.self, from: Data(#"{"counts":[1,2,1,3],"pages":[]}"#.utf8))
        }
    }
}
