import Foundation
import Recorder

/// A self-contained HTML page: per scenario, its result and a timeline with one lane per key and
/// handler, each attempt a bar (green completed, red failed), so ordering and overlap show at a glance.
public enum HTMLReport {
    static let laneHeight = 14
    static let width = 1000.0
    static let labelWidth = 220

    public static func render(_ results: [ScenarioResult]) -> String {
        var html = """
            <!doctype html><html><head><meta charset="utf-8"><title>Scenario report</title><style>
            body{font:13px system-ui,sans-serif;margin:24px} h2{margin:28px 0 4px} .pass{color:#1a7f37} .fail{color:#cf222e} .skip{color:#6e7781}
            .failure{font-family:monospace;white-space:pre-wrap;color:#cf222e} svg{border:1px solid #ddd;background:#fafafa}
            text{font:11px monospace}</style></head><body>
            <h1>Scenario report</h1>
            <p>\(results.filter { $0.passed && $0.skipped == nil }.count) of \(results.count) scenarios passed\(skippedNote(results)).</p>

            """
        for result in results {
            let (style, mark) = result.skipped != nil ? ("skip", "–") : result.passed ? ("pass", "✔") : ("fail", "✘")
            html += "<h2 class=\"\(style)\">\(mark) \(markupEscaped(result.scenario.name))</h2>\n"
            html += "<p>\(markupEscaped(result.scenario.source.file)) · \(String(format: "%.2f", result.seconds)) s</p>\n"
            if let reason = result.skipped { html += "<p>skipped: \(markupEscaped(reason))</p>\n" }
            if let error = result.error { html += "<p class=\"failure\">\(markupEscaped(error))</p>\n" }
            for failure in result.failures { html += "<p class=\"failure\">\(markupEscaped(failure.description))</p>\n" }
            if let observations = result.observations { html += timeline(observations) }
        }
        return html + "</body></html>\n"
    }

    private static func timeline(_ o: Observations) -> String {
        let attempts = o.attempts
        guard let t0 = attempts.map(\.start).min(), let t1 = attempts.map(\.end).max(), t1 > t0 else { return "<p>No invocations.</p>\n" }
        let lanes = Dictionary(grouping: attempts) { "\($0.service)/\($0.handler) \($0.key.isEmpty ? "(no key)" : "key " + $0.key)" }
            .sorted { $0.key < $1.key }
        let scale = width / Double(t1 - t0)
        var svg = "<svg width=\"\(Int(width) + labelWidth + 10)\" height=\"\(lanes.count * laneHeight + 20)\">\n"
        for (row, (lane, runs)) in lanes.enumerated() {
            let y = row * laneHeight + 4
            svg += "<text x=\"4\" y=\"\(y + 10)\">\(markupEscaped(String(lane.prefix(32))))</text>\n"
            for run in runs {
                let x = Double(labelWidth) + Double(run.start - t0) * scale
                let w = max(1.0, Double(run.end - run.start) * scale)
                let record = o.record(of: run).map { "record #\($0.index) \($0.topic)/\($0.partition)@\($0.offset)" } ?? run.invocationID
                svg += "<rect x=\"\(String(format: "%.1f", x))\" y=\"\(y)\" width=\"\(String(format: "%.1f", w))\" height=\"\(laneHeight - 3)\" "
                    + "fill=\"\(run.outcome == "completed" ? "#2da44e" : "#cf222e")\" opacity=\"0.75\"><title>\(markupEscaped(record)) attempt \(run.attempt) "
                    + "\(run.end - run.start) µs, payload \(markupEscaped(String(run.payload.prefix(60))))</title></rect>\n"
            }
        }
        svg += "<text x=\"\(labelWidth)\" y=\"\(lanes.count * laneHeight + 16)\">0 ms</text>"
        svg += "<text x=\"\(labelWidth + Int(width) - 60)\" y=\"\(lanes.count * laneHeight + 16)\">\(String(format: "%.0f", Double(t1 - t0) / 1000)) ms</text>\n"
        return svg + "</svg>\n"
    }


    private static func skippedNote(_ results: [ScenarioResult]) -> String {
        let skipped = results.filter { $0.skipped != nil }.count
        return skipped == 0 ? "" : ", \(skipped) skipped (not possible on this target)"
    }
}
