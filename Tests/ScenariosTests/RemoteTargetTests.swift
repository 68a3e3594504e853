import Foundation
import HarnessTestSupport
import Scenarios
import Testing

/// The `restate` target (an external ingress reached through its admin API), exercised against
/// the `harness ingress` binary as that external ingress.
@Suite("Remote target", .timeLimit(.minutes(3)))
struct RemoteTargetTests {
    @Test("the library passes against harness ingress reached over its admin API (or is skipped, with the reason)",
          arguments: ScenarioRunnerTests.libraryFiles)
    func againstHarnessIngress(file: String) async throws {
        let brokerPort = try freePort()
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
        let ingress = try IngressProcess(arguments: ["--config", dir + "/restate.toml", "--data-dir", dir + "/data"])
        defer { ingress.kill() }

        let scenario = try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent(file).path)
        let runner = ScenarioRunner(target: .remote(adminURL: ingress.adminURL, kafkaCluster: "harness", advertisedHost: "127.0.0.1", brokerPort: brokerPort))
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

    /// A port nothing listens on right now (bound to 0, read, released).
    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ProcessStartError(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
