import Foundation
import Hypervisor
import Testing
@testable import VMLab

/// `vmlab.compare`'s result type: the output check, the ratios and the three renderings.

private func row(_ bench: String, _ mode: String, cycles: UInt64, guestCycles: UInt64? = nil) -> Comparison.Row {
    Comparison.Row(bench: bench, mode: mode, instructions: 100, cycles: cycles,
                   byCategory: [.init("guest", cycles / 2), .init("interpretation", mode == "native" ? 0 : cycles / 2),
                                .init("waited", 0)],
                   traps: 3, result: "bench=\(bench) iterations=5 status=ok checksum=0x5",
                   guestCycles: guestCycles, guestInstructions: guestCycles.map { $0 / 2 })
}

private var sample: Comparison {
    var c = Comparison(guest: "tinyos", profile: "classic-2006 (edited: trap=5)", baseline: "native", iterations: 5,
                       rows: [row("syscall", "native", cycles: 1000, guestCycles: 100), row("syscall", "interpret", cycles: 5000, guestCycles: 700),
                              row("fork", "native", cycles: 2000), row("fork", "interpret", cycles: 3000)])
    c.computeRatios()
    return c
}

@Test func ratiosAreRelativeToTheBaselineOfTheSameBenchmark() {
    let c = sample
    #expect(c.rows.map(\.ratio) == [1, 5, 1, 1.5])
    #expect(c.rows[1].guestRatio == 7)
    // No guest measurement: no ratio.
    #expect(c.rows[3].guestRatio == 0)
}

@Test func outputLinesSplitOnCRLFAndSkipTheGuestsOwnTimings() {
    let console = Array("# tinyos: boot\r\nbench=x begin\r\nbench=x iterations=1 status=ok\r\n# bench=x cycles=9 instret=4\r\ndone".utf8)
    #expect(Comparison.comparableLines(console) == ["bench=x begin", "bench=x iterations=1 status=ok", "done"])
    let window = Comparison.guestWindow(console, bench: "x")
    #expect(window?.cycles == 9 && window?.instructions == 4)
    #expect(Comparison.resultLine(Comparison.comparableLines(console), bench: "x") == "bench=x iterations=1 status=ok")
}

@Test func theFirstDifferenceNamesTheLineAndBothVersions() {
    #expect(Comparison.firstDifference(["a", "b"], ["a", "b"], modes: ("native", "interpret")) == nil)
    #expect(Comparison.firstDifference(["a", "b"], ["a", "c"], modes: ("native", "interpret"))
            == "line 2: native printed 'b', interpret printed 'c'")
    #expect(Comparison.firstDifference(["a"], ["a", "x"], modes: ("native", "interpret"))
            == "line 2: native printed (no line: the output ended), interpret printed 'x'")
}

@Test func theTextTableNamesTheProfileAndShowsOnlyCategoriesWithCycles() {
    let text = sample.text
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines[0] == "tinyos: 2 benchmark(s) × 2 mode(s), n=5, profile classic-2006 (edited: trap=5), cycles relative to native")
    #expect(lines[1].hasPrefix("bench    mode"))
    #expect(lines[1].contains("interpretation"))
    #expect(!lines[1].contains("waited"))
    #expect(!lines[1].contains("exits"))   // no row has any
    // Not every row has the guest's own measurement: no loop columns.
    #expect(!lines[1].contains("loop"))
    #expect(lines[3].contains("5.00"))
    #expect(lines.count == 7)
}

@Test func csvQuotesFieldsThatNeedIt() {
    let csv = sample.csv
    let lines = csv.components(separatedBy: "\r\n")
    #expect(lines.count == 6 && lines[5].isEmpty)
    #expect(lines[0].hasSuffix("result,cycles_guest,cycles_interpretation,cycles_waited"))
    // The profile has no comma; a guest name with one is quoted.
    #expect(lines[1].hasPrefix("tinyos,classic-2006 (edited: trap=5),syscall,native,100,1000,1.000000,"))
    #expect(Comparison.csvField("a,b") == "\"a,b\"")
    #expect(Comparison.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
}

@Test func jsonIsValidAndStable() throws {
    let json = sample.json
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["profile"] as? String == "classic-2006 (edited: trap=5)")
    let rows = try #require(object["rows"] as? [[String: Any]])
    #expect(rows.count == 4)
    #expect(rows[1]["mode"] as? String == "interpret")
    #expect((rows[1]["by_category"] as? [String: Any])?["interpretation"] as? Int == 2500)
    #expect(json == sample.json)
    #expect(Comparison.jsonString("a\"b\\c\n\u{1}") == "\"a\\\"b\\\\c\\n\\u0001\"")
}

/// `vmlab.compare` checks benchmark names against the list tinyos's bench program has: the two
/// must not drift apart.
@Test func theTinyosBenchmarkListIsBenchCsTable() throws {
    let source = try String(contentsOf: packageRoot.appendingPathComponent("labs/guests/tinyos/user/bench.c"), encoding: .utf8)
    let table = try #require(source.range(of: "benchmarks[] = {").map { source[$0.upperBound...] }?.prefix { $0 != ";" })
    let names = table.split(separator: "{").dropFirst().compactMap { entry in
        entry.split(separator: "\"").dropFirst().first.map(String.init)
    }
    #expect(names == Comparison.tinyosBenchmarks)
}
