// What the Popek–Goldberg checker found: one row per executed instruction, the verdict, and the
// tables a lab prints or the documentation carries.

import Machine

/// How a sensitive instruction fared.
public enum PopekGoldbergVerdict: String, Sendable, CaseIterable {
    /// Sensitive, and it traps: the VMM gets control and can emulate it.
    case traps = "traps"
    /// Sensitive, and it does not trap: the guest acts on, or sees, the real machine.
    case violation = "does not trap"
    /// Not sensitive for a guest kernel at this privilege: it acts on the VM's own registers.
    case guestState = "guest state"
}

/// One instruction as executed by the checker.
public struct PopekGoldbergRow: Sendable, Equatable {
    /// The instruction's text, such as `csrw sstatus, t1`.
    public let instruction: String
    /// The CSR it accesses, or the mnemonic (`sret`, `sfence.vma`).
    public let name: String
    /// Whether it is a write form of a CSR instruction (`false` for reads and the other instructions).
    public let writes: Bool
    public let sensitivity: SensitivityClass
    /// Whether it is sensitive for a guest kernel at the configured privilege.
    public let sensitive: Bool
    /// One line: why it is sensitive.
    public let reason: String
    /// It raised an exception when executed at the guest kernel's privilege.
    public let traps: Bool
    /// The exception's name (`illegal_instruction`) when it trapped.
    public let cause: String?
    /// What it did: `traps (illegal_instruction)`, `the write is silently dropped`, `writes the
    /// real satp`, `returns the real time`, `executes as a no-op`...
    public let effect: String
    public let verdict: PopekGoldbergVerdict

    init(_ instruction: SensitiveInstruction, sensitive: Bool, traps: Bool, cause: String?, effect: String) {
        self.instruction = instruction.text
        name = instruction.name
        if case .csr(_, _, let w) = instruction.subject { writes = w } else { writes = false }
        sensitivity = instruction.sensitivity
        self.sensitive = sensitive
        reason = instruction.reason
        self.traps = traps
        self.cause = cause
        self.effect = effect
        verdict = !sensitive ? .guestState : traps ? .traps : .violation
    }
}

/// The result of `PopekGoldberg.check`.
public struct PopekGoldbergReport: Sendable {
    public let configuration: PopekGoldbergConfiguration
    /// Every instruction of the catalogue, in catalogue order.
    public let rows: [PopekGoldbergRow]

    /// The rows sensitive at the configured guest privilege.
    public var sensitiveRows: [PopekGoldbergRow] { rows.filter(\.sensitive) }
    /// Sensitive instructions that do not trap.
    public var violations: [PopekGoldbergRow] { rows.filter { $0.verdict == .violation } }
    /// Every sensitive instruction traps: trap-and-emulate suffices [PG74].
    public var isClassicallyVirtualisable: Bool { violations.isEmpty }

    /// The row of the instruction with text `instruction`.
    public func row(_ instruction: String) -> PopekGoldbergRow? { rows.first { $0.instruction == instruction } }

    /// `classically virtualisable: yes (all N sensitive instructions trap)`, or `no (N sensitive
    /// instructions do not trap: ...)` naming up to ten of them, separated by semicolons.
    public var summary: String {
        let bad = violations
        if bad.isEmpty {
            return "classically virtualisable: yes (all \(sensitiveRows.count) sensitive instructions trap)"
        }
        var names = bad.prefix(10).map(\.instruction).joined(separator: "; ")
        if bad.count > 10 { names += "; … \(bad.count - 10) more" }
        let noun = bad.count == 1 ? "instruction does" : "instructions do"
        return "classically virtualisable: no (\(bad.count) sensitive \(noun) not trap: \(names))"
    }

    /// The configuration in one line: `guest kernel in U-mode; TVM off, TSR off, TW off;
    /// mcounteren 0x0, scounteren 0x0; no holes`.
    public var configurationDescription: String {
        let c = configuration
        func bit(_ name: String, _ on: Bool) -> String { "\(name) \(on ? "on" : "off")" }
        let holes = c.holes.isEmpty ? "no holes" : "holes: " + c.holes.map(\.description).sorted().joined(separator: ", ")
        return "guest kernel in \(PopekGoldberg.modeName(c.guestPrivilege))-mode; "
            + "\(bit("TVM", c.tvm)), \(bit("TSR", c.tsr)), \(bit("TW", c.tw)); "
            + "mcounteren 0x\(String(c.mcounteren, radix: 16)), scounteren 0x\(String(c.scounteren, radix: 16)); \(holes)"
    }

    /// Markdown, one line per instruction: instruction, class, traps, effect, verdict, reason.
    public var table: String {
        var out = "| instruction | class | traps | effect | verdict | why sensitive |\n|---|---|---|---|---|---|\n"
        for r in rows {
            out += "| `\(r.instruction)` | \(r.sensitivity.rawValue) | \(r.traps ? "yes" : "no") | \(r.effect) | \(r.verdict.rawValue) | \(r.reason) |\n"
        }
        return out
    }

