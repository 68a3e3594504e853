import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import KafkaProtocol
import RdKafka
import Recorder
import Testing

/// Records in, invocations out, through the real path: FakeKafka, librdkafka in the ingress,
/// HTTP to the recorder.
@Suite("Delivery", .guarded)
struct DeliveryTests {
    @Test("a Service handler gets every record with exactly the kafka.* and subscription headers")
    func headers() async throws {
        let services = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record")])]
        try await IngressFixture.with(services: services) { f in
            let topic = uniqueName("headers")
            try f.cluster.createTopic(topic, partitions: 3)
            let id = try await f.subscribe(topic, to: "Log/record")
            // A real producer, so timestamps and partitions are librdkafka's own.
            let producer = try RdKafkaProducer(f.cluster.clientConfig(["linger.ms": "0"]))
            var sent: [OutgoingRecord] = (0..<12).map { OutgoingRecord(topic: topic, key: "key-\($0 % 4)", value: "{\"n\":\($0)}") }
            sent.append(OutgoingRecord(topic: topic, partition: 1, key: nil as String?, value: "\"no key\""))
            sent.append(OutgoingRecord(topic: topic, partition: 2, key: [0xff, 0x00, 0xfe], value: Array("\"binary key\"".utf8)))
            _ = try await producer.sendAll(sent)
            // Kafka's "no timestamp" (-1): Restate leaves kafka.timestamp out.
            try f.cluster.append([KafkaRecord(timestamp: -1, key: Array("late".utf8), value: Array("\"no timestamp\"".utf8))], to: TopicPartition(topic, 0))

            let seen = try await f.waitForCompleted(sent.count + 1)
            #expect(seen.count == sent.count + 1, "one invocation per record")
            var stored: [String: KafkaRecord] = [:]
            for p in 0..<3 {
                for r in try f.cluster.records(TopicPartition(topic, Int32(p))) { stored["\(p)/\(r.offset)"] = r }
            }
            for invocation in seen {
                let h = invocation.headers
                let record = try #require(stored["\(h["kafka.partition"] ?? "")/\(h["kafka.offset"] ?? "")"], "headers \(h) name no stored record")
                var expected = [
                    "kafka.offset": String(record.offset), "kafka.partition": h["kafka.partition"] ?? "",
                    "kafka.topic": topic, "restate.subscription.id": id,
                ]
                if record.timestamp != -1 { expected["kafka.timestamp"] = String(record.timestamp) }
                if let key = record.key {
                    expected["kafka.key"] = Data(key).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                }
                #expect(h == expected)
                #expect(invocation.payload == String(decoding: record.value ?? [], as: UTF8.self))
                #expect(invocation.key == "", "services have no key")
            }
            let binary = try #require(seen.first { $0.payload == "\"binary key\"" })
            #expect(binary.headers["kafka.key"] == "_wD-", "URL-safe alphabet, padding kept")
            let untimed = try #require(seen.first { $0.payload == "\"no timestamp\"" })
            #expect(untimed.headers["kafka.timestamp"] == nil)
        }
    }

