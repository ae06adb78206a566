import Boot
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

/// A snapshot file's description changed at random (a number replaced by an awkward value, an
/// array element dropped or repeated, null put for a value) and decoded: a restore either takes it
/// or refuses it, and a VM that took it runs. What this test checks is that nothing in it crashes
/// the process: no index out of range, no trap on a conversion, no precondition. A refused restore
/// changes nothing.
@Suite(.serialized) struct SnapshotFuzzTests {
    static let awkward: [String] = ["0", "1", "2", "3", "4", "5", "7", "8", "9", "31", "63", "64", "255", "256", "4096",
                                    "65535", "65536", "2147483648", "4294967296", "9223372036854775807",
                                    "18446744073709551615", "-1"]

    /// The parts of the description a change is not made in: the RAM page list (thousands of
    /// numbers, whose every change the restore refuses at once), and the options compared before
    /// anything else (the profile's prices, the board's configuration).
    static func untouched(_ text: [UInt8]) -> [Range<Int>] {
        ["\"ramPages\":", "\"profile\":", "\"boardConfiguration\":"].compactMap { key in
            let k = Array(key.utf8)
            guard let start = (0...(text.count - k.count)).first(where: { text[$0..<($0 + k.count)].elementsEqual(k) }),
                  let end = elementEnd(text, from: start + k.count) else { return nil }
            return start..<end
        }
    }

    /// One random change to JSON text outside `untouched`; nil when it offered nothing to change.
    static func mutate(_ text: [UInt8], untouched: [Range<Int>], _ rng: inout SplitMix64) -> [UInt8]? {
        let digit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        let free = { (i: Int) in !untouched.contains { $0.contains(i) } }
        switch rng.next() % 4 {
        case 0, 1:   // a number (or a run of digits in a string) becomes an awkward value
            let starts = text.indices.filter { digit(text[$0]) && ($0 == 0 || !digit(text[$0 - 1]) && text[$0 - 1] != 0x2D) && free($0) }
            guard let start = starts.randomElement(using: &rng) else { return nil }
            var end = start
            while end < text.count && digit(text[end]) { end += 1 }
            let value = awkward.randomElement(using: &rng)!
            return Array(text[..<start]) + Array(value.utf8) + Array(text[end...])
        case 2:      // an array loses its first element, or repeats it
            let opens = text.indices.filter { text[$0] == 0x5B && $0 + 1 < text.count && text[$0 + 1] != 0x5D && free($0) }
            guard let open = opens.randomElement(using: &rng), let end = elementEnd(text, from: open + 1) else { return nil }
            let element = Array(text[(open + 1)..<end])
            if rng.next() % 2 == 0 {
                // Drop it, with the comma after it if there is one.
                let skip = text[end] == 0x2C ? end + 1 : end
                return Array(text[...open]) + Array(text[skip...])
            }
            return Array(text[...open]) + element + [0x2C] + Array(text[(open + 1)...])
        default:     // a value becomes null
            let colons = text.indices.filter { text[$0] == 0x3A && free($0) }
            guard let colon = colons.randomElement(using: &rng), let end = elementEnd(text, from: colon + 1) else { return nil }
            return Array(text[...colon]) + Array("null".utf8) + Array(text[end...])
        }
    }

    /// Where the JSON value starting at `from` ends (the index of the `,`, `]` or `}` after it).
    static func elementEnd(_ text: [UInt8], from: Int) -> Int? {
        var depth = 0, inString = false, i = from
        while i < text.count {
            let b = text[i]
            if inString {
                if b == 0x5C { i += 1 } else if b == 0x22 { inString = false }
            } else if b == 0x22 {
                inString = true
            } else if b == 0x5B || b == 0x7B {
                depth += 1
            } else if b == 0x5D || b == 0x7D {
                if depth == 0 { return i }
                depth -= 1
            } else if b == 0x2C && depth == 0 {
                return i
            }
            i += 1
        }
        return nil
    }

