import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import Recorder
import Testing

/// Two ingress instances in one consumer group, as a Restate cluster's nodes are.
@Suite("Rebalance", .guarded)
struct RebalanceTests {
    @Test("a second instance joins the group mid-stream, then leaves: nothing lost, duplicated or reordered per key")
    func joinAndLeave() async throws {
        let services = [RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [
            .init(name: "add", behaviour: .init(latencyMs: 20)),
        ])]
        try await IngressFixture.with(services: services) { f in
            let topic = uniqueName("rebalance")
            let group = uniqueName("group")
            try f.cluster.createTopic(topic, partitions: 4)
            _ = try await f.subscribe(topic, to: "Counter/add", options: ["group.id": group])
            let keys = (0..<40).map { "key-\($0)" }
            var produced = 0
            func produce(_ n: Int) throws {
                try f.produce(topic, (produced..<produced + n).map { (key: keys[$0 % keys.count], value: "\($0)") }, partitions: 4)
                produced += n
            }
            // A backlog of 20 records per key at 20 ms each: when the second instance joins, the
            // first is still busy with the partitions it is about to give up.
            try produce(800)
            try await eventually("the first instance is under way") { f.recorder.records.count >= 50 }

            // The second instance: its own journal, the same cluster, recorder and group.
            let secondDirectory = NSTemporaryDirectory() + uniqueName("second")
            defer { try? FileManager.default.removeItem(atPath: secondDirectory) }
            let second = try IngressFixture.makeIngress(cluster: f.cluster, dataDirectory: secondDirectory)
            try await second.start()
            _ = try await second.registerDeployment(uri: f.recorderURL)
            _ = try await second.createSubscription(source: "kafka://\(IngressFixture.clusterName)/\(topic)", sink: "service://Counter/add",
                                                    options: ["group.id": group])
            try await eventually("both instances own partitions") {
                (f.cluster.group(group)?.members.filter { !($0.assignment ?? []).isEmpty }.count ?? 0) == 2
            }
            try produce(200)
            try await eventually("the second instance invoked some records") {
                try await !second.invocations().isEmpty
            }
            await second.shutdown()
            try await eventually("the first instance owns every partition again") {
                f.cluster.group(group)?.members.count == 1 && f.cluster.group(group)?.members.first?.assignment?.count == 4
            }
            try produce(200)

            let completed = try await f.waitForCompleted(produced, timeout: .seconds(120))
            let values = completed.map { Int($0.payload)! }
            #expect(Set(values).count == produced, "every record invoked")
            #expect(values.count == produced, "no record invoked twice: \(values.count) invocations for \(produced) records")
            for key in keys {
                let runs = completed.filter { $0.key == key }.sorted { $0.start < $1.start }
                #expect(runs.map { Int($0.payload)! } == runs.map { Int($0.payload)! }.sorted(), "order of \(key)")
                for (a, b) in zip(runs, runs.dropFirst()) {
                    #expect(a.end <= b.start, "\(key): \(a.payload) and \(b.payload) overlap across instances")
                }
            }
            let firstCount = try await f.ingress.invocations().count
            let secondCount = try await second.invocations().count
            #expect(firstCount + secondCount == produced, "journaled once across the instances")
            #expect(secondCount > 0)
        }
    }
}
