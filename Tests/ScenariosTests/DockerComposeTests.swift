import Foundation
import HarnessTestSupport
import KafkaIngress
import Testing
import Yams

/// docker/compose.yaml cannot run here (no Docker engine in CI), so this checks what our own code
/// can: Restate's cluster list is valid configuration, and every harness command in the file is
/// accepted by `harness run` (with --dry-run, against the repository's scenarios).
@Suite("docker/compose.yaml", .guarded)
struct DockerComposeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func services() throws -> [String: [String: Any]] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docker/compose.yaml"), encoding: .utf8)
        let compose = try #require(try Yams.load(yaml: text) as? [String: Any])
        return try #require(compose["services"] as? [String: [String: Any]])
    }

    @Test("Restate's Kafka clusters (environment variable) parse, naming the brokers the other services provide")
    func restateClusters() throws {
        let restate = try #require(try services()["restate"])
        let environment = try #require(restate["environment"] as? [String: String])
        let configuration = try IngressConfiguration.load(file: nil, environment: environment)
        #expect(configuration.kafkaClusters.map(\.name) == ["kafka", "fake"])
        #expect(configuration.kafkaClusters.map(\.brokers) == [["kafka:9092"], ["harness-fake:9092"]])
    }

    @Test("every harness command in the file is a valid harness run invocation", arguments: ["harness", "harness-fake", "harness-local"])
    func harnessCommand(service: String) async throws {
        let command = try #require(try services()[service]?["command"] as? String)
        var arguments = command.split(separator: " ").map(String.init).map { $0 == "/scenarios" ? Self.root.appendingPathComponent("scenarios").path : $0 }
        arguments.append("--dry-run")
        let harness = try await ChildProcess.start(try harnessBinary(), arguments)
        let status = await harness.waitForExit(timeout: .seconds(60))
        let text = harness.outputText
        #expect(status == 0, "harness \(arguments.joined(separator: " ")):\n\(text)")
        #expect(text.contains("would run"), "\(text)")
    }
}
