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
    static let labelWidth = 320

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
            Bars outlined in black are the records a failed expectation names. Hover a bar for its record and attempt.
            Every step is a labelled line at the moment it acted (L = its line in the file): grey dashed for produce, waits and
            the like, orange for FakeKafka faults (×N: how many requests the fault acted on), ⚑ for faults an exploration placed;
            a wait is a blue band up to when its condition held, its deadline a dotted blue line when it falls inside the run.
            A red line at the end names each failed expectation, checked once the steps were done.</p>

            """
        for result in results {
            let (style, mark) = result.skipped != nil ? ("skip", "–") : result.passed ? ("pass", "✔") : ("fail", "✘")
            html += "<h2 class=\"\(style)\">\(mark) \(markupEscaped(result.scenario.name))</h2>\n"
            html += "<p>\(markupEscaped(result.scenario.source.file)) · \(String(format: "%.2f", result.seconds)) s</p>\n"
            if let reason = result.skipped { html += "<p>skipped: \(markupEscaped(reason))</p>\n" }
            if let error = result.error { html += "<p class=\"failure\">\(markupEscaped(error))</p>\n" }
            if let exploration = result.exploration { html += explorationRuns(exploration) }
            if result.skipped == nil && result.error == nil { html += expectations(result) }
            for failure in result.failures { html += "<p class=\"failure\">\(markupEscaped(failure.description))</p>\n" }
            if let observations = result.observations { html += timeline(observations, failures: result.failures, involved: Set(result.failures.flatMap(\.records))) }
        }
        return html + "</body></html>\n"
    }

    /// The faults each run of an exploration placed; the timeline below is the last run's.
    private static func explorationRuns(_ exploration: ExplorationOutcome) -> String {
        var html = "<p>Exploration, seed \(exploration.seed): \(exploration.runs) run(s)"
            + (exploration.failedRun.map { ", run \($0 + 1) failed" } ?? ", all passed") + ". The timeline is the last run's.</p>\n<ol class=\"expectations\">\n"
        for (run, faults) in exploration.faultsPerRun.enumerated() {
            let failed = run == exploration.failedRun
            html += "<li class=\"\(failed ? "fail" : "pass")\">run \(run + 1): \(markupEscaped(faults.isEmpty ? "no faults placed" : faults.joined(separator: "; ")))</li>\n"
        }
        if let replay = exploration.replayFile { html += "<li>replay: harness run \(markupEscaped(replay))</li>\n" }
        return html + "</ol>\n"
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

    private static func timeline(_ o: Observations, failures: [ExpectationFailure] = [], involved: Set<Int>) -> String {
        let attempts = o.attempts
        let steps = o.steps
        let starts = attempts.map(\.start) + steps.map(\.start), ends = attempts.map(\.end) + steps.map(\.end)
        guard let t0 = starts.min(), let t1 = ends.max(), t1 > t0 else { return "<p>No invocations.</p>\n" }
        // A lane per handler, key and partition: where the records were read from is in a column
        // of its own, next to the key.
        let lanes = Dictionary(grouping: attempts) { run -> Lane in
            Lane(name: "\(run.service)/\(run.handler) \(run.key.isEmpty ? "(no key)" : "key " + run.key)",
                 source: o.record(of: run).map { "\($0.topic)/\($0.partition)" } ?? "")
        }
            .sorted { ($0.key.name + " " + $0.key.source).compare($1.key.name + " " + $1.key.source, options: .numeric) == .orderedAscending }
            .map { (lane: $0.key, rows: stacked($0.value)) }
        let scale = width / Double(t1 - t0)
        func x(_ t: Int64) -> Double { Double(labelWidth) + Double(t - t0) * scale }
        // Every failed expectation is drawn at the end of the run, when it was checked: a count
        // outlines all the records it counted, so the outlines alone do not say what failed.
        let checked = failures
        let markers = steps.map { (x: x($0.start), text: markerText($0)) } + checked.map { (x: x(t1), text: "✘ " + $0.expectation) }
        // Labels of steps go on header rows, each on the first row where it does not cover another.
        var rowEnds: [Double] = []
        var labelRow: [Int] = []
        for marker in markers {
            let widthEstimate = Double(marker.text.count) * 6.2 + 6
            if let free = rowEnds.firstIndex(where: { $0 <= marker.x }) {
                rowEnds[free] = marker.x + widthEstimate
                labelRow.append(free)
            } else {
                rowEnds.append(marker.x + widthEstimate)
                labelRow.append(rowEnds.count - 1)
            }
        }
        let header = rowEnds.count * 13 + 6
        let height = header + lanes.reduce(0) { $0 + $1.rows.count * rowHeight + laneGap }
        let totalWidth = Int(width) + labelWidth + 260
        var svg = "<svg class=\"timeline\" width=\"\(totalWidth)\" height=\"\(height + 24)\">\n"
        // Waits first, beneath everything: a band from the step's start to its end.
        for step in steps where step.deadline != nil {
            svg += "<rect class=\"wait\" x=\"\(format(x(step.start)))\" y=\"0\" width=\"\(format(max(1, x(step.end) - x(step.start))))\" height=\"\(height)\" fill=\"#0969da\" opacity=\"0.06\">"
                + "<title>\(markupEscaped(step.label)): \(format(Double(step.end - step.start) / 1000)) ms of \(format(Double(step.deadline! - step.start) / 1000)) ms allowed</title></rect>\n"
            if let deadline = step.deadline, deadline <= t1 {
                svg += "<line class=\"deadline\" x1=\"\(format(x(deadline)))\" x2=\"\(format(x(deadline)))\" y1=\"0\" y2=\"\(height)\" stroke=\"#0969da\" stroke-dasharray=\"2,3\"><title>deadline of \(markupEscaped(step.label))</title></line>\n"
            }
        }
        var y = header
        for lane in lanes {
            svg += "<text x=\"4\" y=\"\(y + 10)\">\(markupEscaped(String(lane.lane.name.prefix(36))))</text>"
                + "<text class=\"source\" x=\"\(labelWidth - 86)\" y=\"\(y + 10)\" fill=\"#57606a\">\(markupEscaped(String(lane.lane.source.suffix(14))))</text>\n"
            for (row, runs) in lane.rows.enumerated() {
                for run in runs {
                    let w = max(1.0, Double(run.end - run.start) * scale)
                    let produced = o.record(of: run)
                    let record = produced.map { "record #\($0.index) \($0.topic)/\($0.partition)@\($0.offset)" } ?? run.invocationID
                    let outline = produced.map { involved.contains($0.index) } == true ? "class=\"involved\" stroke=\"#000\" stroke-width=\"2\" " : ""
                    svg += "<rect \(outline)x=\"\(format(x(run.start)))\" y=\"\(y + row * rowHeight)\" width=\"\(format(w))\" height=\"\(rowHeight - 3)\" "
                        + "fill=\"\(Self.colour(of: run.outcome))\" opacity=\"0.75\"><title>\(markupEscaped(record)) attempt \(run.attempt) "
                        + "\(run.end - run.start) µs, payload \(markupEscaped(String(run.payload.prefix(60))))</title></rect>\n"
                }
            }
            y += lane.rows.count * rowHeight + laneGap
            svg += "<line x1=\"0\" x2=\"\(totalWidth)\" y1=\"\(y - 1)\" y2=\"\(y - 1)\" stroke=\"#eee\"/>\n"
        }
        // Then every step and failure: a labelled line at the moment it acted or was checked.
        for (n, marker) in markers.enumerated() {
            let isFailure = n >= steps.count
            let isFault = !isFailure && steps[n].isFault
            let colour = isFailure ? "#cf222e" : isFault ? "#bc4c00" : "#57606a"
            let labelY = labelRow[n] * 13 + 11
            svg += "<g class=\"\(isFailure ? "failure-marker" : isFault ? "fault-marker" : "step-marker")\">"
                + "<line x1=\"\(format(marker.x))\" x2=\"\(format(marker.x))\" y1=\"\(labelY - 9)\" y2=\"\(height)\" stroke=\"\(colour)\" stroke-width=\"\(isFailure ? 2 : 1)\"\(isFault || isFailure ? "" : " stroke-dasharray=\"4,2\"")/>"
                + "<text x=\"\(format(marker.x + 2))\" y=\"\(labelY)\" fill=\"\(colour)\">\(markupEscaped(marker.text))</text>"
                + "<title>\(markupEscaped(isFailure ? checked[n - steps.count].description : steps[n].location.description + ": " + marker.text))</title></g>\n"
        }
        svg += "<text x=\"\(labelWidth)\" y=\"\(y + 16)\">0 ms</text>"
        svg += "<text x=\"\(labelWidth + Int(width) - 60)\" y=\"\(y + 16)\">\(String(format: "%.0f", Double(t1 - t0) / 1000)) ms</text>\n"
        return svg + "</svg>\n"
    }

    /// A timeline lane: handler and key, and the topic/partition its records came from.
    private struct Lane: Hashable {
        var name: String
        var source: String
    }

    /// A step's label on the timeline: its line, what it did, how often a fault acted.
    private static func markerText(_ step: StepRecord) -> String {
        var text = "L\(step.location.line) \(step.label)"
        if step.explored { text = "⚑ " + text }
        if let fired = step.fired { text += " ×\(fired)" }
        if step.deadline != nil { text += " (\(format(Double(step.end - step.start) / 1000)) ms)" }
        return text
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

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
