import Foundation
import PlantedDefects

/// The kill matrix of `harness mutate` as text (the terminal), JUnit XML (one test case per
/// scenario × defect that ran) and HTML (the matrix, each cell explained on hover).
public enum MutationReport {
    /// A table: a row per scenario, a column per defect (numbered, with a legend below), then
    /// the defects nobody catches and the scenarios that catch nothing.
    public static func text(_ matrix: KillMatrix) -> String {
        let numbers = matrix.defects.enumerated().map { String(format: "D%02d", $0.offset + 1) }
        let cellWidth = 10
        let nameWidth = min(44, matrix.rows.map { label($0).count }.max() ?? 10)
        var out = "Kill matrix: \(matrix.rows.count) scenarios × \(matrix.defects.count) defects in \(String(format: "%.0f", matrix.seconds)) s\n"
        out += "caught:N = the expectation at line N failed; error:N = the step at line N could not run; MISSED = passed with the defect; n/a = cannot apply; skip = not run\n\n"
        out += pad("scenario", nameWidth) + " " + numbers.map { pad($0, cellWidth) }.joined() + "\n"
        for row in matrix.rows {
            out += pad(label(row), nameWidth) + " "
            out += matrix.defects.map { pad(row.verdicts[$0]?.cell ?? "", cellWidth) }.joined() + "\n"
        }
        out += "\nDefects:\n"
        for (number, defect) in zip(numbers, matrix.defects) {
            let caughtBy = matrix.rows.filter { $0.verdicts[defect]?.isCaught == true }.count
            out += "  \(number) \(defect.name) [\(defect.component.rawValue)], caught by \(caughtBy): \(defect.summary)"
                + (defect.mirrors.map { " (mirrors \($0))" } ?? "") + "\n"
        }
        let uncaught = matrix.uncaughtDefects
        out += "\nDefects no scenario catches: " + (uncaught.isEmpty ? "none" : uncaught.map(\.name).joined(separator: ", ")) + "\n"
        let idle = matrix.scenariosCatchingNothing
        out += "Scenarios that catch nothing: " + (idle.isEmpty ? "none" : idle.map { "\($0.scenario.source.file) (\($0.scenario.name))" }.joined(separator: ", ")) + "\n"
        let exempt = matrix.rows.filter { $0.catches.isEmpty && $0.scenario.mutationExemption != nil }
        for row in exempt { out += "  \(row.scenario.source.file) says mutation: none (\(row.scenario.mutationExemption!))\n" }
        for row in matrix.cleanFailures {
            out += "Fails on the clean build: \(row.scenario.source.file): " + (row.clean.error ?? row.clean.failures.map(\.description).joined(separator: "; ")) + "\n"
        }
        return out
    }

