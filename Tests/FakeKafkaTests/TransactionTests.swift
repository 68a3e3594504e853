import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import RdKafka
import Testing

/// Transactions written by librdkafka 2.0.2's transactional producer and read by its consumers
/// (read_committed is librdkafka's default), with the cluster's view of markers and the LSO.
@Suite("Transactions through librdkafka", .guarded)
struct TransactionTests {
    /// Produces `values` to partition 0 in one transaction and commits or aborts it.
    static func transaction(_ producer: RdKafkaProducer, _ topic: String, _ values: [String], commit: Bool, partition: Int32 = 0) async throws {
        try producer.beginTransaction()
        _ = try await producer.sendAll(values.map { OutgoingRecord(topic: topic, partition: partition, key: "k", value: $0) })
        if commit { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
    }

    static func values(_ records: [RdKafkaRecord]) -> [String] { records.map { $0.valueString ?? "" } }

    @Test("read_committed gets the committed transactions in order; read_uncommitted gets every record")
    func committedAndAborted() async throws {
        // Two brokers: the transaction coordinator and the partition leaders need not be the same.
        try await withCluster(brokers: 2) { cluster in
            let topic = uniqueName("txn")
            try cluster.createTopic(topic, partitions: 2)
            let producer = try RdKafkaProducer(cluster.clientConfig(["transactional.id": uniqueName("tid"), "linger.ms": "5"]))
            try await producer.initTransactions()
            try await Self.transaction(producer, topic, ["c0", "c1"], commit: true)
            try await Self.transaction(producer, topic, ["a0", "a1", "a2"], commit: false)
            try await Self.transaction(producer, topic, ["c2"], commit: true)
            try await Self.transaction(producer, topic, ["a3"], commit: false)
            try await Self.transaction(producer, topic, ["c3", "c4"], commit: true)
            try await Self.transaction(producer, topic, ["other"], commit: true, partition: 1)

            let tp = TopicPartition(topic, 0)
            // Five data batches and five markers; the markers are no records.
            let headers = try cluster.batchHeaders(tp)
            #expect(headers.filter(\.isControl).count == 5)
            #expect(headers.allSatisfy { $0.isTransactional })
            #expect(try cluster.records(tp).map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["c0", "c1", "a0", "a1", "a2", "c2", "a3", "c3", "c4"])
            #expect(try cluster.records(tp, isolation: .readCommitted).map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["c0", "c1", "c2", "c3", "c4"])
            #expect(try cluster.abortedTransactions(tp).map(\.firstOffset) == [3, 9])
            #expect(try cluster.lastStableOffset(tp) == cluster.watermarks(tp).high)

            let committed = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            try committed.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            #expect(Self.values(try await consume(committed, count: 5)) == ["c0", "c1", "c2", "c3", "c4"])
            try await committed.close()

            let everything = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g"), "isolation.level": "read_uncommitted"]))
            try everything.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            #expect(Self.values(try await consume(everything, count: 9)) == ["c0", "c1", "a0", "a1", "a2", "c2", "a3", "c3", "c4"])
            try await everything.close()
        }
    }

    @Test("an open transaction holds read_committed at its first offset; a second producer of the id fences the first and aborts it")
    func openTransactionAndFencing() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("open")
            try cluster.createTopic(topic, partitions: 1)
            let tp = TopicPartition(topic, 0)
            try cluster.append([KafkaRecord(timestamp: 1, key: nil, value: bytes("plain"))], to: tp)
            let id = uniqueName("tid")
            let first = try RdKafkaProducer(cluster.clientConfig(["transactional.id": id, "linger.ms": "5"]))
            try await first.initTransactions()
            try first.beginTransaction()
            _ = try await first.sendAll([OutgoingRecord(topic: topic, partition: 0, key: "k", value: "zombie")])
            #expect(try cluster.lastStableOffset(tp) == 1)
            #expect(try cluster.watermarks(tp).high == 2)
            #expect(cluster.transactions.first { $0.transactionalId == id }?.isOngoing == true)

            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g"), "fetch.wait.max.ms": "50"]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            #expect(Self.values(try await consume(consumer, count: 1)) == ["plain"])
            // librdkafka asks ListOffsets with its isolation level: its log end is the LSO.
            #expect(try await consumer.watermarks(topic: topic, partition: 0).high == 1)

            let second = try RdKafkaProducer(cluster.clientConfig(["transactional.id": id, "linger.ms": "5"]))
            try await second.initTransactions()
            let described = try #require(cluster.transactions.first { $0.transactionalId == id })
            #expect(described.producerEpoch == 1 && !described.isOngoing)
            #expect(try cluster.abortedTransactions(tp).map(\.firstOffset) == [1])
            #expect(try cluster.lastStableOffset(tp) == cluster.watermarks(tp).high)

            try await Self.transaction(second, topic, ["winner"], commit: true)
            #expect(Self.values(try await consume(consumer, count: 1)) == ["winner"])
            try await consumer.close()

            let refused = await #expect(throws: RdKafkaError.self) {
                _ = try await first.sendAll([OutgoingRecord(topic: topic, partition: 0, key: "k", value: "late")])
            }
            #expect(refused?.name == "INVALID_PRODUCER_EPOCH")
            let fenced = await #expect(throws: RdKafkaError.self) { try await first.commitTransaction() }
            #expect(fenced?.name == "_FENCED")
            #expect(try cluster.records(tp, isolation: .readCommitted).map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["plain", "winner"])
        }
    }

    @Test("offsets sent to a transaction reach the group only when it commits")
    func transactionalOffsets() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("src")
            try cluster.createTopic(topic, partitions: 1)
            let group = uniqueName("g")
            let producer = try RdKafkaProducer(cluster.clientConfig(["transactional.id": uniqueName("tid")]))
            try await producer.initTransactions()
            for (offset, commit) in [(Int64(3), false), (Int64(7), true)] {
                try producer.beginTransaction()
                _ = try await producer.send(OutgoingRecord(topic: topic, partition: 0, key: "k", value: "derived"))
                try await producer.sendOffsetsToTransaction([(topic, 0, offset)], group: group)
                #expect(cluster.committedOffsets(group: group).isEmpty)
                if commit { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
            }
            #expect(cluster.committedOffsets(group: group)[TopicPartition(topic, 0)]?.offset == 7)
        }
    }

    @Test("appendTransaction writes whole transactions in-process, as librdkafka reads them")
    func inProcessTransactions() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("direct")
            try cluster.createTopic(topic, partitions: 2)
            func records(_ values: [String]) -> [KafkaRecord] { values.map { KafkaRecord(timestamp: 1, key: bytes("k"), value: bytes($0)) } }
            try cluster.appendTransaction([TopicPartition(topic, 0): records(["c0"]), TopicPartition(topic, 1): records(["c1"])], transactionalId: "direct", commit: true)
            try cluster.appendTransaction([TopicPartition(topic, 0): records(["a0", "a1"])], transactionalId: "direct", commit: false, compression: .zstd)
            try cluster.appendTransaction([TopicPartition(topic, 0): records(["c2"])], transactionalId: "direct", commit: true)
            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning), PartitionOffset(topic, 1, RdKafkaOffset.beginning)])
            #expect(Set(Self.values(try await consume(consumer, count: 3))) == ["c0", "c1", "c2"])
            try await consumer.close()
            #expect(cluster.transactions.first?.producerEpoch == 2)
        }
    }
}
