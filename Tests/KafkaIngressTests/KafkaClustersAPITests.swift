import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaProtocol
import KafkaIngress
import NIOHTTP1
import Recorder
import Testing

/// `/kafka-clusters` over real HTTP, with subscriptions consuming through the clusters it registers.
@Suite("Admin API: Kafka clusters", .guarded)
struct KafkaClustersAPITests {
    static let services = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record")])]

    static func properties(_ cluster: FakeKafkaCluster, _ more: [String: String] = [:]) -> [String: String] {
        IngressFixture.testConsumerProperties.merging(["bootstrap.servers": cluster.bootstrapServers, "sasl.password": "hunter2"].merging(more) { $1 }) { $1 }
    }

    @Test("a registered cluster is listed, shown masked and consumed through; the configuration file's cluster is listed as deprecated")
    func register() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let created = try await f.request(.POST, "/kafka-clusters", json: ["name": "runtime", "properties": Self.properties(f.cluster)])
            #expect(created.status == 201, "\(created.body)")
            #expect(created.headers["location"] == "kafka-clusters/runtime")
            #expect((try created.json()["properties"] as? [String: String])?["sasl.password"] == "***")

            let list = try #require(try await f.request(.GET, "/kafka-clusters").json()["clusters"] as? [[String: Any]])
            #expect(list.compactMap { $0["name"] as? String } == ["test", "runtime"])
            let configured = try #require(list.first)
            #expect(configured["created_at"] as? String == "1970-01-01T00:00:00.000Z")
            #expect((configured["info"] as? [[String: String]])?.first?["message"]?.hasPrefix("This Kafka cluster was configured in the static cluster configuration") == true)
            #expect((configured["properties"] as? [String: String])?["metadata.broker.list"] == f.cluster.bootstrapServers)
            #expect(list.last?["info"] == nil)

            let topic = uniqueName("runtime")
            try f.cluster.createTopic(topic, partitions: 1)
            let subscription = try await f.request(.POST, "/subscriptions", json: ["source": "kafka://runtime/\(topic)", "sink": "service://Log/record"])
            #expect(subscription.status == 201, "\(subscription.body)")
            try f.produce(topic, [(key: "a", value: "1")], partitions: 1)
            _ = try await f.waitForCompleted(1)

            let one = try await f.request(.GET, "/kafka-clusters/runtime?include_subscriptions=true")
            #expect((try one.json()["subscriptions"] as? [[String: Any]])?.count == 1)
            #expect((try await f.request(.GET, "/kafka-clusters/runtime").json()["subscriptions"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("PATCH replaces the properties and restarts the cluster's subscriptions with them")
    func patchRestarts() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            // The cluster sets client.id, so the subscription stores none and the cluster's applies.
            #expect(try await f.request(.POST, "/kafka-clusters", json: ["name": "moving", "properties": Self.properties(f.cluster, ["client.id": "before"])]).status == 201)
            let topic = uniqueName("moving")
            try f.cluster.createTopic(topic, partitions: 1)
            let created = try await f.request(.POST, "/subscriptions", json: ["source": "kafka://moving/\(topic)", "sink": "service://Log/record"])
            let id = try #require(try created.json()["id"] as? String)
            try f.produce(topic, [(key: "a", value: "first")], partitions: 1)
            _ = try await f.waitForCompleted(1)
            #expect(f.cluster.group(id)?.members.map(\.clientId) == ["before"])

            let patched = try await f.request(.PATCH, "/kafka-clusters/moving", json: ["properties": Self.properties(f.cluster, ["client.id": "after"])])
            #expect(patched.status == 200, "\(patched.body)")
            #expect((try patched.json()["properties"] as? [String: String])?["client.id"] == "after")
            try await eventually("the subscription's consumer rejoined with the new properties") {
                f.cluster.group(id)?.members.map(\.clientId) == ["after"]
            }
            try f.produce(topic, [(key: "b", value: "second")], partitions: 1)
            let seen = try await f.waitForCompleted(2)
            #expect(seen.map(\.payload) == ["first", "second"])
        }
    }

    @Test("refusals with Restate's statuses and texts")
    func refusals() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            func expect(_ method: HTTPMethod, _ path: String, _ json: [String: Any]?, _ status: Int, _ message: String,
                        sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let result = try await f.request(method, path, json: json)
                #expect(result.status == status, "\(method) \(path): \(result.body)", sourceLocation: sourceLocation)
                #expect(result.body == #"{"message":"\#(message)","restate_code":null}"#, sourceLocation: sourceLocation)
            }
            let good = Self.properties(f.cluster)
            try await expect(.POST, "/kafka-clusters", ["name": "c1", "properties": ["client.id": "x"]], 400,
                             "kafka cluster 'c1' properties must contain either 'bootstrap.servers' or 'metadata.broker.list'")
            try await expect(.POST, "/kafka-clusters", ["name": "test", "properties": good], 409,
                             "kafka cluster 'test' conflicts with static configuration. Cluster names in schema registry cannot override statically configured clusters.")
            #expect(try await f.request(.POST, "/kafka-clusters", json: ["name": "c1", "properties": good]).status == 201)
            try await expect(.POST, "/kafka-clusters", ["name": "c1", "properties": good], 409, "kafka cluster 'c1' already exists in schema registry")
            try await expect(.GET, "/kafka-clusters/nope", nil, 404, "The requested Kafka cluster 'nope' does not exist")
            try await expect(.PATCH, "/kafka-clusters/nope", ["properties": good], 404, "not found in the schema registry: kafka cluster 'nope'")
            try await expect(.PATCH, "/kafka-clusters/nope", ["properties": [:]], 400,
                             "kafka cluster 'nope' properties must contain either 'bootstrap.servers' or 'metadata.broker.list'")
            try await expect(.PATCH, "/kafka-clusters/test", ["properties": good], 409,
                             "kafka cluster 'test' cannot be updated, because it was defined in the restate configuration file. Update the configuration file directly, or remove the configuration file")
            try await expect(.DELETE, "/kafka-clusters/nope", nil, 404, "not found in the schema registry: kafka cluster named 'nope'")
            try await expect(.PATCH, "/kafka-clusters/a%20b", ["properties": good], 400, "The request field 'cluster_name' is invalid. Reason: invalid uri character")

            let subscription = try await f.request(.POST, "/subscriptions", json: ["source": "kafka://c1/t", "sink": "service://Log/record"])
            let id = try #require(try subscription.json()["id"] as? String)
            try await expect(.DELETE, "/kafka-clusters/c1", nil, 409,
                             "Removing the kafka cluster 'c1' leads to subscription '\(id)' being orphan. Remove the subscription first, or use the 'force' flag.")
            #expect(try await f.request(.DELETE, "/kafka-clusters/c1?force=true").status == 202)
            #expect(try await f.request(.GET, "/subscriptions/\(id)").status == 200, "a forced removal leaves the subscription")

            let badName = try await f.request(.POST, "/kafka-clusters", raw: #"{"name":"a b","properties":{}}"#)
            #expect(badName.status == 422)
            #expect(badName.body == "Failed to deserialize the JSON body into the target type: name: invalid uri character at line 1 column 13")
        }
    }
}
