import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import NIOCore
import RdKafka
import Testing

/// Bad input ends one client's connection (or gets an error answer); everyone else is served.
@Suite("Bad input", .guarded)
struct BadInputTests {
    /// Runs `attack` on one raw connection and checks a librdkafka producer still works after.
    private func survives(_ attack: (RawKafkaClient) async throws -> Void) async throws {
        try await withCluster(configure: { $0.maxFrameSize = 1024 * 1024 }) { cluster in
            let topic = uniqueName("bad")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "before"))
            let broker = cluster.brokers[0]
            let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            try await attack(raw)
            await raw.close()
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "after"))
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 2)
        }
    }

    @Test("a malformed request header closes that connection")
    func malformedHeader() async throws {
        try await survives { raw in
            var frame = ByteBuffer()
            frame.writeInteger(Int32(3))
            frame.writeBytes([0, 1, 2])
            try await raw.sendRaw(frame)
            #expect(await raw.nextFrame() == nil, "connection closed")
        }
    }

    @Test("an oversized frame closes that connection")
    func oversizedFrame() async throws {
        try await survives { raw in
            var frame = ByteBuffer()
            frame.writeInteger(Int32(64 * 1024 * 1024))
            frame.writeBytes([0, 0, 0, 0])
            try await raw.sendRaw(frame)
            #expect(await raw.nextFrame() == nil)
        }
    }

    @Test("an unknown API key closes that connection")
    func unknownApiKey() async throws {
        try await survives { raw in
            try await raw.sendRaw(RawKafkaClient.frame(apiKey: 999, version: 0, correlationId: 7, flexible: false))
            #expect(await raw.nextFrame() == nil)
        }
    }

    @Test("an unsupported version of an API closes that connection")
    func unsupportedVersion() async throws {
        try await survives { raw in
            try await raw.sendRaw(RawKafkaClient.frame(apiKey: ApiKey.fetch.rawValue, version: 15, correlationId: 7, flexible: true))
            #expect(await raw.nextFrame() == nil)
        }
    }

    @Test("a too-new ApiVersions gets error 35 in v0 format with our ranges")
    func apiVersionsTooNew() async throws {
        try await survives { raw in
            // Whatever a v9 body would be: the broker must not need to understand it.
            try await raw.sendRaw(RawKafkaClient.frame(apiKey: ApiKey.apiVersions.rawValue, version: 9, correlationId: 3, flexible: true) {
                $0.writeBytes([0, 0, 0])
            })
            var response = try #require(await raw.nextFrame())
            #expect(try ResponseHeader(from: &response, flexible: false).correlationId == 3)
            let body = try ApiVersionsResponse(from: &response, version: 0)
            #expect(body.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
            #expect(body.apiKeys.first { $0.apiKey == ApiKey.joinGroup.rawValue }?.minVersion == 0)
            #expect(body.apiKeys.first { $0.apiKey == ApiKey.fetch.rawValue }.map { $0.minVersion...$0.maxVersion } == 4...17)
            #expect(body.apiKeys.first { $0.apiKey == ApiKey.produce.rawValue }?.minVersion == 0, "librdkafka 2.0 compresses only if Produce 0 is in range")
        }
    }

    @Test("a truncated request body closes that connection")
    func truncatedBody() async throws {
        try await survives { raw in
            try await raw.sendRaw(RawKafkaClient.frame(apiKey: ApiKey.metadata.rawValue, version: 4, correlationId: 1, flexible: false) {
                $0.writeInteger(Int32(5))  // five topics promised, none sent
            })
            #expect(await raw.nextFrame() == nil)
        }
    }

    @Test("a batch with a bad CRC is refused with CORRUPT_MESSAGE and nothing is appended")
    func corruptBatch() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("crc")
            try cluster.createTopic(topic, partitions: 1)
            let broker = cluster.brokers[0]
            let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            var batch = try RecordBatch.encode([KafkaRecord(timestamp: 1, key: [1], value: [2])])
            batch.setInteger(UInt8(0xFF), at: batch.writerIndex - 1)
            #expect(try await Self.produce(batch, to: topic, over: raw) == KafkaErrorCode.corruptMessage.rawValue)
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 0)
            await raw.close()
        }
    }

    @Test("a batch whose last offset delta disagrees with its record count is refused and moves no offsets")
    func offsetRangeLie() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("range")
            try cluster.createTopic(topic, partitions: 1)
            let broker = cluster.brokers[0]
            let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            // Two records claiming an offset range of -9: with a valid CRC, only the range check stops it.
            var batch = try RecordBatch.encode([KafkaRecord(timestamp: 1, key: [1], value: [2]), KafkaRecord(timestamp: 1, key: [1], value: [3])])
            batch.setInteger(Int32(-10), at: batch.readerIndex + 23)
            let crc = batch.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
            batch.setInteger(crc, at: batch.readerIndex + 17)
            #expect(try await Self.produce(batch, to: topic, over: raw) == KafkaErrorCode.corruptMessage.rawValue)
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 0)
            await raw.close()
        }
    }

    @Test("a retried idempotent batch is answered with its first offset and not appended twice")
    func duplicateSequence() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("dup")
            try cluster.createTopic(topic, partitions: 1)
            let broker = cluster.brokers[0]
            let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            var body = try #require(try await raw.request(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 1000), apiKey: .initProducerId, version: 1))
            let pid = try InitProducerIdResponse(from: &body, version: 1)
            func produce(sequence: Int32, count: Int) async throws -> ProduceResponse.PartitionProduceResponse {
                let records = (0..<count).map { KafkaRecord(timestamp: 1, key: [1], value: [UInt8($0)]) }
                let batch = try RecordBatch.encode(records, producer: .init(producerId: pid.producerId, producerEpoch: pid.producerEpoch, baseSequence: sequence))
                let request = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: batch)])])
                var body = try #require(try await raw.request(request, apiKey: .produce, version: 7))
                return try ProduceResponse(from: &body, version: 7).responses[0].partitionResponses[0]
            }
            #expect(try await produce(sequence: 0, count: 3).baseOffset == 0)
            #expect(try await produce(sequence: 3, count: 2).baseOffset == 3)
            let retried = try await produce(sequence: 3, count: 2)
            #expect(retried.errorCode == 0 && retried.baseOffset == 3)
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 5)
            let gap = try await produce(sequence: 9, count: 1)
            #expect(gap.errorCode == KafkaErrorCode.outOfOrderSequenceNumber.rawValue)
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 5)
            await raw.close()
        }
    }

    /// Produces `batch` to partition 0 of `topic` (Produce v7, acks 1); returns the partition's error code.
    static func produce(_ batch: ByteBuffer, to topic: String, over raw: RawKafkaClient) async throws -> Int16 {
        let request = ProduceRequest(acks: 1, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: batch)])])
        var body = try #require(try await raw.request(request, apiKey: .produce, version: 7))
        return try ProduceResponse(from: &body, version: 7).responses[0].partitionResponses[0].errorCode
    }
}