    /// Markdown, condensed: the forms of one CSR that behave alike share a line, and the members
    /// of a numbered family (`pmpaddr0`…`pmpaddr63`) that behave alike share their lines.
    public var groupedTable: String { groupedTable(of: rows) }

    /// The condensed table of the rows with one of `verdicts`: `[.violation]` shows what breaks.
    public func groupedTable(verdicts: Set<PopekGoldbergVerdict>) -> String {
        groupedTable(of: rows.filter { verdicts.contains($0.verdict) })
    }

    private func groupedTable(of rows: [PopekGoldbergRow]) -> String {
        // Lines of one subject (a CSR or an instruction): consecutive rows with the same outcome.
        struct Line: Equatable {
            var forms: [String], writes: Bool, sensitivity: SensitivityClass, traps: Bool
            var effect: String, verdict: PopekGoldbergVerdict
        }
        var subjects: [(name: String, lines: [Line])] = []
        for r in rows {
            let effect = Self.replacingName(r.effect, r.name, with: "csr")
            let line = Line(forms: [Self.form(r)], writes: r.writes, sensitivity: r.sensitivity, traps: r.traps,
                            effect: effect, verdict: r.verdict)
            if subjects.last?.name != r.name { subjects.append((r.name, [])) }
            var lines = subjects[subjects.count - 1].lines
            if var last = lines.last, last.writes == line.writes, last.sensitivity == line.sensitivity,
               last.traps == line.traps, last.effect == line.effect, last.verdict == line.verdict {
                last.forms += line.forms
                lines[lines.count - 1] = last
            } else {
                lines.append(line)
            }
            subjects[subjects.count - 1].lines = lines
        }
        // Members of a numbered family with identical lines share them.
        var blocks: [(first: String, last: String, lines: [Line])] = []
        for (name, lines) in subjects {
            let family = Self.family(name)
            if let prev = blocks.last, family != name, Self.family(prev.last) == family, prev.lines == lines {
                blocks[blocks.count - 1].last = name
            } else {
                blocks.append((name, name, lines))
            }
        }
        var out = "| instructions | forms | class | traps | effect | verdict |\n|---|---|---|---|---|---|\n"
        for b in blocks {
            let family = b.first == b.last ? b.first : Self.family(b.first) + "N"
            let subject = b.first == b.last ? "`\(b.first)`" : "`\(b.first)`…`\(b.last)`"
            for l in b.lines {
                let forms: String
                if l.forms == ["csr"] || l.forms.first == b.first {
                    forms = "—"
                } else {
                    let all = l.writes ? 9 : 4
                    forms = l.forms.count == all ? "all \(all) \(l.writes ? "write" : "read") forms"
                        : l.forms.map { "`\($0)`" }.joined(separator: ", ")
                }
                let effect = Self.replacingName(l.effect, "csr", with: family)
                out += "| \(subject) | \(forms) | \(l.sensitivity.rawValue) | \(l.traps ? "yes" : "no") | \(effect) | \(l.verdict.rawValue) |\n"
            }
        }
        return out
    }

    /// `text` with the word `name` (delimited by spaces, commas or parentheses) replaced.
    static func replacingName(_ text: String, _ name: String, with replacement: String) -> String {
        var out = "", word = ""
        for c in text + " " {
            if c.isLetter || c.isNumber || c == "_" || c == "." {
                word.append(c)
            } else {
                out += word == name ? replacement : word
                word = ""
                out.append(c)
            }
        }
        return String(out.dropLast())
    }

    /// A row's instruction text with its CSR's name replaced by `csr`, so that forms compare
    /// across CSRs: `csrrs t0, csr, t1`.
    static func form(_ row: PopekGoldbergRow) -> String {
        replacingName(row.instruction, row.name, with: "csr")
    }

    /// A CSR name without its trailing number: `pmpaddr63` → `pmpaddr`.
    static func family(_ name: String) -> String {
        String(name.reversed().drop(while: \.isNumber).reversed())
    }
}

extension PopekGoldberg {
    /// Marks the start of the generated block in the "Popek–Goldberg" article.
    public static let documentationBegin = "<!-- BEGIN GENERATED: PopekGoldberg.documentationTable -->"
    /// Marks the end of the generated block in the article.
    public static let documentationEnd = "<!-- END GENERATED: PopekGoldberg.documentationTable -->"

    /// Markdown for the article: the default configuration, the checker's verdict and the
    /// condensed table, as `check()` produces them.
    public static var documentationTable: String {
        let report = check()
        return "Configuration: \(report.configurationDescription).\n\n"
            + "Verdict: \(report.summary).\n\n"
            + report.groupedTable
    }
}
