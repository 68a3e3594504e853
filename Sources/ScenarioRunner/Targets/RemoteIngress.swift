import Scenarios
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Any ingress with Restate's admin API (a real Restate server, `harness ingress`, another
/// team's ingress), whose configuration names the scenario's Kafka as `kafkaCluster`.
public struct RemoteIngressProvider: IngressTargetProvider {
    public let adminURL: String
    public let kafkaCluster: String
    public let advertisedHost: String
    /// Its HTTP API; nil: the admin URL's host on Restate's default port, 8080.
    public let ingressURL: String?

    public init(adminURL: String, kafkaCluster: String, advertisedHost: String, ingressURL: String? = nil) {
        self.adminURL = adminURL
        self.kafkaCluster = kafkaCluster
        self.advertisedHost = advertisedHost
        self.ingressURL = ingressURL
    }

    public var capabilities: IngressCapabilities { [] }
    public var name: String { "the ingress at \(adminURL)" }

    public func start(_ scenario: Scenario, clusters: [String: ClusterConnection]) async throws -> any IngressTarget {
        // A cluster registered at run time is known to the ingress by the scenario's name for it.
        RemoteIngress(adminURL: adminURL,
                      clusterNames: [scenario.cluster.name: scenario.cluster.registeredAtRuntime ? scenario.cluster.name : kafkaCluster],
                      ingressURL: ingressURL)
    }
}

/// An ingress reached through a Restate-style admin API, whose configuration knows the
/// scenario's Kafka clusters under its own names.
final class RemoteIngress: IngressTarget {
    private let adminBase: String
    /// Scenario cluster name → the name in the ingress's configuration.
    let clusterNames: [String: String]
    /// Its HTTP API; nil: the admin URL's host on Restate's default port, 8080.
    let ingressURL: String?
    private let http = HTTPClient(eventLoopGroupProvider: .singleton)

    init(adminURL: String, clusterNames: [String: String], ingressURL: String? = nil) {
        adminBase = adminURL.hasSuffix("/") ? String(adminURL.dropLast()) : adminURL
        self.clusterNames = clusterNames
        self.ingressURL = ingressURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    func adminURL() async throws -> String { adminBase }

    func httpIngressURL() async throws -> String {
        if let ingressURL { return ingressURL }
        guard var parts = URLComponents(string: adminBase) else { throw ScenarioError("cannot derive the HTTP ingress URL from \(adminBase); give --ingress-url") }
        parts.port = 8080
        guard let url = parts.string else { throw ScenarioError("cannot derive the HTTP ingress URL from \(adminBase); give --ingress-url") }
        return url
    }

    /// Forced: a recorder at an address registered before (by an earlier run) may serve other
    /// services now, and an unforced registration would keep the old ones without asking it.
    func registerDeployment(url: String) async throws {
        try await waitUntilHealthy(within: .seconds(60))
        _ = try await call(.POST, "/deployments", ["uri": url, "use_http_11": true, "force": true], expect: [200, 201])
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
            throw ScenarioError("the admin API at \(adminBase) did not answer GET /health within \(limit): \(lastError.map { "\($0)" } ?? "no answer")")
        }
    }

    /// A cluster left by an earlier run (Restate keeps registered clusters) is updated instead.
    func registerKafkaCluster(name: String, bootstrapServers: String, properties: [String: String]) async throws {
        try await waitUntilHealthy(within: .seconds(60))
        let all = properties.merging(["bootstrap.servers": bootstrapServers]) { $1 }
        do {
            _ = try await call(.POST, "/kafka-clusters", ["name": name, "properties": all], expect: [200, 201])
        } catch let error as ScenarioError where error.description.contains("HTTP 409") {
            _ = try await call(.PATCH, "/kafka-clusters/\(name)", ["properties": all], expect: [200])
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

    func restart(kill: Bool) async throws {
        throw ScenarioError("an external ingress cannot be restarted by the harness")
    }

    func setNodes(_ count: Int) async throws {
        throw ScenarioError("instances: only the embedded target can add or remove ingress instances")
    }

    /// An external ingress does not say when it is idle; the scenario's waits decide.
    func settle() async {}

    func unfinished(subscription id: String) async throws -> Int? { nil }

    func shutdown() async { try? await http.shutdown() }

    private func call(_ method: HTTPMethod, _ path: String, _ json: [String: Any]?, expect: Set<Int>) async throws -> Data {
        var request = HTTPClientRequest(url: adminBase + path)
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
