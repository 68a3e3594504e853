import EmbeddedIngressTarget
import FakeKafkaTarget
import Foundation
import HarnessTestSupport
import PlantedDefects
import ScenarioRunner
import ScenarioTesting
import Scenarios
import Testing

/// Planted defects as a product feature: the catalogue, `harness run --defect`, the kill matrix,
/// `mutation: none`, and the library catching every defect. The whole matrix is `make mutate`;
/// here each defect runs against the library scenario written to catch it (clean, then planted).
@Suite("Planted defects and the kill matrix", .guarded)
struct MutationTests {
    static func library(_ file: String) throws -> Scenario {
        try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent(file).path)
    }

    static let runner = ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency)

    @Test("the catalogue: snake_case names that read back, a description and a component for each")
    func catalogue() {
        #expect(Set(PlantedDefect.allCases.map(\.name)).count == PlantedDefect.allCases.count)
        for defect in PlantedDefect.allCases {
            #expect(defect.name.allSatisfy { $0.isLowercase || $0 == "_" }, "\(defect.name)")
            #expect(PlantedDefect(name: defect.name) == defect)
            #expect(!defect.summary.isEmpty)
        }
        #expect(PlantedDefect(name: "ignore_key_order") == .ignoreKeyOrder)
        #expect(PlantedDefect(name: "no_such_defect") == nil)
        #expect(PlantedDefect.allCases.filter { $0.component == .broker } == [.staleHighWatermark, .loseLastBatchOnBrokerRestart])
    }

    @Test("a defect goes into the provider of its component; one whose provider cannot plant defects is not applicable")
    func plantedInItsProvider() throws {
        let planted = try #require(ScenarioTarget.embedded.planting([.staleHighWatermark, .ignoreKeyOrder]))
        #expect((planted.kafka as? FakeKafkaProvider)?.defects == [.staleHighWatermark])
        #expect((planted.ingress as? EmbeddedIngressProvider)?.defects == [.ignoreKeyOrder])
        #expect(ScenarioTarget.embedded(defects: [.staleHighWatermark]).kafka.capabilities.contains(.plantedDefects))

        let scenario = try Self.library("01-object-order.yaml")
        let externalKafka = ScenarioTarget(kafka: .external(bootstrapServers: "127.0.0.1:9"), ingress: .embedded())
        #expect(externalKafka.planting([.staleHighWatermark]) == nil)
        #expect(PlantedDefect.staleHighWatermark.notApplicable(to: scenario, target: externalKafka)?.contains("cannot plant defects") == true)
        #expect(PlantedDefect.ignoreKeyOrder.notApplicable(to: scenario, target: externalKafka) == nil)
        let remoteIngress = ScenarioTarget(kafka: .fake(), ingress: .remote(adminURL: "http://127.0.0.1:9", kafkaCluster: "harness", advertisedHost: "127.0.0.1"))
        #expect(remoteIngress.planting([.ignoreKeyOrder]) == nil)
        #expect(PlantedDefect.ignoreKeyOrder.notApplicable(to: scenario, target: remoteIngress)?.contains("cannot plant defects") == true)
        #expect(PlantedDefect.staleHighWatermark.notApplicable(to: scenario, target: remoteIngress) == nil)
    }

    /// Each defect against the library scenario that stands for it: the scenario passes on the
    /// clean build (the defect is inert unless planted) and fails with the defect planted.
    @Test("each defect is caught by the library scenario written for it", arguments: [
        (PlantedDefect.reorderAfterLateQueueSplit, "08-rebalance.yaml"),
        (.loseRecordOnPartitionMove, "08-rebalance.yaml"),
        (.loseKeyOrderAfterRebalance, "08-rebalance.yaml"),
        (.skipCommitOnRevoke, "50-commits-on-revoke-and-delete.yaml"),
        (.deleteWithoutDrainOrCommit, "50-commits-on-revoke-and-delete.yaml"),
        (.neverInvokeAfterRestart, "51-restart-with-backlog.yaml"),
        (.passRecordHeaders, "52-record-headers-and-timestamps.yaml"),
        (.alwaysSendTimestamp, "52-record-headers-and-timestamps.yaml"),
        (.retryNeverPauses, "53-pause-after-retries.yaml"),
        (.pausedKeyMovesOn, "53-pause-after-retries.yaml"),
        (.loseLastBatchOnBrokerRestart, "54-broker-restart-before-subscribe.yaml"),
        (.runWorkflowTwice, "16-shared-and-workflow-handlers.yaml"),
        (.invokeAbortedTransactions, "23-transactions-read-committed.yaml"),
        (.ignoreClusterOptions, "01-object-order.yaml"),
        (.staleHighWatermark, "01-object-order.yaml"),
    ])
    func caught(_ defect: PlantedDefect, file: String) async throws {
        let result = await expectScenario(try Self.library(file), runner: Self.runner, catches: defect)
        #expect(!result.passed, "\(defect.name) should fail \(file)")
        #expect(result.failures.allSatisfy { !$0.message.contains("Optional(") }, "Swift syntax in a message for people: \(result.failures)")
    }

    @Test("expectScenario(catches:) records an issue when the scenario passes with the defect planted")
    func passingWithDefectIsAnIssue() async throws {
        let scenario = Scenario("no expectation about headers") {
            Service("Log", .service) { Handler("append") }
            Subscribe("log", topic: "lines", sink: "Log/append")
            Produce(topic: "lines", count: 5)
            Wait(invocations: 5, subscription: "log")
        }
        await withKnownIssue("the scenario checks no header, so a dropped kafka.offset goes unnoticed") {
            await expectScenario(scenario, runner: Self.runner, catches: .dropOffsetHeader)
        }
    }

    @Test("the kill matrix: caught with the expectation's line, missed, not applicable; a scenario that catches nothing fails the run unless it says why")
    func matrix() async throws {
        let services = try Self.library("02-service-parallelism.yaml")
        var silent = Scenario("checks only that records arrive") {
            Service("Log", .service) { Handler("append") }
            Subscribe("log", topic: "lines", sink: "Log/append")
            Produce(topic: "lines", count: 5)
            Wait(invocations: 5, subscription: "log")
        }
        let testing = MutationTesting(runner: Self.runner, defects: [.invokeTwice, .dropOffsetHeader, .runWorkflowTwice], parallelism: 2)
        let lines = LockedLines()
        var matrix = await testing.run([services, silent]) { lines.append($0) }
        let row = try #require(matrix.rows.first)
        guard case .caught(let expectation, let location, _)? = row.verdicts[.invokeTwice] else {
            Issue.record("invoke_twice: \(row.verdicts[.invokeTwice]?.explanation ?? "no verdict")")
            return
        }
        #expect(expectation.hasPrefix("exactly_once"))
        #expect(location.file.hasSuffix("02-service-parallelism.yaml") && location.line > 0)
        #expect(row.verdicts[.runWorkflowTwice] == .notApplicable("no workflow"))
        #expect(matrix.rows[1].verdicts[.dropOffsetHeader] == .missed)
        #expect(matrix.uncaughtDefects == [.runWorkflowTwice])
        #expect(matrix.scenariosCatchingNothing.map(\.scenario.name) == ["checks only that records arrive"])
        #expect(!matrix.passed)
        #expect(lines.all.contains { $0.hasPrefix("clean: passed") } && lines.all.contains { $0.contains("invoke_twice × ") }, "progress: \(lines.all)")
        let text = MutationReport.text(matrix)
        #expect(text.contains("caught:\(location.line)") && text.contains("MISSED") && text.contains("n/a"), "\(text)")
        #expect(text.contains("Defects no scenario catches: run_workflow_twice"), "\(text)")
        #expect(MutationReport.junit(matrix).contains("<failure message=\"catches no planted defect\">"))
        #expect(MutationReport.html(matrix).contains("<td class=\"missed\""))

        silent.mutationExemption = "a smoke test"
        matrix.rows[1].clean.scenario = silent
        #expect(matrix.scenariosCatchingNothing.isEmpty && matrix.passed)
    }

    @Test("mutation: none needs a comment saying why; any other value is an error")
    func mutationNone() throws {
        let base = "name: smoke\ntopics: [{name: t}]\nservices: [{name: S, kind: service, handlers: [{name: h}]}]\nsubscriptions: [{name: s, topic: t, sink: S/h}]\n"
        let exempt = try ScenarioYAML.parse(base + "mutation: none  # only proves the set-up works\n")
        #expect(exempt.mutationExemption == "only proves the set-up works")
        #expect(try ScenarioYAML.parse(base).mutationExemption == nil)
        let uncommented = #expect(throws: ScenarioFileError.self) { try ScenarioYAML.parse(base + "mutation: none\n") }
        #expect(uncommented?.description.contains("<scenario>:5") == true && uncommented?.description.contains("needs a comment") == true, "\(String(describing: uncommented))")
        let other = #expect(throws: ScenarioFileError.self) { try ScenarioYAML.parse(base + "mutation: all  # no\n") }
        #expect(other?.description.contains("the only value is none") == true, "\(String(describing: other))")
    }

    @Test("harness run --defect with an unknown name lists the valid ones; a known one is planted and caught")
    func command() async throws {
        try await withChildProcess(try harnessBinary(), ["run", "--defect", "no_such_defect", ScenarioRunnerTests.library.path]) { run in
            #expect(await run.waitForExit(timeout: .seconds(60)) != 0)
            #expect(run.outputText.contains("no defect named 'no_such_defect'"), "\(run.outputText)")
            for defect in PlantedDefect.allCases { #expect(run.outputText.contains(defect.name), "\(defect.name) not listed: \(run.outputText)") }
        }
        let file = ScenarioRunnerTests.library.appendingPathComponent("01-object-order.yaml").path
        try await withChildProcess(try harnessBinary(), ["run", "--defect", "ignore_key_order", file]) { run in
            #expect(await run.waitForExit(timeout: .seconds(120)) == 1, "\(run.outputText)")
            #expect(run.outputText.contains("planted: ignore_key_order"), "\(run.outputText)")
            #expect(run.outputText.contains("01-object-order.yaml:") && run.outputText.contains("no_overlap_per_key counter"), "\(run.outputText)")
        }
    }
}

/// Progress lines from concurrent runs.
private final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
