import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import RdKafka
import Testing

/// Records produced by librdkafka 2.0.2 come back intact through librdkafka and introspection.
@Suite("Produce and consume through librdkafka", .guarded)
struct ProduceConsumeTests {
    @Test("keys, headers and timestamps survive under every codec",
          arguments: ["none", "gzip", "snappy", "lz4", "zstd"])
    func roundTrip(codec: String) async throws {
        try await withCluster { cluster in
            let topic = uniqueName(codec)
            try cluster.createTopic(topic, partitions: 2)
            let producer = try RdKafkaProducer(cluster.clientConfig(["compression.codec": codec, "linger.ms": "5"]))
            let sent = (0..<40).map { Self.record($0, topic: topic) }
            let deliveries = try await producer.sendAll(sent)
            #expect(deliveries.map(\.partition) == sent.map { $0.partition! })

            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning), PartitionOffset(topic, 1, RdKafkaOffset.beginning)])
            let received = try await consume(consumer, count: sent.count)
            for r in received {
                let i = Int(r.headers.first { $0.key == "n" }.flatMap { $0.value.map { String(decoding: $0, as: UTF8.self) } } ?? "") ?? -1
                #expect(r.key == sent[i].key, "key of record \(i)")
                #expect(r.value == sent[i].value, "value of record \(i)")
                #expect(r.timestamp == sent[i].timestamp, "timestamp of record \(i)")
                #expect(r.headers == sent[i].headers, "headers of record \(i)")
                #expect(r.partition == sent[i].partition)
            }
            #expect(Set(received.map { "\($0.partition)/\($0.offset)" }).count == sent.count)

            // The broker stored the batches as produced: compressed, except where librdkafka
            // found compression would not shrink a batch and sent it plain.
            let headers = try cluster.batchHeaders(TopicPartition(topic, 0))
            #expect(headers.allSatisfy { $0.compression?.description == codec || $0.compression == CompressionCodec.none })
            #expect(headers.contains { $0.compression?.description == codec })
            let stored = try cluster.records(TopicPartition(topic, 0))
            #expect(stored.count == 20)
            #expect(stored.map(\.offset) == Array(0..<20))
            try await consumer.close()
        }
    }

    static func record(_ i: Int, topic: String) -> OutgoingRecord {
        let key: [UInt8]? = i % 10 == 0 ? nil : bytes("key-\(i)")
        let value: [UInt8]? = i % 13 == 0 ? nil : bytes(String(repeating: "payload \(i) ", count: 20))
        let headers = [RdKafkaHeader("n", bytes("\(i)")), RdKafkaHeader("empty", [])]
        let timestamp: Int64 = 1_700_000_000_000 + Int64(i)
        return OutgoingRecord(topic: topic, partition: Int32(i % 2), key: key, value: value, headers: headers, timestamp: timestamp)
    }

    @Test("records of one key keep their order within a partition")
    func perKeyOrder() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("order")
            try cluster.createTopic(topic, partitions: 4)
            let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "2", "batch.num.messages": "7"]))
            let sent = (0..<400).map { i in OutgoingRecord(topic: topic, key: "key-\(i % 9)", value: "\(i)") }
            _ = try await producer.sendAll(sent)

            let consumer = try RdKafkaConsumer(cluster.consumerConfig(group: uniqueName("g")))
            try consumer.subscribe([topic])
            let received = try await consume(consumer, count: sent.count)
            let byKey = Dictionary(grouping: received, by: { $0.keyString! })
            for (key, records) in byKey {
                let values = records.map { Int($0.valueString!)! }
                #expect(values == values.sorted(), "order of \(key)")
                #expect(Set(records.map(\.partition)).count == 1, "\(key) stayed in one partition")
            }
            #expect(byKey.count == 9)
            try await consumer.close()
        }
    }

    @Test("records appended in-process are consumed by librdkafka, and long polls wake on produce")
    func inProcessAppend() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("append")
            try cluster.createTopic(topic, partitions: 1)
            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g"), "fetch.wait.max.ms": "10000"]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            // Wait until the broker holds the consumer's Fetch: from here on it is a parked long poll.
            try await eventually("the consumer's first fetch") {
                _ = try await consumer.poll(timeoutMs: 10)
                return cluster.requestLog().entries.contains { $0.apiKey == ApiKey.fetch.rawValue }
            }
            let tp = TopicPartition(topic, 0)
            try cluster.append([KafkaRecord(timestamp: 5, key: bytes("k"), value: bytes("v"), headers: [.init(key: "h", value: nil)])], to: tp, compression: .zstd)
            // With a 10 s fetch wait, only a woken long poll delivers within the 8 s deadline below.
            let received = try await consume(consumer, count: 1, timeout: .seconds(8))
            #expect(received[0].valueString == "v")
            #expect(received[0].headers == [RdKafkaHeader("h", nil)])
            #expect(try cluster.watermarks(tp) == (0, 1))
            try await consumer.close()
        }
    }

    @Test("Metadata auto-creates topics with the configured partition count")
    func autoCreate() async throws {
        try await withCluster(partitions: 3) { cluster in
            let topic = uniqueName("auto")
            let producer = try RdKafkaProducer(cluster.clientConfig())
            let delivery = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v"))
            #expect(delivery.offset == 0)
            #expect(cluster.topics[topic] == 3)
        }
    }

    @Test("auto-creation can be turned off")
    func noAutoCreate() async throws {
        try await withCluster(configure: { $0.autoCreateTopics = false }) { cluster in
            let producer = try RdKafkaProducer(cluster.clientConfig(["message.timeout.ms": "1500"]))
            await #expect(throws: RdKafkaError.self) {
                try await producer.send(OutgoingRecord(topic: uniqueName("absent"), key: "k", value: "v"))
            }
            #expect(cluster.topics.isEmpty)
        }
    }

    @Test("the admin API creates and deletes topics, and reports errors")
    func admin() async throws {
        try await withCluster(brokers: 2) { cluster in
            let admin = try RdKafkaAdmin(cluster.clientConfig())
            let topic = uniqueName("admin")
            try await admin.createTopic(topic, partitions: 5)
            #expect(cluster.topics[topic] == 5)
            #expect(try await admin.topics()[topic] == 5)
            await #expect { try await admin.createTopic(topic, partitions: 5) } throws: { ($0 as? RdKafkaError)?.name == "TOPIC_ALREADY_EXISTS" }
            await #expect { try await admin.createTopic(uniqueName("rf"), partitions: 1, replicationFactor: 3) } throws: {
                ($0 as? RdKafkaError)?.name == "INVALID_REPLICATION_FACTOR"
            }
            try await admin.deleteTopic(topic)
            #expect(cluster.topics[topic] == nil)
            await #expect { try await admin.deleteTopic(topic) } throws: { ($0 as? RdKafkaError)?.name == "UNKNOWN_TOPIC_OR_PART" }
        }
    }

    @Test("partition leaders are spread over the brokers")
    func leadersSpread() async throws {
        try await withCluster(brokers: 3) { cluster in
            let topic = uniqueName("spread")
            try cluster.createTopic(topic, partitions: 6)
            let leaders = try (0..<6).map { try cluster.leader(of: TopicPartition(topic, Int32($0))) }
            #expect(Set(leaders) == [0, 1, 2])
            let producer = try RdKafkaProducer(cluster.clientConfig())
            let deliveries = try await producer.sendAll((0..<6).map { OutgoingRecord(topic: topic, partition: Int32($0), key: "k", value: "v") })
            #expect(deliveries.allSatisfy { $0.offset == 0 })
            let log = cluster.requestLog().entries.filter { $0.apiKey == ApiKey.produce.rawValue }
            #expect(Set(log.map(\.broker)) == [0, 1, 2])
        }
    }
}
