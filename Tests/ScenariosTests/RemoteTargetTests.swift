import Foundation
import HarnessTestSupport
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// The `restate` target (an external ingress reached through its admin API), exercised against
/// the `harness ingress` binary as that external ingress.
@Suite("Remote target", .guarded)
struct RemoteTargetTests {
    @Test("the library passes against harness ingress reached over its admin API (or is skipped, with the reason)",
          arguments: ScenarioRunnerTests.libraryFiles)
    func againstHarnessIngress(file: String) async throws {
        try await withReservedPort { brokerPort in
            let properties = ["auto.offset.reset": "earliest", "topic.metadata.refresh.interval.ms": "500",
                              "session.timeout.ms": "6000", "heartbeat.interval.ms": "100"]
            try await withIngressFiles(cluster: "harness", brokers: "127.0.0.1:\(brokerPort)", properties: properties) { arguments in
                try await withIngressProcess(arguments: arguments + ["--ingress-port", "0"]) { ingress in
                    let scenario = try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent(file).path)
                    // Where `call` steps go: Restate's port 8080 is not this ingress's.
                    let target = ScenarioTarget.remote(adminURL: ingress.adminURL, kafkaCluster: "harness", advertisedHost: "127.0.0.1", brokerPort: brokerPort,
                                                       ingressURL: ingress.ingressURL)
                    let result = await ScenarioRunner(target: target).run(scenario)
                    #expect(result.error == nil, "\(result.error ?? "")")
                    #expect(result.failures.isEmpty, "\(result.failures.map(\.description))")
                    let needsEmbedded = scenario.steps.contains { step in
                        switch step.value {
                        case .restartIngress, .killIngress, .ingressInstances: true
                        default: false
                        }
                    } || !scenario.additionalClusters.isEmpty
                        // A CA generated per run, or credentials meant for the ingress's cluster
                        // properties, cannot be in an external ingress's configuration.
                        || scenario.cluster.effectiveSecurityProtocol.usesTLS || scenario.cluster.sasl?.ingressUser != nil
                        || (!scenario.cluster.properties.isEmpty && !scenario.cluster.registeredAtRuntime)
                    #expect((result.skipped != nil) == needsEmbedded, "\(result.skipped ?? "ran")")
                    if !needsEmbedded { #expect(!(result.observations?.attempts.isEmpty ?? true)) }
                }
            }
        }
    }
}
