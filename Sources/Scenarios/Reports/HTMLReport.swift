import Foundation
import Recorder

/// A self-contained HTML page: per scenario, its result, the expectations it checked (each passed
/// or failed), and a timeline with one lane per key and handler, each attempt a bar (green
/// completed, red failed). Attempts of one lane that overlapped in time sit on rows of their own,
/// so a lane's height is its parallelism, and ordering and overlap show at a glance. A failed
/// expectation sits right above the timeline, and the attempts of the records it names are
/// outlined there.
public enum HTMLReport {
    static let rowHeight = 14
    static let laneGap = 3
    static let width = 1000.0
    static let labelWidth = 220

    public static func render(_ results: [ScenarioResult]) -> String {
        var html = """
            <!doctype html><html><head><meta charset="utf-8"><title>Scenario report</title><style>
            body{font:13px system-ui,sans-serif;margin:24px} h2{margin:28px 0 4px} .pass{color:#1a7f37} .fail{color:#cf222e} .skip{color:#6e7781}
            .failure{font-family:monospace;white-space:pre-wrap;color:#cf222e} svg{border:1px solid #ddd;background:#fafafa}
            ul.expectations{list-style:none;padding-left:0;font-family:monospace} .legend{color:#57606a}
            text{font:11px monospace}</style></head><body>
            <h1>Scenario report</h1>
            <p>\(results.filter { $0.passed && $0.skipped == nil }.count) of \(results.count) scenarios passed\(skippedNote(results)).</p>
            <p class="legend">Timelines: one lane per handler and key, in natural key order; a bar per attempt, green when it
            completed, red when it failed; attempts of a lane that overlapped in time are stacked, so a lane's height is its parallelism.
            Bars outlined in black are the records a failed expectation names. Hover a bar for its record and attempt.</p>

            """
        for result in results {
            let (style, mark) = result.skipped != nil ? ("skip", "–") : result.passed ? ("pass", "✔") : ("fail", "✘")
            html += "<h2 class=\"\(style)\">\(mark) \(markupEscaped(result.scenario.name))</h2>\n"
            html += "<p>\(markupEscaped(result.scenario.source.file)) · \(String(format: "%.2f", result.seconds)) s</p>\n"
            if let reason = result.skipped { html += "<p>skipped: \(markupEscaped(reason))</p>\n" }
            if let error = result.error { html += "<p class=\"failure\">\(markupEscaped(error))</p>\n" }
            if result.skipped == nil && result.error == nil { html += expectations(result) }
            for failure in result.failures { html += "<p class=\"failure\">\(markupEscaped(failure.description))</p>\n" }
            if let observations = result.observations { html += timeline(observations, involved: Set(result.failures.flatMap(\.records))) }
        }
        return html + "</body></html>\n"
    }

    /// Each expectation the scenario declares, with whether it held.
    private static func expectations(_ result: ScenarioResult) -> String {
        guard !result.scenario.expectations.isEmpty else { return "" }
        var html = "<ul class=\"expectations\">\n"
        for expectation in result.scenario.expectations {
            let failed = result.failures.contains { $0.location == expectation.location }
            html += "<li class=\"\(failed ? "fail" : "pass")\">\(failed ? "✘" : "✔") \(markupEscaped(expectation.value.label))"
                + " <span class=\"legend\">(\(markupEscaped(expectation.location.description)))</span></li>\n"
        }
        return html + "</ul>\n"
    }

    private static func timeline(_ o: Observations, involved: Set<Int>) -> String {
        let attempts = o.attempts
        guard let t0 = attempts.map(\.start).min(), let t1 = attempts.map(\.end).max(), t1 > t0 else { return "<p>No invocations.</p>\n" }
        let lanes = Dictionary(grouping: attempts) { "\($0.service)/\($0.handler) \($0.key.isEmpty ? "(no key)" : "key " + $0.key)" }
            .sorted { $0.key.compare($1.key, options: .numeric) == .orderedAscending }
            .map { (name: $0.key, rows: stacked($0.value)) }
        let height = lanes.reduce(0) { $0 + $1.rows.count * rowHeight + laneGap }
        let scale = width / Double(t1 - t0)
        var svg = "<svg width=\"\(Int(width) + labelWidth + 10)\" height=\"\(height + 24)\">\n"
        var y = 4
        for lane in lanes {
            svg += "<text x=\"4\" y=\"\(y + 10)\">\(markupEscaped(String(lane.name.prefix(32))))</text>\n"
            for (row, runs) in lane.rows.enumerated() {
                for run in runs {
                    let x = Double(labelWidth) + Double(run.start - t0) * scale
                    let w = max(1.0, Double(run.end - run.start) * scale)
                    let produced = o.record(of: run)
                    let record = produced.map { "record #\($0.index) \($0.topic)/\($0.partition)@\($0.offset)" } ?? run.invocationID
                    let outline = produced.map { involved.contains($0.index) } == true ? "class=\"involved\" stroke=\"#000\" stroke-width=\"2\" " : ""
                    svg += "<rect \(outline)x=\"\(String(format: "%.1f", x))\" y=\"\(y + row * rowHeight)\" width=\"\(String(format: "%.1f", w))\" height=\"\(rowHeight - 3)\" "
                        + "fill=\"\(Self.colour(of: run.outcome))\" opacity=\"0.75\"><title>\(markupEscaped(record)) attempt \(run.attempt) "
                        + "\(run.end - run.start) µs, payload \(markupEscaped(String(run.payload.prefix(60))))</title></rect>\n"
                }
            }
            y += lane.rows.count * rowHeight + laneGap
            svg += "<line x1=\"0\" x2=\"\(Int(width) + labelWidth + 10)\" y1=\"\(y - 1)\" y2=\"\(y - 1)\" stroke=\"#eee\"/>\n"
        }
        svg += "<text x=\"\(labelWidth)\" y=\"\(y + 16)\">0 ms</text>"
        svg += "<text x=\"\(labelWidth + Int(width) - 60)\" y=\"\(y + 16)\">\(String(format: "%.0f", Double(t1 - t0) / 1000)) ms</text>\n"
        return svg + "</svg>\n"
    }

    /// Rows for one lane's attempts: each goes on the first row free at its start, so attempts
    /// that overlapped never share a row. O(attempts × rows), rows being the lane's parallelism.
    /// Green completed, red failed, amber suspended (a real handler waiting on a timer or a call).
    private static func colour(of outcome: RecordedInvocation.Outcome) -> String {
        switch outcome {
        case .completed: "#2da44e"
        case .failed: "#cf222e"
        case .suspended: "#bf8700"
        }
    }

    private static func stacked(_ runs: [RecordedInvocation]) -> [[RecordedInvocation]] {
        var rows: [[RecordedInvocation]] = []
        var rowEnds: [Int64] = []
        for run in runs.sorted(by: { $0.start < $1.start }) {
            if let free = rowEnds.firstIndex(where: { $0 <= run.start }) {
                rows[free].append(run)
                rowEnds[free] = run.end
            } else {
                rows.append([run])
                rowEnds.append(run.end)
            }
        }
        return rows
    }

    private static func skippedNote(_ results: [ScenarioResult]) -> String {
        let skipped = results.filter { $0.skipped != nil }.count
        return skipped == 0 ? "" : ", \(skipped) skipped (not possible on this target)"
    }
}
