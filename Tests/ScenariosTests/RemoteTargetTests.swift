import Foundation
import HarnessTestSupport
import Scenarios
import Testing

/// The `restate` target (an external ingress reached through its admin API), exercised against
/// the `harness ingress` binary as that external ingress.
@Suite("Remote target", .guarded)
struct RemoteTargetTests {
    @Test("the library passes against harness ingress reached over its admin API (or is skipped, with the reason)",
          arguments: ScenarioRunnerTests.libraryFiles)
    func againstHarnessIngress(file: String) async throws {
        try await withReservedPort { brokerPort in
            let dir = NSTemporaryDirectory() + "remote-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try """
                [[ingress.kafka-clusters]]
                name = "harness"
                brokers = ["PLAINTEXT://127.0.0.1:\(brokerPort)"]
                "auto.offset.reset" = "earliest"
                "topic.metadata.refresh.interval.ms" = "500"
                "session.timeout.ms" = "6000"
                "heartbeat.interval.ms" = "100"
                """.write(toFile: dir + "/restate.toml", atomically: true, encoding: .utf8)
            try await withIngressProcess(arguments: ["--config", dir + "/restate.toml", "--data-dir", dir + "/data"]) { ingress in
                let scenario = try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent(file).path)
                let runner = ScenarioRunner(target: .remote(adminURL: ingress.adminURL, kafkaCluster: "harness", advertisedHost: "127.0.0.1", brokerPort: brokerPort), concurrency: ScenarioRunnerTests.concurrency)
                let result = await runner.run(scenario)
                #expect(result.error == nil, "\(result.error ?? "")")
                #expect(result.failures.isEmpty, "\(result.failures.map(\.description))")
                let needsEmbedded = scenario.steps.contains { step in
                    switch step.value {
                    case .restartIngress, .ingressInstances: true
                    default: false
                    }
                } || !scenario.additionalClusters.isEmpty
                #expect((result.skipped != nil) == needsEmbedded, "\(result.skipped ?? "ran")")
                if !needsEmbedded { #expect(!(result.observations?.attempts.isEmpty ?? true)) }
            }
        }
    }
}
