import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import NIOCore
import Testing

/// DeleteRecords, OffsetDelete and the replicas Metadata reports, on the wire at the versions
/// and edges the real clients of the conformance suite do not reach (DeleteRecords v2, a request
/// to a broker that is not the leader, a compacted topic, offline replicas), and through the
/// cluster's Swift API.
@Suite("Records admin", .guarded)
struct RecordsAdminTests {
    private func connect(_ cluster: FakeKafkaCluster, broker: Int = 0) async throws -> RawKafkaClient {
        try await RawKafkaClient.connect(host: cluster.brokers[broker].host, port: cluster.brokers[broker].port)
    }

    private func fill(_ cluster: FakeKafkaCluster, _ tp: TopicPartition, count: Int) throws {
        // Batches of two, so a deletion can fall inside a batch.
        for i in stride(from: 0, to: count, by: 2) {
            try cluster.append((i..<min(i + 2, count)).map { KafkaRecord(timestamp: Int64(1000 + $0), key: nil, value: [UInt8($0)]) }, to: tp)
        }
    }

    private func marks(_ cluster: FakeKafkaCluster, _ tp: TopicPartition) throws -> [Int64] {
        let (low, high) = try cluster.watermarks(tp)
        return [low, high]
    }

    private func deleteRecords(_ raw: RawKafkaClient, _ tp: TopicPartition, before offset: Int64, version: Int16) async throws -> DeleteRecordsResponse.DeleteRecordsPartitionResult {
        let request = DeleteRecordsRequest(topics: [.init(name: tp.topic, partitions: [.init(partitionIndex: tp.partition, offset: offset)])], timeoutMs: 5000)
        var body = try #require(try await raw.request(request, apiKey: .deleteRecords, version: version))
        let response = try DeleteRecordsResponse(from: &body, version: version)
        return try #require(response.topics.first?.partitions.first)
    }

    @Test("DeleteRecords v0 and v2 move the log start offset; ListOffsets earliest, Fetch and records() follow it")
    func deleteMovesLogStart() async throws {
        try await withCluster { cluster in
            let tp = TopicPartition(uniqueName("delete"), 0)
            try cluster.createTopic(tp.topic, partitions: 1)
            try fill(cluster, tp, count: 10)
            let raw = try await connect(cluster)
            let first = try await deleteRecords(raw, tp, before: 3, version: 0)
            #expect(first.errorCode == 0 && first.lowWatermark == 3)
            #expect(try marks(cluster, tp) == [3, 10])
            #expect(try cluster.records(tp).map(\.offset) == Array(3..<10))

            let earliest = ListOffsetsRequest(replicaId: -1, topics: [.init(name: tp.topic, partitions: [.init(partitionIndex: 0, timestamp: -2)])])
            var body = try #require(try await raw.request(earliest, apiKey: .listOffsets, version: 5))
            #expect(try ListOffsetsResponse(from: &body, version: 5).topics[0].partitions[0].offset == 3)
            // The earliest record at or after a timestamp is never a deleted one.
            let byTime = ListOffsetsRequest(replicaId: -1, topics: [.init(name: tp.topic, partitions: [.init(partitionIndex: 0, timestamp: 0)])])
            body = try #require(try await raw.request(byTime, apiKey: .listOffsets, version: 5))
            #expect(try ListOffsetsResponse(from: &body, version: 5).topics[0].partitions[0].offset == 3)

            func fetch(at offset: Int64) async throws -> FetchResponse.PartitionData {
                let request = FetchRequest(maxWaitMs: 0, minBytes: 0, topics: [.init(topic: tp.topic, partitions: [.init(partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20)])])
                var body = try #require(try await raw.request(request, apiKey: .fetch, version: 11))
                return try FetchResponse(from: &body, version: 11).responses[0].partitions[0]
            }
            #expect(try await fetch(at: 2).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
            let atStart = try await fetch(at: 3)
            #expect(atStart.errorCode == 0 && atStart.logStartOffset == 3)
            // The batch holding offsets 2 and 3 is kept whole, as Kafka keeps it; the client skips 2.
            #expect(try RecordBatch.records(in: #require(atStart.records)).first?.offset == 2)

            let all = try await deleteRecords(raw, tp, before: -1, version: 2)
            #expect(all.errorCode == 0 && all.lowWatermark == 10)
            #expect(try cluster.records(tp).isEmpty)
            #expect(try marks(cluster, tp) == [10, 10])
            await raw.close()
        }
    }

