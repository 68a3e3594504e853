import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import RdKafka
import Testing

@Suite("Consumer groups and offsets through librdkafka", .guarded)
struct GroupTests {
    @Test("two members split four partitions and rebalance when one leaves")
    func splitAndRebalance() async throws {
        try await withCluster(brokers: 2) { cluster in
            let topic = uniqueName("split")
            let group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 4)
            let a = try RdKafkaConsumer(cluster.consumerConfig(group: group, ["client.id": "member-a"]))
            let b = try RdKafkaConsumer(cluster.consumerConfig(group: group, ["client.id": "member-b"]))
            try a.subscribe([topic])
            try b.subscribe([topic])
            try await eventually("both members get two partitions") {
                _ = try? await a.poll(timeoutMs: 10)
                _ = try? await b.poll(timeoutMs: 10)
                return try a.assignment().count == 2 && b.assignment().count == 2
            }
            let assigned = try a.assignment() + b.assignment()
            #expect(Set(assigned.map(\.partition)) == [0, 1, 2, 3])
            let described = try #require(cluster.group(group))
            #expect(described.state == .stable)
            #expect(described.members.count == 2)
            #expect(described.members.compactMap(\.assignment).map(\.count) == [2, 2])

            try await b.close()
            try await eventually("the remaining member takes all four partitions") {
                _ = try? await a.poll(timeoutMs: 10)
                return try a.assignment().count == 4
            }
            #expect(cluster.group(group)?.members.map(\.clientId) == ["member-a"])
            try await a.close()
            try await eventually("the group is empty after the last member leaves") { cluster.group(group)?.state == .empty }
        }
    }

    @Test("a member that stops heartbeating is expired and its partitions reassigned")
    func sessionExpiry() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("expiry")
            let group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            let a = try RdKafkaConsumer(cluster.consumerConfig(group: group, ["client.id": "stays"]))
            try a.subscribe([topic])
            var b: RdKafkaConsumer? = try RdKafkaConsumer(cluster.consumerConfig(group: group, ["client.id": "vanishes", "session.timeout.ms": "1500"]))
            try b!.subscribe([topic])
            try await eventually("two members") {
                _ = try? await a.poll(timeoutMs: 10)
                _ = try? await b!.poll(timeoutMs: 10)
                return cluster.group(group)?.members.count == 2 && cluster.group(group)?.state == .stable
            }
            // Cut b off without a LeaveGroup: drop its connections and refuse its heartbeats.
            cluster.inject(Fault(apiKey: .heartbeat, action: .disconnect, frequency: .always))
            b = nil
            try await eventually("the silent member expires") {
                _ = try? await a.poll(timeoutMs: 10)
                return cluster.group(group)?.members.map(\.clientId) == ["stays"]
            }
            cluster.removeAllFaults()
            try await eventually("the survivor owns both partitions") {
                _ = try? await a.poll(timeoutMs: 10)
                return try a.assignment().count == 2
            }
            try await a.close()
        }
    }

    @Test("a consumer resumes at the offset its group committed")
    func commitAndResume() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("resume")
            let group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            _ = try await producer.sendAll((0..<10).map { OutgoingRecord(topic: topic, key: "k", value: "\($0)") })

            let first = try RdKafkaConsumer(cluster.consumerConfig(group: group))
            try first.subscribe([topic])
            let firstSix = try await consume(first, count: 6)
            try await first.commit([PartitionOffset(topic, 0, firstSix.last!.offset + 1)])
            #expect(cluster.committedOffsets(group: group)[TopicPartition(topic, 0)]?.offset == 6)
            #expect(try await first.committed([PartitionOffset(topic, 0)]) == [PartitionOffset(topic, 0, 6)])
            try await first.close()

            let second = try RdKafkaConsumer(cluster.consumerConfig(group: group))
            try second.subscribe([topic])
            let rest = try await consume(second, count: 4)
            #expect(rest.map(\.valueString) == ["6", "7", "8", "9"])
            try await second.close()
        }
    }

    @Test("offsets are found by timestamp")
    func offsetsByTimestamp() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("times")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0"]))
            for i in 0..<10 {
                _ = try await producer.send(OutgoingRecord(topic: topic, partition: 0, key: "k", value: "\(i)", timestamp: 1_000_000 + Int64(i) * 100))
            }
            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            let atRecord = try await consumer.offsetsForTimes([PartitionOffset(topic, 0, 1_000_300)])
            #expect(atRecord == [PartitionOffset(topic, 0, 3)])
            let between = try await consumer.offsetsForTimes([PartitionOffset(topic, 0, 1_000_350)])
            #expect(between == [PartitionOffset(topic, 0, 4)])
            let after = try await consumer.offsetsForTimes([PartitionOffset(topic, 0, 9_000_000)])
            #expect(after == [PartitionOffset(topic, 0, -1)])
            #expect(try await consumer.watermarks(topic: topic, partition: 0) == (0, 10))
            try await consumer.close()
        }
    }

    @Test("an idempotent producer's records are each stored once, with its producer id")
    func idempotentProducer() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("idem")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig(["enable.idempotence": "true", "linger.ms": "5"]))
            // A dropped produce response makes librdkafka retry batches the broker already has.
            cluster.inject(Fault(apiKey: .produce, action: .dropResponse, frequency: .times(2)))
            _ = try await producer.sendAll((0..<200).map { OutgoingRecord(topic: topic, key: "k", value: "\($0)") })
            let tp = TopicPartition(topic, 0)
            let stored = try cluster.records(tp)
            #expect(stored.map { String(decoding: $0.value!, as: UTF8.self) } == (0..<200).map { "\($0)" })
            let batches = try cluster.batchHeaders(tp)
            #expect(batches.allSatisfy { $0.producerId >= 1000 && $0.producerEpoch == 0 })
        }
    }
}