    @Test("an exclusive handler runs one invocation per key at a time, in partition order (4 partitions, 50 keys)")
    func perKeyOrder() async throws {
        let services = [RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [
            .init(name: "add", behaviour: .init(latencyMs: 2)),
        ])]
        try await IngressFixture.with(services: services, concurrency: 32) { f in
            let topic = uniqueName("order")
            try f.cluster.createTopic(topic, partitions: 4)
            _ = try await f.subscribe(topic, to: "Counter/add")
            let perKey = 8
            let records = (0..<perKey).flatMap { i in (0..<50).map { k in (key: Optional("key-\(k)"), value: "\(i)") } }
            try f.produce(topic, records, partitions: 4)

            let seen = try await f.waitForCompleted(records.count)
            #expect(seen.count == records.count)
            let byKey = Dictionary(grouping: seen, by: \.key)
            #expect(byKey.count == 50)
            for (key, invocations) in byKey {
                let sorted = invocations.sorted { $0.start < $1.start }
                #expect(sorted.map(\.payload) == (0..<perKey).map(String.init), "order of key \(key)")
                for (a, b) in zip(sorted, sorted.dropFirst()) {
                    #expect(a.end <= b.start, "invocations of key \(key) overlap: \(a.payload) ends at \(a.end), \(b.payload) starts at \(b.start)")
                }
            }
            #expect(seen.maxConcurrency > 1, "different keys run in parallel")
        }
    }

    @Test("a Service handler with latency runs invocations in parallel")
    func serviceParallelism() async throws {
        let services = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [
            .init(name: "record", behaviour: .init(latencyMs: 200)),
        ])]
        try await IngressFixture.with(services: services, concurrency: 64) { f in
            let topic = uniqueName("parallel")
            try f.cluster.createTopic(topic, partitions: 2)
            _ = try await f.subscribe(topic, to: "Log/record")
            // One key: a Service ignores keys, so even these run side by side.
            try f.produce(topic, (0..<40).map { (key: "same", value: "\($0)") }, partitions: 2)
            let seen = try await f.waitForCompleted(40)
            #expect(seen.maxConcurrency >= 5, "at most \(seen.maxConcurrency) ran at once")
        }
    }

    @Test("failed attempts are retried with backoff until the handler succeeds")
    func retries() async throws {
        let services = [RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [
            .init(name: "add", behaviour: .init(failFirstAttempts: 2)),
        ])]
        try await IngressFixture.with(services: services) { f in
            let topic = uniqueName("retry")
            try f.cluster.createTopic(topic, partitions: 1)
            let id = try await f.subscribe(topic, to: "Counter/add")
            try f.produce(topic, (0..<5).map { (key: "k", value: "\($0)") }, partitions: 1)
            let completed = try await f.waitForCompleted(5)
            #expect(completed.map(\.payload) == ["0", "1", "2", "3", "4"], "order survives retries")
            #expect(f.recorder.records.count == 15, "three attempts each")
            // The recorder sees an attempt end before the ingress has journaled it.
            try await eventually("the ingress journaled all 5 as completed") {
                try await f.ingress.invocations(subscription: id).filter { $0.status == .completed }.count == 5
            }
            let listed = try await f.request(.GET, "/invocations?subscription=\(id)")
            let invocations = try #require(try listed.json()["invocations"] as? [[String: Any]])
            #expect(invocations.count == 5)
            for inv in invocations {
                #expect(inv["status"] as? String == "completed")
                #expect(inv["attempts"] as? Int == 3)
                #expect(inv["target"] as? String == "Counter/add")
                #expect(inv["key"] as? String == "k")
                #expect((inv["error"] as? String)?.contains("fails on purpose") == true, "the last failure is kept")
            }
            #expect(invocations.map { $0["output"] as? Int } == [0, 1, 2, 3, 4], "the handler's JSON output")
        }
    }

    @Test("deletion: what was ingested completes, nothing produced afterwards is invoked, the group is left")
    func deletion() async throws {
        let services = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [
            .init(name: "slow", behaviour: .init(latencyMs: 300)),
            .init(name: "witness"),
        ])]
        try await IngressFixture.with(services: services) { f in
            let topic = uniqueName("delete")
            try f.cluster.createTopic(topic, partitions: 2)
            let doomed = try await f.subscribe(topic, to: "Log/slow")
            try f.produce(topic, (0..<20).map { (key: "k\($0)", value: "before-\($0)") }, partitions: 2)
            try await eventually("all 20 records journaled") {
                try await f.ingress.invocations(subscription: doomed).count == 20
            }
            let deleted = try await f.request(.DELETE, "/subscriptions/\(doomed)")
            #expect(deleted.status == 202)
            let group = try #require(f.cluster.group(doomed))
            #expect(group.members.isEmpty, "the consumer left its group: \(group)")

            // A second subscription witnesses the later records: once it has them, the deleted
            // one would have had them too.
            _ = try await f.subscribe(topic, to: "Log/witness")
            try f.produce(topic, (0..<20).map { (key: "k\($0)", value: "after-\($0)") }, partitions: 2)
            try await eventually("the witness saw all 40 records") {
                f.recorder.records.filter { $0.handler == "witness" }.count == 40
            }
            try await eventually("the 20 ingested before the delete completed") {
                f.recorder.records.filter { $0.handler == "slow" && $0.outcome == .completed }.count == 20
            }
            let slow = f.recorder.records.filter { $0.handler == "slow" }
            #expect(slow.allSatisfy { $0.payload.hasPrefix("before-") }, "nothing produced after the delete was invoked")
            try await eventually("the ingress journaled the 20 as completed") {
                try await f.ingress.invocations(subscription: doomed).allSatisfy { $0.status == .completed }
            }
        }
    }

    @Test("a key that is not UTF-8, sent to a virtual object, stalls the subscription at that record, as in Restate")
    func poisonKey() async throws {
        let services = [RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [.init(name: "add")])]
        try await IngressFixture.with(services: services) { f in
            let topic = uniqueName("poison")
            try f.cluster.createTopic(topic, partitions: 1)
            let id = try await f.subscribe(topic, to: "Counter/add")
            let tp = TopicPartition(topic, 0)
            try f.cluster.append([KafkaRecord(timestamp: 1, key: Array("ok".utf8), value: Array("1".utf8)),
                                  KafkaRecord(timestamp: 1, key: nil, value: Array("2".utf8))], to: tp)
            try f.cluster.append([KafkaRecord(timestamp: 1, key: [0xC3, 0x28], value: Array("3".utf8))], to: tp)
            try f.cluster.append([KafkaRecord(timestamp: 1, key: Array("ok".utf8), value: Array("4".utf8))], to: tp)
            let seen = try await f.waitForCompleted(2)
            // Two keys, so no order between them.
            let byPayload = seen.sorted { $0.payload < $1.payload }
            #expect(byPayload.map(\.payload) == ["1", "2"])
            #expect(byPayload.map(\.key) == ["ok", ""], "a null key is the empty object key")
            // The consumer restarts from the committed offset and stops at the same record again:
            // the offset never moves past it.
            try await eventually("the subscription committed up to the poison record") {
                f.cluster.committedOffsets(group: id)[tp]?.offset == 2
            }
            // Each time the consumer meets the record it gives up and leaves the group; twice
            // means it restarted, read the record again and still did not go past it.
            try await eventually("the consumer met the poison record twice") {
                f.cluster.requestLog().entries.filter { $0.apiKey == ApiKey.leaveGroup.rawValue }.count >= 2
            }
            #expect(f.recorder.records.count == 2, "nothing after the poison record was invoked")
            #expect(try await f.ingress.invocations(subscription: id).count == 2)
        }
    }
}