    /// The snapshot's description with its keys in order, as a file is written: a dictionary's
    /// own order changes from one process to the next, and with it what a seed changes.
    static func description(_ snapshot: GuestSnapshot) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(snapshot)
    }

    /// What the fuzzing found: a vCPU with negative ASID bits stopped the process at the guest's
    /// next satp write; one in M-mode is no vCPU a monitor makes either. Both are refused.
    @Test(arguments: [ExecutionMode.trap, .bt])
    func aForgedVCPUIsRefused(_ mode: ExecutionMode) throws {
        guard let g = try GuestSnapshotTests.tinyos("bench=syscall n=2", mode: mode) else { return }
        defer { g.close() }
        #expect(g.run(maxInstructions: 300_000) == .budgetExhausted)
        let snapshot = try g.snapshot()
        let text = String(decoding: try Self.description(snapshot), as: UTF8.self)
        let bits = "\"csrs\":{\"asidBits\":"
        for (field, forged) in [(bits + "16", bits + "-1"), (bits + "16", bits + "64"),
                                ("\"privilege\":1", "\"privilege\":3")] {
            #expect(text.components(separatedBy: field).count == 2, "\(field) once in the description")
            var bad = try JSONDecoder().decode(GuestSnapshot.self, from: Data(text.replacingOccurrences(of: field, with: forged).utf8))
            bad.board.machine.ramContents = snapshot.board.machine.ramContents
            let before = g.statistics()
            #expect(throws: SnapshotError.self, "\(forged)") { try g.restore(bad) }
            #expect(g.statistics() == before)
        }
        #expect(g.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
    }

    /// Also found by it: a trap VM's counts by cause, read back with fewer than 64 codes, stopped
    /// the process at the next `statistics()`. They no longer decode.
    @Test func causeCountsOfTheWrongLengthDoNotDecode() throws {
        var counts = CauseCounts()
        counts.count(VirtualTrap(cause: 8, isInterrupt: false, tval: 0))
        #expect(try JSONDecoder().decode(CauseCounts.self, from: JSONEncoder().encode(counts)) == counts)
        let short = #"{"exceptions":[1,2],"interrupts":[],"others":{}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CauseCounts.self, from: Data(short.utf8)) }
    }

    @Test(arguments: [ExecutionMode.native, .trap, .bt, .pv, .hw])
    func aChangedDescriptionIsRestoredOrRefusedNeverACrash(_ mode: ExecutionMode) throws {
        guard let g = try GuestSnapshotTests.tinyos("bench=fork n=2", mode: mode) else { return }
        defer { g.close() }
        #expect(g.run(maxInstructions: 300_000) == .budgetExhausted)
        let snapshot = try g.snapshot()
        // VMLAB_FUZZ_SEED explores other changes.
        let text = [UInt8](try Self.description(snapshot))
        let ram = snapshot.board.machine.ramContents
        let exploring = ProcessInfo.processInfo.environment["VMLAB_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0
        var rng = SplitMix64(seed: mode.rawValue.utf8.reduce(0x5AFE ^ exploring) { $0 &* 31 &+ UInt64($1) })
        let skipped = Self.untouched(text)
        #expect(skipped.count == 3)
        var decoded = 0, restored = 0
        for _ in 0..<150 {
            guard let changed = Self.mutate(text, untouched: skipped, &rng) else { continue }
            guard var forged = try? JSONDecoder().decode(GuestSnapshot.self, from: Data(changed)) else { continue }
            decoded += 1
            forged.board.machine.ramContents = ram
            let before = g.statistics()
            do {
                try g.restore(forged)
                restored += 1
                _ = g.run(maxInstructions: 20_000)
            } catch {
                let unchanged = g.statistics() == before
                #expect(unchanged, "a refused restore changed the VM: \(error)")
            }
        }
        // The mutations must reach the restore, not stop at decoding.
        #expect(decoded > 40 && restored > 10, "decoded \(decoded), restored \(restored)")
        // And the VM is still whole: the real snapshot still restores and runs to the end.
        try g.restore(snapshot)
        #expect(g.run(maxInstructions: 200_000_000) == .poweredOff(code: 0))
    }
}
