import Foundation
import LuaKit
import Testing
@testable import VMLab

@Test func checksRunAfterTheScriptInDeclarationOrder() throws {
    let session = try LabSession()
    try session.run("""
        order = {}
        describe("outer", function()
          before_each(function() order[#order + 1] = "before" end)
          after_each(function() order[#order + 1] = "after" end)
          it("first", function() order[#order + 1] = "first" end)
          describe("inner", function()
            it("second", function() order[#order + 1] = "second"; expect(1).to_equal(2) end)
          end)
        end)
        it("third")
        vmlab.check("fourth", function() error("boom") end)
        pending("fifth", "needs QEMU")
        """)
    #expect(session.checkCount == 5)
    var results: [TestResult] = []
    try session.runChecks(file: "f.lua", filter: nil) { results.append($0) }
    #expect(results.map(\.names) == [["outer", "first"], ["outer", "inner", "second"], ["third"], ["fourth"], ["fifth"]])
    #expect(results.map(\.status) == [.pass, .fail, .skip, .fail, .skip])
    #expect(results[2].message == nil)
    #expect(results[4].message == "needs QEMU")
    #expect(results[1].message == "(command line):7: expected: 1 to equal 2")
    #expect(results[3].message?.hasPrefix("(command line):11: boom\nstack traceback:") == true)
    let order = try session.lua.run("return table.concat(order, ' ')").first
    #expect(order == .string("before first after before second after"))
}

@Test func filterSelectsChecksByLuaPattern() throws {
    let session = try LabSession()
    try session.run("it('alpha', function() end) it('beta', function() end) it('alphabet', function() end)")
    var names: [String] = []
    try session.runChecks(file: "x.lua", filter: "› alpha") { names.append($0.fullName) }
    #expect(names == ["x.lua › alpha", "x.lua › alphabet"])
}

@Test func argTableFollowsTheStandardInterpreter() throws {
    let session = try LabSession()
    session.setArguments(script: "lab.lua", arguments: ["a", "b"], interpreter: ["vmlab", "run"])
    let values = try session.lua.run("return arg[-2], arg[-1], arg[0], arg[1], arg[2], #arg")
    #expect(values == [.string("vmlab"), .string("run"), .string("lab.lua"), .string("a"), .string("b"), .integer(2)])
}

@Test func consoleLinesAndSummary() {
    let results = [
        TestResult(file: "a.lua", names: ["d", "i"], status: .pass, seconds: 0.014),
        TestResult(file: "a.lua", names: ["x"], status: .fail, seconds: 1.5, message: "a.lua:3: no\nmore"),
        TestResult(file: "b.lua", names: [], status: .skip, seconds: 0),
        TestResult(file: "c.lua", names: ["q"], status: .skip, seconds: 0, message: "no QEMU"),
    ]
    #expect(ConsoleReport.lines(results[0]) == ["ok   a.lua › d › i (0.01s)"])
    #expect(ConsoleReport.lines(results[1]) == ["FAIL a.lua › x (1.50s)", "     a.lua:3: no", "     more"])
    #expect(ConsoleReport.lines(results[2]) == ["SKIP b.lua"])
    #expect(ConsoleReport.lines(results[3]) == ["SKIP c.lua › q", "     no QEMU"])
    #expect(ConsoleReport.summary(results) == "1 passed, 1 failed, 2 skipped")
    #expect(ConsoleReport.summary(Array(results.prefix(1))) == "1 passed, 0 failed")
}

@Test func discoveryFindsTestsAndNumberedLabsOnly() {
    #expect(TestDiscovery.isTestOrLab("x/hex_test.lua"))
    #expect(TestDiscovery.isTestOrLab("labs/00-hello.lua"))
    #expect(TestDiscovery.isTestOrLab("12-x.lua"))
    #expect(!TestDiscovery.isTestOrLab("labs/helper.lua"))
    #expect(!TestDiscovery.isTestOrLab("labs/2fast.lua"))
    #expect(!TestDiscovery.isTestOrLab("hex_test.lua.bak"))
}

@Test func shardsAreDisjointAndComplete() {
    let files = (0..<17).map { "f\($0).lua" }
    for count in 1...5 {
        let shards = (1...count).map { TestDiscovery.shard(files, index: $0, of: count) }
        #expect(shards.flatMap { $0 }.sorted() == files.sorted())
        #expect(Set(shards.flatMap { $0 }).count == files.count)
        #expect(shards.allSatisfy { abs($0.count - files.count / count) <= 1 })
    }
}

@Test func junitEscapesMarkupAndControlCharacters() {
    #expect(JUnitReport.escape("a<b>&\"c'\u{1}\n") == "a&lt;b&gt;&amp;&quot;c&apos;?\n")
}

@Test func declaringACheckInsideACheckFails() throws {
    let session = try LabSession()
    try session.run("it('outer', function() it('inner', function() end) end)")
    var results: [TestResult] = []
    try session.runChecks(file: "f.lua", filter: nil) { results.append($0) }
    #expect(results.count == 1)
    #expect(results.first?.status == .fail)
    #expect(results.first?.message?.contains("checks are declared while the file loads") == true)
}

/// A resumed run passes over the first `after` declared checks, counted whatever the filter, and
/// each check is started with its position among all declared checks.
@Test func checksResumeAfterAPositionAmongAllDeclaredChecks() throws {
    let session = try LabSession()
    try session.run("""
        it('a1', function() end) pending('a2') it('b3', function() end) it('a4', function() end) it('a5', function() end)
        """)
    var started: [String] = []
    var reported: [String] = []
    try session.runChecks(file: "f.lua", filter: "› a", after: 3, starting: { names, position in
        started.append("\(names.joined()) \(position)")
    }, report: { reported.append($0.names.joined()) })
    #expect(started == ["a4 4", "a5 5"])
    #expect(reported == ["a4", "a5"])

    var all: [String] = []
    try session.runChecks(file: "f.lua", filter: nil, starting: { names, position in
        all.append("\(names.joined()) \(position)")
    }, report: { _ in })
    #expect(all == ["a1 1", "b3 3", "a4 4", "a5 5"])   // a pending check is reported, not started
}
