import Foundation
import HarnessTestSupport
import Recorder
import ScenarioRunner
import Scenarios
import ScenarioTesting
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// Scenarios whose services are real deployments (the official Python SDK), observed through
/// the recorder's pass-through. The library's SDK scenarios (30–35) run in ScenarioRunnerTests.
@Suite("Scenarios with real deployments", .guarded)
struct RealDeploymentTests {
    @Test("a deployment given by URL is recorded through the pass-through: completed and suspended attempts, headers, outputs; calls read its state")
    func deploymentByURL() async throws {
        try await withSDKEndpoint { url in
            let result = await expectScenario(Scenario("SDK counter by URL") {
                Deployment("fixture", url: url.absoluteString)
                Topic("adds", partitions: 2)
                Topic("late", partitions: 1)
                Subscribe("adds", topic: "adds", sink: "Counter/add")
                Subscribe("late", topic: "late", sink: "Counter/add_later")
                Produce(topic: "adds", count: 12, key: "c-{i % 3}", value: "1")
                Produce(topic: "late", count: 2, key: "sleepy", value: #"{"ms": 200, "n": 5}"#)
                Wait(invocations: 14)
                // Counter/add with 0 answers the total without changing it.
                Call("Counter/add", key: "c-1", input: "0", output: "4")
                Call("Counter/add", key: "sleepy", input: "0", output: "10")
                Expect.orderedPerKey("adds")
                Expect.exactlyOnce("adds")
                Expect.exactlyOnce("late")
                Expect.headersMatchRecords("adds")
                Expect.finalOutputs(["c-0": "4", "c-2": "4"], "adds")
            })
            #expect(result.passed)
            let attempts = try #require(result.observations?.attempts)
            // The sleeps suspended their first attempts: the pass-through saw and recorded that.
            let late = attempts.filter { $0.handler == "add_later" }
            #expect(late.filter { $0.outcome == .suspended }.count >= 2, "\(late.map { "\($0.attempt) \($0.outcome)" })")
            #expect(late.filter { $0.outcome == .completed }.map(\.output).sorted() == ["10", "5"])
            // The calls went through the same pass-through (no subscription header).
            #expect(attempts.filter { $0.headers["restate.subscription.id"] == nil && $0.outcome == .completed }.count == 2)
        }
    }

    @Test("a deployment that cannot start, or starts without printing its URL, fails the scenario saying which and what it printed")
    func deploymentThatDoesNotStart() async throws {
        let missing = await ScenarioRunner().run(Scenario("no such program") {
            Deployment("ghost", command: ["no-such-program-\(UUID().uuidString.prefix(8))", "--serve"])
            Subscribe("s", topic: "t", sink: "Ghost/h")
        })
        #expect(missing.error?.contains("deployment 'ghost'") == true && missing.error?.contains("is not on PATH") == true, "\(missing.error ?? "")")

        let silent = await ScenarioRunner().run(Scenario("exits at once") {
            Deployment("quiet", command: ["sh", "-c", "echo listening nowhere; exit 3"])
            Subscribe("s", topic: "t", sink: "Quiet/h")
        })
        let error = try #require(silent.error)
        #expect(error.contains("deployment 'quiet'") && error.contains("exited with status 3") && error.contains("listening nowhere"), "\(error)")
    }

    @Test("a call that never answers as expected fails at its line, quoting the last answer; a sink the deployment lacks is the ingress's refusal")
    func callAndSinkFailures() async throws {
        try await withSDKEndpoint { url in
            let line = #line + 6
            let result = await ScenarioRunner().run(Scenario("wrong total") {
                Deployment("fixture", url: url.absoluteString)
                Subscribe("adds", topic: "adds", sink: "Counter/add")
                Produce(topic: "adds", count: 2, key: "k", value: "1")
                Wait(invocations: 2)
                Call("Counter/add", key: "k", input: "0", output: "3", timeoutMs: 500)
            })
            let error = try #require(result.error)
            #expect(result.errorLocation?.line == line, "\(error)")
            #expect(error.contains("POST /Counter/k/add") && error.contains("did not answer HTTP 200: 3 within 500 ms; last answer: HTTP 200: 2"), "\(error)")

            let unknown = await ScenarioRunner().run(Scenario("no such handler") {
                Deployment("fixture", url: url.absoluteString)
                Subscribe("s", topic: "t", sink: "Counter/multiply")
            })
            #expect(unknown.error?.contains("creating subscription 's'") == true && unknown.error?.contains("multiply") == true, "\(unknown.error ?? "")")
        }
    }
}
