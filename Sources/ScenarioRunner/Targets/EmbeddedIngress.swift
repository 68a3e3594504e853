import PlantedDefects
import Scenarios
import AsyncHTTPClient
import Foundation
import KafkaIngress
import Logging
import NIOCore
import NIOHTTP1

/// `KafkaIngress` in this process, on its own temporary journal.
final class EmbeddedIngress: IngressTarget, @unchecked Sendable {
    // Mutated only by `restart`, which the runner calls between steps, never concurrently.
    private var ingress: KafkaIngress
    /// Nodes of the embedded cluster (`instances: N`); kept across restarts.
    private var nodes = 1
    private let configuration: IngressConfiguration
    private let dataDirectory = NSTemporaryDirectory() + "scenario-" + UUID().uuidString
    private let options: Options
    /// Restate's HTTP ingress in front of `ingress`, started by the first `call` step.
    private var httpIngress: (server: Task<Void, Error>, url: String)?

    struct Options: Sendable {
        var defects: Set<PlantedDefect>
        var concurrency: Int
        var retry: RetryPolicySpec?
    }

    /// A Kafka cluster as the ingress's configuration names it.
    struct Cluster {
        var bootstrapServers: String
        /// Added to the quick loopback settings: security.protocol, ssl.*, sasl.*.
        var properties: [String: String]
    }

    /// `clusters`: by scenario cluster name; the ingress knows them by those names.
    init(clusters: [String: Cluster], options: Options) async throws {
        configuration = IngressConfiguration(kafkaClusters: clusters.sorted { $0.key < $1.key }.map { name, cluster in
            KafkaClusterConfiguration(name: name, brokers: [cluster.bootstrapServers],
                                      properties: Self.clusterProperties.merging(cluster.properties) { $1 })
        })
        self.options = options
        ingress = try Self.make(configuration, dataDirectory, options)
        try await ingress.start()
    }

    private static var clusterProperties: [String: String] {
        var properties = KafkaClusterConfiguration.quickOnLoopback
        // librdkafka's syslog levels: 0 quiet, 3 errors, 4 warnings, 6 info, 7 debug.
        properties["log_level"] = switch ScenarioLog.level {
        case nil: "0"
        case .trace?, .debug?: "7"
        case .info?, .notice?: "6"
        case .warning?: "4"
        default: "3"
        }
        return properties
    }

    private static func make(_ configuration: IngressConfiguration, _ dataDirectory: String, _ options: Options, nodes: Int = 1) throws -> KafkaIngress {
        var logger = Logger(label: "ingress")
        logger.logLevel = ScenarioLog.level ?? .critical
        return try KafkaIngress(settings: .init(configuration: configuration, dataDirectory: dataDirectory, concurrency: options.concurrency, nodes: nodes,
                                                retry: options.retry.map(RetryPolicy.init) ?? RetryPolicy(), defects: options.defects), logger: logger)
    }

    func registerDeployment(url: String) async throws { _ = try await ingress.registerDeployment(uri: url) }

    /// With the quick loopback settings the configured clusters get, so that only the way the
    /// cluster is known differs. It lives in the journal: a restart keeps it.
    func registerKafkaCluster(name: String, bootstrapServers: String, properties: [String: String]) async throws {
        _ = try await ingress.createKafkaCluster(name: name, properties: Self.clusterProperties.merging(properties) { $1 }
            .merging(["bootstrap.servers": bootstrapServers]) { $1 })
    }

    func httpIngressURL() async throws -> String {
        if let httpIngress { return httpIngress.url }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = Task { [ingress] in
            defer { continuation.finish() }
            try await RestateHTTPIngress(ingress: ingress).run(host: "127.0.0.1", port: 0) { continuation.yield($0) }
        }
        var bound: Int?
        for await port in ports { bound = port; break }
        guard let bound else {
            let failure = await server.result
            throw ScenarioError("the embedded ingress's HTTP API did not start: \(failure)")
        }
        httpIngress = (server, "http://127.0.0.1:\(bound)")
        return "http://127.0.0.1:\(bound)"
    }

    private func stopHTTPIngress() async {
        guard let httpIngress else { return }
        httpIngress.server.cancel()
        _ = await httpIngress.server.result
        self.httpIngress = nil
    }

    func subscribe(cluster: String, topic: String, sink: String, options: [String: String]) async throws -> String {
        try await ingress.createSubscription(source: "kafka://\(cluster)/\(topic)", sink: "service://\(sink)", options: options).id
    }

    func delete(subscription id: String) async throws { _ = try await ingress.deleteSubscription(id) }

    func restart() async throws {
        await stopHTTPIngress()
        await ingress.shutdown()
        ingress = try Self.make(configuration, dataDirectory, options, nodes: nodes)
        try await ingress.start()
    }

    /// Runs `count` nodes sharing the journal, each consuming every subscription in its group.
    func setNodes(_ count: Int) async {
        nodes = count
        await ingress.setNodes(count)
    }

    /// Bounded: an invocation stuck in retries must not hang the run; the checks then report it.
    func settle() async {
        _ = await ingress.waitUntilIdle(timeout: .seconds(30))
    }

    func unfinished(subscription id: String) async throws -> Int? {
        try await ingress.invocations(subscription: id).filter { $0.status != .completed }.count
    }

    func shutdown() async {
        await stopHTTPIngress()
        await ingress.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

extension RetryPolicy {
    init(_ spec: RetryPolicySpec) {
        self.init(initialDelayMs: spec.initialIntervalMs, factor: spec.exponentiationFactor, maxDelayMs: spec.maxIntervalMs,
                  maxAttempts: spec.maxAttempts, onMaxAttempts: spec.onMaxAttempts == .pause ? .pause : .kill)
    }
}
