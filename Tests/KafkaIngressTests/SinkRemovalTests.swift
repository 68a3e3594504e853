import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import KafkaProtocol
import Recorder
import Testing

/// A subscription whose sink disappears stalls, as in Restate: nothing is ingested or committed
/// until the service is registered again, and then nothing is lost.
@Suite("A sink that disappears", .guarded)
struct SinkRemovalTests {
    static let services = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record")])]

    @Test("DELETE /deployments/{id}?force=true: the subscription stops at the next record, commits nothing more, and resumes when the service is back")
    func deploymentRemoved() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let (topic, id) = try await f.subscribedTopic("sink", to: "Log/record", partitions: 1)
            try f.produce(topic, [(key: "a", value: "before")], partitions: 1)
            _ = try await f.waitForCompleted(1)
            let tp = TopicPartition(topic, 0)
            try await eventually("the first record committed") { f.cluster.committedOffsets(group: id)[tp]?.offset == 1 }

            let deployment = try #require(await f.ingress.deployments().first?.id)
            let unforced = try await f.request(.DELETE, "/deployments/\(deployment)")
            #expect(unforced.status == 501 && unforced.body.isEmpty, "Restate removes deployments only with force=true")
            #expect(try await f.request(.DELETE, "/deployments/\(deployment)?force=true").status == 202)
            let again = try await f.request(.DELETE, "/deployments/\(deployment)?force=true")
            #expect(again.status == 404)
            #expect(again.body == #"{"message":"not found in the schema registry: deployment with id '\#(deployment)'","restate_code":null}"#)

            let before = f.cluster.requestLog().entries.last?.sequence ?? 0
            try f.produce(topic, [(key: "b", value: "during-1"), (key: "c", value: "during-2")], partitions: 1)
            // The consumer reads the records, refuses them and restarts from the committed
            // offset: it joins its group again.
            try await eventually("the subscription met the records and restarted") {
                f.cluster.requestLog().entries.contains { $0.sequence > before && $0.apiName == "JoinGroup" }
            }
            #expect(try await f.ingress.invocations(subscription: id).count == 1, "nothing ingested while the sink is gone")
            #expect(f.cluster.committedOffsets(group: id)[tp]?.offset == 1, "nothing committed while the sink is gone")

            #expect(try await f.request(.POST, "/deployments", json: ["uri": f.recorderURL, "use_http_11": true]).status == 201)
            let seen = try await f.waitForCompleted(3)
            // A Service handler runs records in parallel: what matters is that none was lost
            // (nor run twice), not which of the two finished first.
            #expect(seen.map(\.payload).sorted() == ["before", "during-1", "during-2"])
        }
    }
}
