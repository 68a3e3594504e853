import PlantedDefects
import Scenarios
import ScenarioRunner
import FakeKafkaTarget
import Foundation
import KafkaIngress
import Logging

/// The reference ingress in this process, on a temporary journal of its own per run.
public struct EmbeddedIngressProvider: IngressTargetProvider {
    /// Defects it exhibits: only for proving scenarios catch them.
    public var defects: Set<PlantedDefect>
    /// Attempts it runs at once (each holds a connection to the recorder).
    public var concurrency: Int

    public init(defects: Set<PlantedDefect> = [], concurrency: Int = KafkaIngress.Settings.defaultConcurrency) {
        self.defects = defects
        self.concurrency = concurrency
    }

    public var capabilities: IngressCapabilities {
        [.restart, .kill, .nodes, .multipleClusters, .perRunClusterConfiguration, .idleTracking, .plantedDefects]
    }

    public func planting(_ defects: Set<PlantedDefect>) -> (any IngressTargetProvider)? {
        var planted = self
        planted.defects = defects
        return planted
    }
    public var name: String { "the embedded ingress" }
    public var advertisedHost: String { "127.0.0.1" }

    public func start(_ scenario: Scenario, clusters: [String: ClusterConnection]) async throws -> any IngressTarget {
        try await EmbeddedIngress(clusters: clusters, options: .init(defects: defects, concurrency: concurrency, retry: scenario.retryPolicy))
    }
}

extension IngressTargetProvider where Self == EmbeddedIngressProvider {
    /// The reference ingress in this process.
    public static func embedded(defects: Set<PlantedDefect> = [], concurrency: Int = KafkaIngress.Settings.defaultConcurrency) -> EmbeddedIngressProvider {
        EmbeddedIngressProvider(defects: defects, concurrency: concurrency)
    }
}

extension ScenarioTarget {
    /// FakeKafka, the reference ingress and the recorder, all in this process.
    public static let embedded = ScenarioTarget(kafka: .fake(), ingress: .embedded())

    /// FakeKafka and the reference ingress in this process, with these defects planted: broker
    /// defects in FakeKafka, ingress defects in the ingress.
    public static func embedded(defects: Set<PlantedDefect> = [], concurrency: Int = KafkaIngress.Settings.defaultConcurrency) -> ScenarioTarget {
        ScenarioTarget(kafka: .fake(defects: defects.filter { $0.component == .broker }),
                       ingress: .embedded(defects: defects.filter { $0.component == .ingress }, concurrency: concurrency))
    }
}

/// `KafkaIngress` in this process, on its own temporary journal.
final class EmbeddedIngress: IngressTarget, @unchecked Sendable {
    // Mutated only by `restart`, `setNodes` and the lazily started servers, which the runner
    // calls between steps, never concurrently.
    private var ingress: KafkaIngress
    /// Nodes of the embedded cluster (`instances: N`); kept across restarts.
    private var nodes = 1
    private let configuration: IngressConfiguration
    private let dataDirectory = NSTemporaryDirectory() + "scenario-" + UUID().uuidString
    private let options: Options
    /// Restate's HTTP ingress and admin API in front of `ingress`, started by the first step that needs them.
    private var httpIngress: RunningServer?
    private var adminAPI: RunningServer?

    struct Options: Sendable {
        var defects: Set<PlantedDefect>
        var concurrency: Int
        var retry: RetryPolicySpec?
    }

    init(clusters: [String: ClusterConnection], options: Options) async throws {
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
        let ingress = self.ingress
        let started = try await RunningServer.start("the embedded ingress's HTTP API") { ready in
            try await RestateHTTPIngress(ingress: ingress).run(host: "127.0.0.1", port: 0, onReady: ready)
        }
        httpIngress = started
        return started.url
    }

    func adminURL() async throws -> String {
        if let adminAPI { return adminAPI.url }
        let ingress = self.ingress
        let started = try await RunningServer.start("the embedded ingress's admin API") { ready in
            try await AdminAPI(ingress: ingress).run(host: "127.0.0.1", port: 0, onReady: ready)
        }
        adminAPI = started
        return started.url
    }

    private func stopServers() async {
        await httpIngress?.stop()
        await adminAPI?.stop()
        (httpIngress, adminAPI) = (nil, nil)
    }

    func subscribe(cluster: String, topic: String, sink: String, options: [String: String]) async throws -> String {
        try await ingress.createSubscription(source: "kafka://\(cluster)/\(topic)", sink: "service://\(sink)", options: options).id
    }

    func delete(subscription id: String) async throws { _ = try await ingress.deleteSubscription(id) }

    /// A kill is a crash: nothing is drained or committed, running attempts are abandoned and
    /// consumers leave without committing, so the next start resumes from what the journal and
    /// the group's committed offsets hold.
    func restart(kill: Bool) async throws {
        await stopServers()
        if kill { await ingress.crash() } else { await ingress.shutdown() }
        ingress = try Self.make(configuration, dataDirectory, options, nodes: nodes)
        try await ingress.start()
    }

    /// Runs `count` nodes sharing the journal, each consuming every subscription in its group.
    func setNodes(_ count: Int) async throws {
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
        await stopServers()
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

extension ScenarioRunner {
    /// A runner on FakeKafka and the reference ingress in this process.
    public init(defects: Set<PlantedDefect> = [], concurrency: Int = KafkaIngress.Settings.defaultConcurrency) {
        self.init(target: .embedded(defects: defects, concurrency: concurrency))
    }
}
