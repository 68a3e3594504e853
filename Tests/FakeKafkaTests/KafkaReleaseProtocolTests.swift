import FakeKafka
import HarnessTestSupport
import KafkaProtocol
import NIOCore
import Testing

/// What clients of Kafka 3.9 and 4.0 (librdkafka 2.12 among them) read from a broker, checked
/// on the wire: topic ids, committed leader epochs, refused keyless records on compacted topics,
/// MAX_TIMESTAMP, authorized operations, DescribeTopicPartitions, telemetry subscriptions and
/// the advertised versions of each release.
@Suite("Kafka 3.9 and 4.0 protocol details", .guarded)
struct KafkaReleaseProtocolTests {
    private func connect(_ cluster: FakeKafkaCluster, broker: Int = 0) async throws -> RawKafkaClient {
        let b = cluster.brokers[broker]
        return try await RawKafkaClient.connect(host: b.host, port: b.port)
    }

    private func call<Response: KafkaMessage>(_ raw: RawKafkaClient, _ request: some KafkaMessage, _ key: ApiKey, version: Int16,
                                              as: Response.Type) async throws -> Response {
        var body = try #require(try await raw.request(request, apiKey: key, version: version))
        return try Response(from: &body, version: version)
    }

    @Test("Metadata v12 gives each topic an id, a new one when it is re-created, and answers a request by id alone")
    func topicIds() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("ids")
            try cluster.createTopic(topic, partitions: 3)
            let raw = try await connect(cluster)
            func describe(_ request: MetadataRequest) async throws -> MetadataResponse.MetadataResponseTopic {
                try #require(try await call(raw, request, .metadata, version: 12, as: MetadataResponse.self).topics.first)
            }
            let first = try await describe(MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: false))
            #expect(first.errorCode == 0 && first.topicId != .zero && first.partitions.count == 3)
            let byId = try await describe(MetadataRequest(topics: [.init(topicId: first.topicId, name: nil)], allowAutoTopicCreation: false))
            #expect(byId.name == topic && byId.topicId == first.topicId)

            try cluster.deleteTopic(topic)
            try cluster.createTopic(topic, partitions: 1)
            let again = try await describe(MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: false))
            #expect(again.topicId != first.topicId && again.topicId != .zero, "a re-created topic is a new topic")
            #expect(again.partitions.count == 1)
            let stale = try await describe(MetadataRequest(topics: [.init(topicId: first.topicId, name: nil)], allowAutoTopicCreation: false))
            #expect(stale.errorCode == KafkaErrorCode.unknownTopicId.rawValue)
            await raw.close()
        }
    }

    @Test("Produce v11 and Fetch v16 (topics by id) round-trip a record; a re-created topic's old id is UNKNOWN_TOPIC_ID")
    func fetchByTopicId() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("fetchid")
            try cluster.createTopic(topic, partitions: 1)
            let tp = TopicPartition(topic, 0)
            let raw = try await connect(cluster, broker: Int(try cluster.leader(of: tp)))
            let produce = ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [
                .init(name: topic, partitionData: [.init(index: 0, records: try RecordBatch.encode([KafkaRecord(timestamp: 7, key: [1], value: [2])]))]),
            ])
            let produced = try await call(raw, produce, .produce, version: 11, as: ProduceResponse.self)
            #expect(produced.responses.first?.partitionResponses.first?.errorCode == 0)
            let metadata = try await call(raw, MetadataRequest(topics: [.init(name: topic)]), .metadata, version: 12, as: MetadataResponse.self)
            let id = try #require(metadata.topics.first?.topicId)
            func fetch(_ topicId: KafkaUUID) async throws -> FetchResponse.FetchableTopicResponse {
                let request = FetchRequest(maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [
                    .init(topicId: topicId, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)]),
                ])
                return try #require(try await call(raw, request, .fetch, version: 16, as: FetchResponse.self).responses.first)
            }
            let fetched = try await fetch(id)
            #expect(fetched.topicId == id)
            let records = try #require(fetched.partitions.first?.records)
            #expect(try RecordBatch.records(in: records).map(\.value) == [[2]])

            try cluster.deleteTopic(topic)
            try cluster.createTopic(topic, partitions: 1)
            #expect(try await fetch(id).partitions.first?.errorCode == KafkaErrorCode.unknownTopicId.rawValue)
            await raw.close()
        }
    }

    @Test("the leader epoch committed with an offset comes back from OffsetFetch")
    func committedLeaderEpoch() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("epoch")
            let group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            let raw = try await connect(cluster, broker: Int(cluster.coordinator(of: group)))
            let commit = OffsetCommitRequest(groupId: group, topics: [.init(name: topic, partitions: [
                .init(partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 7, committedMetadata: "m"),
                .init(partitionIndex: 1, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: nil),
            ])])
            let committed = try await call(raw, commit, .offsetCommit, version: 7, as: OffsetCommitResponse.self)
            #expect(committed.topics.flatMap(\.partitions).allSatisfy { $0.errorCode == 0 })
            let fetch = OffsetFetchRequest(groupId: group, topics: [.init(name: topic, partitionIndexes: [0, 1])])
            let fetched = try await call(raw, fetch, .offsetFetch, version: 7, as: OffsetFetchResponse.self)
            let partitions = try #require(fetched.topics.first?.partitions)
            #expect(partitions.map(\.committedOffset) == [42, 5])
            #expect(partitions.map(\.committedLeaderEpoch) == [7, -1])
            #expect(cluster.committedOffsets(group: group)[TopicPartition(topic, 0)]?.leaderEpoch == 7)
            await raw.close()
        }
    }

    @Test("a compacted topic refuses keyless records with INVALID_RECORD, naming each in the record errors (KIP-467)")
    func compactedTopicNeedsKeys() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("compact")
            let raw = try await connect(cluster)
            let create = CreateTopicsRequest(topics: [.init(name: topic, numPartitions: 1, replicationFactor: 1,
                                                            configs: [.init(name: "cleanup.policy", value: "compact")])])
            #expect(try await call(raw, create, .createTopics, version: 4, as: CreateTopicsResponse.self).topics.first?.errorCode == 0)
            let leader = try await connect(cluster, broker: Int(try cluster.leader(of: TopicPartition(topic, 0))))
            func produce(_ records: [KafkaRecord]) async throws -> ProduceResponse.PartitionProduceResponse {
                let request = ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [
                    .init(name: topic, partitionData: [.init(index: 0, records: try RecordBatch.encode(records))]),
                ])
                return try #require(try await call(leader, request, .produce, version: 8, as: ProduceResponse.self).responses.first?.partitionResponses.first)
            }
            let mixed = try await produce([KafkaRecord(timestamp: 1, key: [1], value: [1]), KafkaRecord(timestamp: 1, key: nil, value: [2]),
                                           KafkaRecord(timestamp: 1, key: [3], value: [3]), KafkaRecord(timestamp: 1, key: nil, value: [4])])
            #expect(mixed.errorCode == KafkaErrorCode.invalidRecord.rawValue)
            #expect(mixed.recordErrors.map(\.batchIndex) == [1, 3])
            #expect(mixed.errorMessage?.contains("without key") == true)
            #expect(try cluster.records(TopicPartition(topic, 0)).isEmpty, "nothing of a refused batch is stored")
            let keyed = try await produce([KafkaRecord(timestamp: 1, key: [1], value: [1])])
            #expect(keyed.errorCode == 0 && keyed.baseOffset == 0)
            await raw.close()
            await leader.close()
        }
    }

    @Test("ListOffsets MAX_TIMESTAMP (v7, KIP-734) finds the record with the largest timestamp")
    func maxTimestamp() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("maxts")
            try cluster.createTopic(topic, partitions: 1)
            let tp = TopicPartition(topic, 0)
            try cluster.append([KafkaRecord(timestamp: 100, key: [1], value: nil), KafkaRecord(timestamp: 900, key: [2], value: nil)], to: tp)
            try cluster.append([KafkaRecord(timestamp: 300, key: [3], value: nil)], to: tp)
            let raw = try await connect(cluster, broker: Int(try cluster.leader(of: tp)))
            func list(_ timestamp: Int64) async throws -> ListOffsetsResponse.ListOffsetsPartitionResponse {
                let request = ListOffsetsRequest(replicaId: -1, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: timestamp)])])
                return try #require(try await call(raw, request, .listOffsets, version: 7, as: ListOffsetsResponse.self).topics.first?.partitions.first)
            }
            let max = try await list(-3)
            #expect(max.errorCode == 0 && max.offset == 1 && max.timestamp == 900)
            #expect(try await list(-1).offset == 3)
            #expect(try await list(-2).offset == 0)
            await raw.close()
        }
    }

    @Test("authorized operations are every operation when asked (KIP-430), and the 'not asked' marker otherwise")
    func authorizedOperations() async throws {
        for release in KafkaVersion.allCases {
            try await withCluster(configure: { $0.kafkaVersion = release }) { cluster in
                let topic = uniqueName("ops")
                try cluster.createTopic(topic, partitions: 1)
                let raw = try await connect(cluster)
                func bits(_ operations: [Int32]) -> Int32 { operations.reduce(0) { $0 | (1 << $1) } }
                // READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
                // DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
                let asked = MetadataRequest(topics: [.init(name: topic)], includeTopicAuthorizedOperations: true)
                let described = try await call(raw, asked, .metadata, version: 10, as: MetadataResponse.self)
                #expect(described.topics.first?.topicAuthorizedOperations == bits([3, 4, 5, 6, 7, 8, 10, 11]))
                let plain = try await call(raw, MetadataRequest(topics: [.init(name: topic)]), .metadata, version: 10, as: MetadataResponse.self)
                #expect(plain.topics.first?.topicAuthorizedOperations == Int32.min)

                let clusterOps = try await call(raw, DescribeClusterRequest(includeClusterAuthorizedOperations: true), .describeCluster,
                                                version: 1, as: DescribeClusterResponse.self)
                #expect(clusterOps.clusterAuthorizedOperations == bits([5, 7, 8, 9, 10, 11, 12]))

                let group = uniqueName("g")
                let coordinator = try await connect(cluster, broker: Int(cluster.coordinator(of: group)))
                let groups = try await call(coordinator, DescribeGroupsRequest(groups: [group], includeAuthorizedOperations: true),
                                            .describeGroups, version: 4, as: DescribeGroupsResponse.self)
                // Kafka 4.0 gave groups configs of their own, and the operations on them.
                let expected = release == .v4_0 ? bits([3, 6, 8, 10, 11]) : bits([3, 6, 8])
                #expect(groups.groups.first?.authorizedOperations == expected, "\(release.rawValue)")
                await raw.close()
                await coordinator.close()
            }
        }
    }

    @Test("DescribeTopicPartitions pages through partitions with a cursor, with topic ids")
    func describeTopicPartitions() async throws {
        try await withCluster(brokers: 2) { cluster in
            let a = "a-" + uniqueName("dtp"), b = "b-" + uniqueName("dtp")
            try cluster.createTopic(a, partitions: 3)
            try cluster.createTopic(b, partitions: 2)
            let raw = try await connect(cluster)
            let first = try await call(raw, DescribeTopicPartitionsRequest(topics: [.init(name: b), .init(name: a)], responsePartitionLimit: 4),
                                       .describeTopicPartitions, version: 0, as: DescribeTopicPartitionsResponse.self)
            #expect(first.topics.map(\.name) == [a, b])
            #expect(first.topics.map { $0.partitions.map(\.partitionIndex) } == [[0, 1, 2], [0]])
            #expect(first.topics.allSatisfy { $0.topicId != .zero })
            let cursor = try #require(first.nextCursor)
            #expect(cursor.topicName == b && cursor.partitionIndex == 1)
            let rest = try await call(raw, DescribeTopicPartitionsRequest(topics: [.init(name: a), .init(name: b)], responsePartitionLimit: 4,
                                                                    cursor: .init(topicName: cursor.topicName, partitionIndex: cursor.partitionIndex)),
                                      .describeTopicPartitions, version: 0, as: DescribeTopicPartitionsResponse.self)
            #expect(rest.topics.map(\.name) == [b] && rest.topics.first?.partitions.map(\.partitionIndex) == [1])
            #expect(rest.nextCursor == nil)
            let unknown = try await call(raw, DescribeTopicPartitionsRequest(topics: [.init(name: "no-such-topic")]),
                                         .describeTopicPartitions, version: 0, as: DescribeTopicPartitionsResponse.self)
            #expect(unknown.topics.first?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
            await raw.close()
        }
    }

    @Test("GetTelemetrySubscriptions answers 'no subscription': no metrics requested, a client instance id given")
    func telemetrySubscription() async throws {
        try await withCluster { cluster in
            let raw = try await connect(cluster)
            let answer = try await call(raw, GetTelemetrySubscriptionsRequest(), .getTelemetrySubscriptions, version: 0,
                                        as: GetTelemetrySubscriptionsResponse.self)
            #expect(answer.errorCode == 0 && answer.requestedMetrics.isEmpty)
            #expect(answer.clientInstanceId != .zero)
            await raw.close()
        }
    }

    @Test("ApiVersions advertises each release's ranges within what is served: Kafka 4.0 drops old versions (KIP-896)")
    func advertisedPerRelease() async throws {
        for release in KafkaVersion.allCases {
            try await withCluster(configure: { $0.kafkaVersion = release }) { cluster in
                let raw = try await connect(cluster)
                let answer = try await call(raw, ApiVersionsRequest(), .apiVersions, version: 3, as: ApiVersionsResponse.self)
                let ranges = Dictionary(uniqueKeysWithValues: answer.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
                for key in ApiKey.allCases {
                    #expect(ranges[key.rawValue] == release.advertised(key), "\(release.rawValue) \(key)")
                }
                #expect(ranges[ApiKey.metadata.rawValue]?.upperBound == 12)
                #expect(ranges[ApiKey.describeTopicPartitions.rawValue] == 0...0)
                #expect(ranges[ApiKey.getTelemetrySubscriptions.rawValue] == 0...0)
                switch release {
                case .v3_9: #expect(ranges[ApiKey.produce.rawValue]?.lowerBound == 0)
                case .v4_0:
                    #expect(ranges[ApiKey.produce.rawValue]?.lowerBound == 3)
                    #expect(ranges[ApiKey.listOffsets.rawValue]?.lowerBound == 1)
                    #expect(ranges[ApiKey.createTopics.rawValue]?.lowerBound == 2)
                }
                await raw.close()
            }
        }
    }
}
