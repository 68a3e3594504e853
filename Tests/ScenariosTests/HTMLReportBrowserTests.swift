import Foundation
import HarnessTestSupport
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

    @Test("the check sees what a page logs to the console")
    func consoleIsSeen() async throws {
        let (_, console) = try await Self.load("<!doctype html><html><body><script>console.error('boom')</script></body></html>")
        #expect(console.count == 1 && console.first?.contains("boom") == true, "\(console)")
    }
}
