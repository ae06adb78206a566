// The cost tables of the documentation, generated from the profile data so the two cannot drift:
// the "Cost profiles" article holds this text between markers and a test compares it with
// `documentationTables` (`VMLAB_UPDATE_GOLDEN=1` rewrites the article's block).

extension CostProfile {
    /// Marks the start of the generated block in the article.
    public static let documentationBegin = "<!-- BEGIN GENERATED: CostProfile.documentationTables -->"
    /// Marks the end of the generated block in the article.
    public static let documentationEnd = "<!-- END GENERATED: CostProfile.documentationTables -->"

    /// Markdown: the events with their categories and meanings, then one table per built-in
    /// profile, in profile order, with every price, its basis and its source.
    public static var documentationTables: String {
        var out = "### Events\n\n| event | category | one occurrence is |\n|---|---|---|\n"
        for e in CostEvent.allCases {
            out += "| `\(e.name)` | `\(e.category.name)` | \(cell(e.meaning)) |\n"
        }
        for p in all {
            out += "\n### `\(p.name)`\n\n\(p.summary). Clock: \(p.clockDescription) (\(cell(p.clockSource))).\n\n"
            out += "| event | cycles | basis | source |\n|---|---:|---|---|\n"
            for e in CostEvent.allCases {
                let v = p[e]
                out += "| `\(e.name)` | \(v.cycles) | \(v.basis) | \(cell(v.source)) |\n"
            }
        }
        return out
    }

    /// The clock as people write it (`3.8 GHz`).
    public var clockDescription: String {
        let hundredths = (clockHz + 5_000_000) / 10_000_000   // hundredths of a GHz
        let whole = hundredths / 100, frac = hundredths % 100
        if frac == 0 { return "\(whole) GHz" }
        return frac % 10 == 0 ? "\(whole).\(frac / 10) GHz" : "\(whole).\(frac < 10 ? "0" : "")\(frac) GHz"
    }

    /// A table cell: a pipe would end the cell early.
    private static func cell(_ s: String) -> String { String(s.flatMap { $0 == "|" ? ["\\", "|"] : [$0] }) }
}
