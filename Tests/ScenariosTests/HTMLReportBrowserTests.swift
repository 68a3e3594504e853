import Foundation
import HarnessTestSupport
import PlantedDefects
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// The HTML report as a browser loads it: Debian's Chromium, headless, reading the file.
@Suite("HTML report in a browser", .guarded)
struct HTMLReportBrowserTests {
    /// The page's DOM as Chromium built it, and the console messages it logged.
    static func load(_ html: String) async throws -> (dom: String, console: [String]) {
        let file = NSTemporaryDirectory() + uniqueName("report") + ".html"
        try html.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // Installed by scripts/setup.sh (make test); a missing browser fails here, by name.
        return try await withChildProcess("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                                                     "--dump-dom", "file://\(file)"]) { browser in
            let status = await browser.waitForExit(timeout: .seconds(60))
            try #require(status == 0, "chromium exited with \(status.map(String.init) ?? "nothing (still running)"): \(browser.outputText)")
            let console = browser.outputText.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
            return (browser.outputText, console)
        }
    }

    @Test("a report with passed and failed scenarios loads without console messages; the timeline and the outlined records are in the DOM")
    func loads() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: in a browser
            services: [{name: O, kind: object, handlers: [{name: h}]}]
            subscriptions: [{name: o, topic: t, sink: O/h}]
            steps:
              - produce: {topic: t, count: 6, key: "k{i % 2}", value: "<{i}> & \\"quoted\\""}
              - wait: {invocations: 6, subscription: o}
            expect:
              - ordered_per_key: o
              - final_outputs: {subscription: o, outputs: {k1: "wrong"}}
            """, file: "browser.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let (dom, console) = try await Self.load(HTMLReport.render([result]))
        #expect(console.isEmpty, "\(console)")
        #expect(dom.contains("<svg"), "the timeline")
        #expect(dom.contains(#"<rect class="involved""#), "the record the failure names is outlined")
        #expect(dom.contains("✘ final_outputs o") && dom.contains("✔ ordered_per_key o"))
    }

    @Test("the timeline marks every step and fault (with how often it acted), waits, partitions, and the moment a count failed")
    func stepsAndFaults() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: marked
            topics: [{name: t, partitions: 2}]
            services: [{name: O, kind: object, handlers: [{name: h, latency_ms: 5}]}]
            subscriptions: [{name: o, topic: t, sink: O/h}]
            steps:
              - fault: {inject: {api: Fetch, delay_ms: 50, times: 2}}
              - produce: {topic: t, count: 6, key: "k{i % 3}"}
              - wait: {invocations: 6, subscription: o}
            expect:
              - invocation_count: {subscription: o, count: 7}
            """, file: "marked.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let steps = try #require(result.observations?.steps)
        #expect(steps.map(\.location.line) == [6, 7, 8])
        #expect(steps[0].fired == 2 && steps[0].isFault && steps[2].deadline != nil)
        let (dom, console) = try await Self.load(HTMLReport.render([result]))
        #expect(console.isEmpty, "\(console)")
        #expect(dom.contains(#"<g class="fault-marker">"#) && dom.contains("L6 inject") && dom.contains("×2"), "the fault, and how often it acted")
        #expect(dom.matches(of: /<g class="step-marker">/).count == 2, "the produce and the wait")
        #expect(dom.contains(#"<rect class="wait""#), "the wait's band")
        #expect(dom.contains(#"<g class="failure-marker">"#) && dom.contains("✘ invocation_count 7 o"), "the count failure at the moment it was checked")
        #expect(dom.contains(">t/0<") || dom.contains(">t/1<"), "the partition beside the key")
    }

    @Test("the kill matrix page loads without console messages")
    func killMatrix() async throws {
        let scenario = Scenario(name: "s", source: SourceLocation(file: "s.yaml", line: 1, column: 1))
        var row = KillMatrix.Row(clean: ScenarioResult(scenario: scenario))
        row.verdicts = [.invokeTwice: .caught(expectation: "exactly_once s", location: SourceLocation(file: "s.yaml", line: 9, column: 5), message: "were invoked more than once"),
                        .dropOffsetHeader: .missed, .runWorkflowTwice: .notApplicable("no workflow")]
        let matrix = KillMatrix(defects: [.invokeTwice, .dropOffsetHeader, .runWorkflowTwice], rows: [row], seconds: 1)
        let (dom, console) = try await Self.load(MutationReport.html(matrix))
        #expect(console.isEmpty, "\(console)")
        #expect(dom.contains(#"<td class="caught" title="caught by exactly_once s at s.yaml:9:5: were invoked more than once">caught:9</td>"#), "\(dom)")
        #expect(dom.contains(#"<td class="missed""#) && dom.contains("Not caught: drop_offset_header, run_workflow_twice"))
    }

    @Test("the check sees what a page logs to the console")
    func consoleIsSeen() async throws {
        let (_, console) = try await Self.load("<!doctype html><html><body><script>console.error('boom')</script></body></html>")
        #expect(console.count == 1 && console.first?.contains("boom") == true, "\(console)")
    }
}
