import Foundation
import Testing
@testable import Hypervisor

/// The "Cost profiles" article carries the generated tables between two markers; this keeps the
/// documentation equal to the data. `VMLAB_UPDATE_GOLDEN=1 swift test --filter CostDocumentationTests`
/// rewrites the block from the data.
@Suite struct CostDocumentationTests {
    static let article = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Hypervisor/Hypervisor.docc/CostProfiles.md")

    /// The article split around its generated block: (before, block, after).
    static func split(_ text: String) -> (String, String, String)? {
        guard let b = text.range(of: CostProfile.documentationBegin + "\n"),
              let e = text.range(of: CostProfile.documentationEnd, range: b.upperBound..<text.endIndex) else { return nil }
        return (String(text[..<b.upperBound]), String(text[b.upperBound..<e.lowerBound]), String(text[e.lowerBound...]))
    }

    @Test func articleTablesMatchTheData() throws {
        let text = try String(contentsOf: Self.article, encoding: .utf8)
        let parts = try #require(Self.split(text), "markers missing from \(Self.article.path)")
        let generated = CostProfile.documentationTables
        if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] == "1" {
            try (parts.0 + generated + parts.2).write(to: Self.article, atomically: true, encoding: .utf8)
            return
        }
        #expect(parts.1 == generated, "the Cost profiles article is stale: run VMLAB_UPDATE_GOLDEN=1 swift test --filter CostDocumentationTests")
    }

    @Test func tablesListEveryPriceInProfileOrder() {
        let doc = CostProfile.documentationTables
        var cursor = doc.startIndex
        for p in CostProfile.all {
            let heading = "### `\(p.name)`"
            let found = doc.range(of: heading, range: cursor..<doc.endIndex)
            #expect(found != nil, "\(p.name) missing or out of order")
            guard let found else { continue }
            cursor = found.upperBound
            for e in CostEvent.allCases {
                let row = "| `\(e.name)` | \(p.cycles(e)) | \(p[e].basis) | "
                let r = doc.range(of: row, range: cursor..<doc.endIndex)
                #expect(r != nil, "\(p.name).\(e.name) missing or out of order")
                if let r { cursor = r.upperBound }
            }
        }
    }
}
