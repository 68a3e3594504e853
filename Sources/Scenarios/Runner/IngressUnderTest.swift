import AsyncHTTPClient
import Foundation
import KafkaIngress
import Logging
import NIOCore
import NIOHTTP1

/// The ingress a scenario exercises: ours in this process, or any Restate-compatible one
/// reached through its admin API.
protocol IngressUnderTest: Sendable {
    /// Registers the recorder as a deployment.
    func register(recorderURL: String) async throws
    /// Creates a subscription of the topic of a cluster (by scenario name) to `Service/handler`; returns its id.
    func subscribe(cluster: String, topic: String, sink: String, options: [String: String]) async throws -> String
    func delete(subscription id: String) async throws
    func restart() async throws
    /// Waits (bounded) until what was ingested has finished, where the ingress can tell.
    func settle() async
    /// Invocations of a subscription that have not completed, where the ingress can tell.
    func unfinished(subscription id: String) async throws -> Int?
    func shutdown() async
}

/// `KafkaIngress` in this process, on its own temporary journal.
final class EmbeddedIngress: IngressUnderTest, @unchecked Sendable {
    // Mutated only by `restart`, which the runner calls between steps, never concurrently.
    private var ingress: KafkaIngress
    /// Nodes of the embedded cluster (`instances: N`); kept across restarts.
    private var nodes = 1
    private let configuration: IngressConfiguration
    private let dataDirectory = NSTemporaryDirectory() + "scenario-" + UUID().uuidString
    private let options: Options

    struct Options: Sendable {
        var defects: Set<DeliberateDefect>
        var concurrency: Int
        var retry: RetryPolicySpec?
    }

    /// `clusters`: scenario cluster name → bootstrap servers; the ingress knows them by those names.
    init(clusters: [String: String], options: Options) async throws {
        configuration = IngressConfiguration(kafkaClusters: clusters.sorted { $0.key < $1.key }.map { name, servers in
            KafkaClusterConfiguration(name: name, brokers: [servers], properties: Self.clusterProperties)
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

    func register(recorderURL: String) async throws { _ = try await ingress.registerDeployment(uri: recorderURL) }

    func subscribe(cluster: String, topic: String, sink: String, options: [String: String]) async throws -> String {
        try await ingress.createSubscription(source: "kafka://\(cluster)/\(topic)", sink: "service://\(sink)", options: options).id
    }

    func delete(subscription id: String) async throws { _ = try await ingress.deleteSubscription(id) }

    func restart() async throws {
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
        await ingress.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// An ingress reached through a Restate-style admin API (a real Restate server, or `harness
/// ingress`), whose configuration knows the scenario's Kafka clusters under its own names.
final class RemoteIngress: IngressUnderTest {
    let adminURL: String
    /// Scenario cluster name → the name in the ingress's configuration.
    let clusterNames: [String: String]
    private let http = HTTPClient(eventLoopGroupProvider: .singleton)

    init(adminURL: String, clusterNames: [String: String]) {
        self.adminURL = adminURL.hasSuffix("/") ? String(adminURL.dropLast()) : adminURL
        self.clusterNames = clusterNames
    }

    func register(recorderURL: String) async throws {
        try await waitUntilHealthy(within: .seconds(60))
        _ = try await call(.POST, "/deployments", ["uri": recorderURL, "use_http_11": true], expect: [200, 201])
    }

    /// A server started next to the harness (docker compose) may still be booting.
    private func waitUntilHealthy(within limit: Duration) async throws {
        var lastError: (any Error)?
        guard try await Polling.until(timeout: limit, every: .milliseconds(500), {
            do {
                _ = try await call(.GET, "/health", nil, expect: [200])
                return true
            } catch {
                lastError = error
                return false
            }
        }) else {
            throw ScenarioError("the admin API at \(adminURL) did not answer GET /health within \(limit): \(lastError.map { "\($0)" } ?? "no answer")")
        }
    }

    func subscribe(cluster: String, topic: String, sink: String, options: [String: String]) async throws -> String {
        let body = try await call(.POST, "/subscriptions", ["source": "kafka://\(clusterNames[cluster] ?? cluster)/\(topic)", "sink": "service://\(sink)", "options": options],
                                  expect: [200, 201])
        guard let id = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["id"] as? String else {
            throw ScenarioError("POST /subscriptions answered without an id: \(String(decoding: body, as: UTF8.self))")
        }
        return id
    }

    func delete(subscription id: String) async throws {
        _ = try await call(.DELETE, "/subscriptions/\(id)", nil, expect: [200, 202, 204])
    }

    func restart() async throws {
        throw ScenarioError("an external ingress cannot be restarted by the harness")
    }

    /// An external ingress does not say when it is idle; the scenario's waits decide.
    func settle() async {}

    func unfinished(subscription id: String) async throws -> Int? { nil }

    func shutdown() async { try? await http.shutdown() }

    private func call(_ method: HTTPMethod, _ path: String, _ json: [String: Any]?, expect: Set<Int>) async throws -> Data {
        var request = HTTPClientRequest(url: adminURL + path)
        request.method = method
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = Data((try await response.body.collect(upTo: 16 << 20)).readableBytesView)
        guard expect.contains(Int(response.status.code)) else {
            throw ScenarioError("\(method) \(path): HTTP \(response.status.code): \(String(decoding: body, as: UTF8.self))")
        }
        return body
    }
}


extension RetryPolicy {
    init(_ spec: RetryPolicySpec) {
        self.init(initialDelayMs: spec.initialIntervalMs, factor: spec.exponentiationFactor, maxDelayMs: spec.maxIntervalMs,
                  maxAttempts: spec.maxAttempts, onMaxAttempts: spec.onMaxAttempts == .pause ? .pause : .kill)
    }
}
