import Scenarios
import AsyncHTTPClient
import Foundation
import KafkaIngress
import Logging
import NIOCore
import NIOHTTP1

/// The ingress a scenario exercises: ours in this process, or any Restate-compatible one
/// reached through its admin API.
protocol IngressTarget: Sendable {
    /// Registers a deployment (the recorder, or the recorder's pass-through to a real one).
    func registerDeployment(url: String) async throws
    /// Registers a Kafka cluster at run time (`POST /kafka-clusters`), as Restate's own Kafka
    /// tests do, instead of naming it in the configuration.
    func registerKafkaCluster(name: String, bootstrapServers: String, properties: [String: String]) async throws
    /// The base URL of the ingress's HTTP API (Restate's port 8080), for `call` steps.
    func httpIngressURL() async throws -> String
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
