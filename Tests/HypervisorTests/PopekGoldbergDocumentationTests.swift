import Foundation
import Testing
@testable import Hypervisor

/// The "Popek–Goldberg" article carries the checker's table for the default configuration between
/// two markers; this keeps the documentation equal to what the checker finds.
/// `VMLAB_UPDATE_GOLDEN=1 swift test --filter PopekGoldbergDocumentationTests` rewrites the block.
@Suite struct PopekGoldbergDocumentationTests {
    static let article = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Hypervisor/Hypervisor.docc/PopekGoldberg.md")

    @Test func articleTableMatchesTheChecker() throws {
        let text = try String(contentsOf: Self.article, encoding: .utf8)
        let b = try #require(text.range(of: PopekGoldberg.documentationBegin + "\n"), "begin marker missing")
        let e = try #require(text.range(of: PopekGoldberg.documentationEnd, range: b.upperBound..<text.endIndex),
                             "end marker missing")
        let generated = PopekGoldberg.documentationTable
        if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] == "1" {
            let updated = String(text[..<b.upperBound]) + generated + String(text[e.lowerBound...])
            try updated.write(to: Self.article, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(text[b.upperBound..<e.lowerBound]) == generated,
                "the Popek–Goldberg article is stale: run VMLAB_UPDATE_GOLDEN=1 swift test --filter PopekGoldbergDocumentationTests")
    }

    @Test func tableStatesTheVerdict() {
        let doc = PopekGoldberg.documentationTable
        #expect(doc.contains("Verdict: classically virtualisable: yes"))
        #expect(doc.contains("| `satp` | all 9 write forms | control | yes | traps (illegal_instruction) | traps |"))
    }
}
