import HarnessTestSupport
@testable import KafkaIngress
import Testing

/// The options a subscription is stored with, as Restate 1.7's schema updater fills them in.
@Suite("Subscription options", .guarded)
struct SubscriptionOptionsTests {
    static func make(options: [String: String], cluster: [String: String]) throws -> Subscription {
        let configuration = IngressConfiguration(kafkaClusters: [KafkaClusterConfiguration(name: "c", brokers: ["b:9092"], properties: cluster)])
        return try Subscription.make(id: "sub_1x", source: "kafka://c/t", sink: "service://S/h", options: options,
                                     configuration: configuration) { _, _ in true }
    }

    @Test("group.id is always stored: the subscription's, else the cluster's, else the subscription id")
    func groupID() throws {
        #expect(try Self.make(options: ["group.id": "mine"], cluster: ["group.id": "cluster's"]).options["group.id"] == "mine")
        #expect(try Self.make(options: [:], cluster: ["group.id": "cluster's"]).options["group.id"] == "cluster's")
        #expect(try Self.make(options: [:], cluster: [:]).options["group.id"] == "sub_1x")
    }

    @Test("client.id=restate only when neither the subscription nor the cluster sets one")
    func clientID() throws {
        #expect(try Self.make(options: [:], cluster: [:]).options["client.id"] == "restate")
        #expect(try Self.make(options: [:], cluster: ["client.id": "c"]).options["client.id"] == nil, "the cluster's applies at consumer start")
        #expect(try Self.make(options: ["client.id": "s"], cluster: [:]).options["client.id"] == "s")
    }
}
