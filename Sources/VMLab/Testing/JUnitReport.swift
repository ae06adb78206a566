/// JUnit XML, as CI systems read it: one <testsuite> per file, one <testcase> per result.
enum JUnitReport {
    static func xml(files: [String], outcomes: [TestRunner.FileOutcome]) -> String {
        let all = outcomes.flatMap(\.results)
        var out = [#"<?xml version="1.0" encoding="UTF-8"?>"#]
        out.append(#"<testsuites name="vmlab" tests="\#(all.count)" failures="\#(count(all, .fail))" skipped="\#(count(all, .skip))" time="\#(seconds(outcomes.reduce(0) { $0 + $1.seconds }))">"#)
        for (file, outcome) in zip(files, outcomes) {
            let r = outcome.results
            out.append(#"  <testsuite name="\#(escape(file))" tests="\#(r.count)" failures="\#(count(r, .fail))" skipped="\#(count(r, .skip))" time="\#(seconds(outcome.seconds))">"#)
            for result in r {
                let name = result.names.isEmpty ? file : result.names.joined(separator: " › ")
                let open = #"    <testcase classname="\#(escape(file))" name="\#(escape(name))" time="\#(seconds(result.seconds))""#
                switch result.status {
                case .pass:
                    out.append(open + "/>")
                case .skip:
                    let reason = result.message.map { #" message="\#(escape($0))""# } ?? ""
                    out.append(open + "><skipped\(reason)/></testcase>")
                case .fail:
                    let message = result.message ?? "failed"
                    let first = message.split(separator: "\n").first.map(String.init) ?? message
                    out.append(open + ">")
                    out.append(#"      <failure message="\#(escape(first))">\#(escape(message))</failure>"#)
                    out.append("    </testcase>")
                }
            }
            if r.contains(where: { $0.status == .fail }) && !outcome.log.isEmpty {
                out.append("    <system-out>\(escape(outcome.log))</system-out>")
            }
            out.append("  </testsuite>")
        }
        out.append("</testsuites>")
        return out.joined(separator: "\n") + "\n"
    }

    private static func count(_ results: [TestResult], _ status: TestResult.Status) -> Int {
        results.count { $0.status == status }
    }

    private static func seconds(_ s: Double) -> String { ConsoleReport.formatSeconds(s) }

    /// Escapes markup and drops characters XML 1.0 cannot carry at all (most C0 controls), which a
    /// script's output or error message may contain.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF {
                    out += "?"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