    @Test("DeleteRecords refusals: past the high watermark, not the leader, unknown partition, compacted topic")
    func deleteRefusals() async throws {
        try await withCluster(brokers: 2) { cluster in
            let tp = TopicPartition(uniqueName("refuse"), 0)
            try cluster.createTopic(tp.topic, partitions: 1)
            try fill(cluster, tp, count: 4)
            let leader = try cluster.leader(of: tp)
            let raw = try await connect(cluster, broker: Int(leader))
            let other = try await connect(cluster, broker: Int(1 - leader))
            #expect(try await deleteRecords(raw, tp, before: 5, version: 1).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
            #expect(try await deleteRecords(raw, tp, before: -2, version: 1).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
            #expect(try await deleteRecords(other, tp, before: 1, version: 1).errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue)
            #expect(try await deleteRecords(raw, TopicPartition(tp.topic, 7), before: 1, version: 1).errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
            #expect(try marks(cluster, tp) == [0, 4])

            let compacted = uniqueName("compacted")
            let create = CreateTopicsRequest(topics: [.init(name: compacted, numPartitions: 1, replicationFactor: 1, configs: [.init(name: "cleanup.policy", value: "compact")])])
            _ = try await raw.request(create, apiKey: .createTopics, version: 4)
            let compactedTP = TopicPartition(compacted, 0)
            let compactedRaw = try await connect(cluster, broker: Int(try cluster.leader(of: compactedTP)))
            #expect(try await deleteRecords(compactedRaw, compactedTP, before: 0, version: 2).errorCode == KafkaErrorCode.policyViolation.rawValue)
            await raw.close()
            await other.close()
            await compactedRaw.close()
        }
    }

    @Test("the Swift API deletes records and says why it cannot")
    func swiftAPI() async throws {
        try await withCluster { cluster in
            let tp = TopicPartition(uniqueName("api"), 0)
            try cluster.createTopic(tp.topic, partitions: 1)
            try fill(cluster, tp, count: 6)
            #expect(try cluster.deleteRecords(tp, before: 5) == 5)
            #expect(try cluster.deleteRecords(tp, before: 2) == 5)
            #expect(try cluster.records(tp).map(\.offset) == [5])
            #expect(throws: FakeKafkaError.recordsNotDeleted(tp, reason: "offset 9 of \(tp) is outside 0...6 (its high watermark)")) {
                try cluster.deleteRecords(tp, before: 9)
            }
            #expect(throws: FakeKafkaError.unknownPartition(TopicPartition(tp.topic, 3))) { try cluster.deleteRecords(TopicPartition(tp.topic, 3), before: 0) }
        }
    }

    @Test("OffsetDelete forgets the partitions named; unknown groups and partitions are refused")
    func offsetDelete() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("offsets")
            let group = uniqueName("group")
            try cluster.createTopic(topic, partitions: 2)
            let raw = try await connect(cluster)
            let commit = OffsetCommitRequest(groupId: group, topics: [.init(name: topic, partitions: [
                .init(partitionIndex: 0, committedOffset: 4), .init(partitionIndex: 1, committedOffset: 6),
            ])])
            _ = try await raw.request(commit, apiKey: .offsetCommit, version: 7)
            #expect(cluster.committedOffsets(group: group).count == 2)

            func delete(_ group: String, _ partitions: [Int32]) async throws -> OffsetDeleteResponse {
                let request = OffsetDeleteRequest(groupId: group, topics: [.init(name: topic, partitions: partitions.map { .init(partitionIndex: $0) })])
                var body = try #require(try await raw.request(request, apiKey: .offsetDelete, version: 0))
                return try OffsetDeleteResponse(from: &body, version: 0)
            }
            let deleted = try await delete(group, [0, 9])
            #expect(deleted.errorCode == 0)
            #expect(deleted.topics[0].partitions.map(\.errorCode) == [0, KafkaErrorCode.unknownTopicOrPartition.rawValue])
            #expect(cluster.committedOffsets(group: group).mapValues(\.offset) == [TopicPartition(topic, 1): 6])
            #expect(try await delete(group + "-nope", [0]).errorCode == KafkaErrorCode.groupIdNotFound.rawValue)
            await raw.close()
        }
    }

    @Test("Metadata reports a topic's replicas; those on a stopped broker leave the ISR and are offline")
    func replicasInMetadata() async throws {
        try await withCluster(brokers: 3) { cluster in
            let topic = uniqueName("replicas")
            let raw = try await connect(cluster)
            let create = CreateTopicsRequest(topics: [.init(name: topic, numPartitions: 3, replicationFactor: 3)])
            var body = try #require(try await raw.request(create, apiKey: .createTopics, version: 4))
            #expect(try CreateTopicsResponse(from: &body, version: 4).topics.map(\.errorCode) == [0])
            for p: Int32 in 0..<3 {
                let replicas = try cluster.replicas(of: TopicPartition(topic, p))
                let leader = try cluster.leader(of: TopicPartition(topic, p))
                #expect(Set(replicas) == [0, 1, 2] && replicas.first == leader)
            }
            let stopped: Int32 = 2
            try await cluster.stopBroker(stopped)
            body = try #require(try await raw.request(MetadataRequest(topics: [.init(name: topic)]), apiKey: .metadata, version: 8))
            let partitions = try MetadataResponse(from: &body, version: 8).topics[0].partitions
            #expect(partitions.count == 3)
            for partition in partitions {
                #expect(Set(partition.replicaNodes) == [0, 1, 2])
                #expect(Set(partition.isrNodes) == [0, 1])
                #expect(partition.offlineReplicas == [stopped])
            }
            await raw.close()
        }
    }
}