    public static func junit(_ matrix: KillMatrix, suite: String = "mutation") -> String {
        var cases = ""
        var tests = 0, failures = 0, skipped = 0
        for row in matrix.rows {
            let file = markupEscaped(row.scenario.source.file)
            // The scenario as a whole: it must pass clean and catch something (or say why not).
            tests += 1
            cases += "  <testcase classname=\"\(file)\" name=\"\(markupEscaped(row.scenario.name)) catches a defect\">"
            if !row.clean.passed {
                failures += 1
                cases += "<failure message=\"fails on the clean build\">\(markupEscaped(row.clean.error ?? row.clean.failures.map(\.description).joined(separator: "\n")))</failure>"
            } else if row.catches.isEmpty && row.scenario.mutationExemption == nil && row.clean.skipped == nil {
                failures += 1
                cases += "<failure message=\"catches no planted defect\">add an expectation that bites, or say mutation: none  # why</failure>"
            }
            cases += "</testcase>\n"
            for defect in matrix.defects {
                guard let verdict = row.verdicts[defect] else { continue }
                tests += 1
                cases += "  <testcase classname=\"\(file)\" name=\"\(markupEscaped(row.scenario.name)) × \(defect.name)\">"
                switch verdict {
                case .caught, .caughtByError: cases += "<system-out>\(markupEscaped(verdict.explanation))</system-out>"
                case .missed:
                    // A miss is information about the suite, not a broken build: reported as skipped with the reason.
                    skipped += 1
                    cases += "<skipped message=\"missed\"/>"
                case .notApplicable(let why), .skipped(let why):
                    skipped += 1
                    cases += "<skipped message=\"\(markupEscaped(why))\"/>"
                }
                cases += "</testcase>\n"
            }
        }
        for defect in matrix.uncaughtDefects {
            tests += 1
            failures += 1
            cases += "  <testcase classname=\"defects\" name=\"\(defect.name) is caught\"><failure message=\"no scenario catches it\">\(markupEscaped(defect.summary))</failure></testcase>\n"
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuite name=\"\(markupEscaped(suite))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", matrix.seconds))\">\n"
            + cases + "</testsuite>\n"
    }

    /// The matrix as an HTML table (a page of its own, or a section of the scenario report).
    public static func htmlSection(_ matrix: KillMatrix) -> String {
        let uncaught = matrix.uncaughtDefects, idle = matrix.scenariosCatchingNothing
        var html = "<h2>Kill matrix</h2>\n<p>\(matrix.rows.count) scenarios × \(matrix.defects.count) planted defects, \(String(format: "%.0f", matrix.seconds)) s. "
        html += uncaught.isEmpty ? "<span class=\"pass\">Every defect is caught.</span> " : "<span class=\"fail\">Not caught: \(uncaught.map { markupEscaped($0.name) }.joined(separator: ", ")).</span> "
        html += idle.isEmpty ? "<span class=\"pass\">Every scenario catches one or says why not.</span>" : "<span class=\"fail\">Catching nothing: \(idle.map { markupEscaped($0.scenario.source.file) }.joined(separator: ", ")).</span>"
        html += "</p>\n<p class=\"legend\">A cell is the line of the expectation that failed with the defect planted (hover for the message); MISSED: the scenario passed with it; n/a: the scenario cannot exercise it; skip: not run.</p>\n"
        html += "<div style=\"overflow-x:auto\"><table class=\"matrix\"><tr><th>scenario</th>"
        for defect in matrix.defects {
            html += "<th class=\"defect\" title=\"\(markupEscaped(defect.summary + (defect.mirrors.map { " — mirrors " + $0 } ?? "")))\"><div>\(markupEscaped(defect.name))</div></th>"
        }
        html += "</tr>\n"
        for row in matrix.rows {
            let clean = row.clean.passed ? "" : " <span class=\"fail\">(fails clean)</span>"
            html += "<tr><td title=\"\(markupEscaped(row.scenario.source.file))\">\(markupEscaped(label(row)))\(clean)</td>"
            for defect in matrix.defects {
                let verdict = row.verdicts[defect]
                let style = switch verdict {
                case .caught?, .caughtByError?: "caught"
                case .missed?: "missed"
                default: "na"
                }
                html += "<td class=\"\(style)\" title=\"\(markupEscaped(verdict?.explanation ?? ""))\">\(markupEscaped(verdict?.cell ?? ""))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</table></div>\n"
    }

    public static func html(_ matrix: KillMatrix) -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>Kill matrix</title><style>\(style)</style></head><body>
        <h1>Mutation report</h1>
        \(htmlSection(matrix))</body></html>

        """
    }

    static let style = """
        body{font:13px system-ui,sans-serif;margin:24px} .pass{color:#1a7f37} .fail{color:#cf222e} .legend{color:#57606a}
        table.matrix{border-collapse:collapse;font:11px monospace} table.matrix td,table.matrix th{border:1px solid #ddd;padding:2px 4px;white-space:nowrap}
        th.defect{height:150px;vertical-align:bottom} th.defect div{writing-mode:vertical-rl;transform:rotate(180deg)}
        td.caught{background:#dafbe1;color:#1a7f37} td.missed{background:#ffebe9;color:#cf222e;font-weight:bold} td.na{color:#8c959f}
        """

    private static func label(_ row: KillMatrix.Row) -> String {
        (row.scenario.source.file as NSString).lastPathComponent
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? String(s.prefix(width - 1)) + " " : s + String(repeating: " ", count: width - s.count)
    }
}
