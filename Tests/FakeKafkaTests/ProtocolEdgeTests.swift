import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import NIOCore
import Testing

/// Wire-level behaviours a client library would hide: checked with exact bytes on one connection.
@Suite("Protocol edges", .guarded)
struct ProtocolEdgeTests {
    private func connect(_ cluster: FakeKafkaCluster) async throws -> RawKafkaClient {
        let broker = cluster.brokers[0]
        return try await RawKafkaClient.connect(host: broker.host, port: broker.port)
    }

    private func produceRequest(_ topic: String, acks: Int16, _ batch: ByteBuffer) -> ProduceRequest {
        ProduceRequest(acks: acks, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: batch)])])
    }

    private func fetchRequest(_ topic: String, offset: Int64, maxWaitMs: Int32, minBytes: Int32) -> FetchRequest {
        FetchRequest(replicaId: -1, maxWaitMs: maxWaitMs, minBytes: minBytes, maxBytes: 1 << 20,
                     topics: [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20)])])
    }

    @Test("acks=0 gets no response, and the next request is still answered")
    func acksZero() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("acks0")
            try cluster.createTopic(topic, partitions: 1)
            let raw = try await connect(cluster)
            let batch = try RecordBatch.encode([KafkaRecord(timestamp: 1, key: [1], value: [2])])
            try await raw.send(produceRequest(topic, acks: 0, batch), apiKey: .produce, version: 7, correlationId: 1)
            try await raw.send(ApiVersionsRequest(), apiKey: .apiVersions, version: 0, correlationId: 2)
            let next = try #require(try await raw.receive(apiKey: .apiVersions, version: 0))
            #expect(next.correlationId == 2, "the acks=0 produce was not answered")
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 1)
            await raw.close()
        }
    }

    @Test("pipelined requests are answered in request order, even when the first waits")
    func responsesInOrder() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("order")
            try cluster.createTopic(topic, partitions: 1)
            let raw = try await connect(cluster)
            // A long-polling fetch on an empty partition, then a request answered at once.
            let fetch = fetchRequest(topic, offset: 0, maxWaitMs: 300, minBytes: 1)
            try await raw.send(fetch, apiKey: .fetch, version: 11, correlationId: 1)
            try await raw.send(MetadataRequest(topics: []), apiKey: .metadata, version: 8, correlationId: 2)
            let first = try #require(try await raw.receive(apiKey: .fetch, version: 11))
            let second = try #require(try await raw.receive(apiKey: .metadata, version: 8))
            #expect([first.correlationId, second.correlationId] == [1, 2])
            var body = first.body
            let response = try FetchResponse(from: &body, version: 11)
            #expect(response.responses[0].partitions[0].errorCode == 0)
            #expect(response.responses[0].partitions[0].records?.readableBytes == 0)
            await raw.close()
        }
    }

    @Test("a legacy message set (magic 1) is refused with UNSUPPORTED_FOR_MESSAGE_FORMAT")
    func legacyMagic() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("magic")
            try cluster.createTopic(topic, partitions: 1)
            let raw = try await connect(cluster)
            var batch = try RecordBatch.encode([KafkaRecord(timestamp: 1, key: [1], value: [2])])
            batch.setInteger(Int8(1), at: batch.readerIndex + 16)  // the magic byte
            var body = try #require(try await raw.request(produceRequest(topic, acks: 1, batch), apiKey: .produce, version: 2))
            let response = try ProduceResponse(from: &body, version: 2)
            #expect(response.responses[0].partitionResponses[0].errorCode == KafkaErrorCode.unsupportedForMessageFormat.rawValue)
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 0)
            await raw.close()
        }
    }

    @Test("a fetch offset inside a batch returns the whole containing batch")
    func fetchInsideBatch() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("inside")
            try cluster.createTopic(topic, partitions: 1)
            let tp = TopicPartition(topic, 0)
            try cluster.append((0..<5).map { KafkaRecord(timestamp: 1, key: nil, value: [UInt8($0)]) }, to: tp)
            try cluster.append((5..<8).map { KafkaRecord(timestamp: 1, key: nil, value: [UInt8($0)]) }, to: tp)
            let raw = try await connect(cluster)
            let fetch = fetchRequest(topic, offset: 3, maxWaitMs: 0, minBytes: 0)
            var body = try #require(try await raw.request(fetch, apiKey: .fetch, version: 11))
            let partition = try FetchResponse(from: &body, version: 11).responses[0].partitions[0]
            #expect(partition.highWatermark == 8 && partition.lastStableOffset == 8 && partition.logStartOffset == 0)
            let batches = try RecordBatch.split(try #require(partition.records))
            #expect(batches.map(\.header.baseOffset) == [0, 5])
            await raw.close()
        }
    }

    @Test("the group takes the leader's preferred protocol; a member with none in common is refused")
    func groupProtocolChoice() async throws {
        try await withCluster { cluster in
            let group = uniqueName("g")
            let first = try await connect(cluster)
            let join = JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, memberId: "", protocolType: "consumer",
                                        protocols: [.init(name: "range", metadata: [1]), .init(name: "roundrobin", metadata: [2])])
            var body = try #require(try await first.request(join, apiKey: .joinGroup, version: 1))
            let joined = try JoinGroupResponse(from: &body, version: 1)
            #expect(joined.errorCode == 0 && joined.generationId == 1)
            #expect(joined.protocolName == "range")
            #expect(joined.members.map(\.metadata) == [[1]], "the leader gets its own metadata for the chosen protocol")

            let second = try await connect(cluster)
            var stranger = join
            stranger.memberId = ""
            stranger.protocols = [.init(name: "sticky", metadata: [])]
            var refused = try #require(try await second.request(stranger, apiKey: .joinGroup, version: 1))
            #expect(try JoinGroupResponse(from: &refused, version: 1).errorCode == KafkaErrorCode.inconsistentGroupProtocol.rawValue)
            #expect(cluster.group(group)?.members.count == 1)
            await first.close()
            await second.close()
        }
    }

    @Test("InitProducerId refuses a transaction timeout above Kafka's 15-minute maximum with INVALID_TRANSACTION_TIMEOUT")
    func transactionTimeoutBound() async throws {
        try await withCluster { cluster in
            let raw = try await connect(cluster)
            func initialize(timeoutMs: Int32) async throws -> Int16 {
                let request = InitProducerIdRequest(transactionalId: uniqueName("tx"), transactionTimeoutMs: timeoutMs)
                var body = try #require(try await raw.request(request, apiKey: .initProducerId, version: 4))
                return try InitProducerIdResponse(from: &body, version: 4).errorCode
            }
            #expect(try await initialize(timeoutMs: Int32.max) == KafkaErrorCode.invalidTransactionTimeout.rawValue)
            #expect(try await initialize(timeoutMs: 0) == KafkaErrorCode.invalidTransactionTimeout.rawValue)
            #expect(try await initialize(timeoutMs: 900_000) == 0)
            await raw.close()
        }
    }
}
