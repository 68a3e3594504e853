import FakeKafka
import Foundation
import HarnessTestSupport
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// `--bootstrap-servers`: the scenario runs on a Kafka the harness did not start, reached only over
/// the wire (librdkafka admin, producer and DescribeGroups). A FakeKafka cluster started apart
/// from the runner stands in for it, so the test sees what the runner created there.
@Suite("External Kafka target", .guarded)
struct ExternalKafkaTargetTests {
    @Test("library scenarios run on an external Kafka, in topics of their own; those needing FakeKafka are skipped with the reason",
          arguments: ScenarioRunnerTests.libraryFiles)
    func library(file: String) async throws {
        let scenario = try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent(file).path)
        try await withCluster(brokers: 1) { external in
            let runner = ScenarioRunner(target: ScenarioTarget(kafka: .external(bootstrapServers: external.bootstrapServers), ingress: .embedded(concurrency: ScenarioRunnerTests.concurrency)))
            let result = await runner.run(scenario)
            #expect(result.error == nil, "\(result.error ?? "")")
            #expect(result.failures.isEmpty, "\(result.failures.map(\.description).joined(separator: "\n"))")
            let usesFaults = scenario.explore != nil || scenario.clusters.contains { $0.sasl != nil }
                || scenario.steps.contains { step in
                    switch step.value {
                    case .fault, .addPartitions: true
                    default: false
                    }
                }
            if usesFaults || !scenario.additionalClusters.isEmpty {
                #expect(result.skipped != nil)
                return
            }
            #expect(result.skipped == nil)
            // The records went to the external cluster, into suffixed copies of the scenario's topics.
            let topics = Set(scenario.subscriptions.map(\.topic))
            let created = external.topics.keys.filter { name in topics.contains { name.hasPrefix($0 + "-") } }
            #expect(created.count >= topics.count, "topics on the external cluster: \(external.topics.keys.sorted())")
            #expect(!external.topics.keys.contains { topics.contains($0) }, "a scenario topic was used without the run's suffix")
        }
    }

    @Test("a second run on the same external Kafka does not see the first run's records")
    func runsAreIsolated() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: isolated
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, count: 10}
              - wait: {invocations: 10, subscription: s}
            expect:
              - invocation_count: {subscription: s, count: 10}
              - exactly_once: s
            """)
        try await withCluster { external in
            let runner = ScenarioRunner(target: ScenarioTarget(kafka: .external(bootstrapServers: external.bootstrapServers), ingress: .embedded(concurrency: ScenarioRunnerTests.concurrency)))
            for _ in 0..<2 {
                let result = await runner.run(scenario)
                #expect(result.passed && result.skipped == nil, "\(result.error ?? "") \(result.failures)")
            }
            #expect(external.topics.keys.filter { $0.hasPrefix("t-") }.count == 2)
        }
    }
}
