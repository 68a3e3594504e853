import KafkaProtocol
import NIOCore

/// The decoding FakeKafka does on bytes a client sends, step by step as the broker takes them
/// (KafkaFrameDecoder, KafkaConnectionHandler, RequestRouter, then what the handlers decode
/// further). Decoders may refuse an input by throwing; a trap, an overflow or a runaway
/// allocation is the bug libFuzzer looks for. A message that decodes must also survive being
/// encoded and decoded again unchanged, which checks the generated codecs against each other.
public enum FuzzInputs {
    /// The broker's limit is 100 MiB; a smaller one keeps each run's allocations small.
    static let maxFrameSize = 1024 * 1024

    /// `bytes` as a client's TCP stream: size-prefixed frames, one after another.
    public static func requestStream(_ bytes: UnsafeRawBufferPointer) {
        var stream = ByteBuffer(bytes: bytes)
        while let frame = try? KafkaFrameDecoder.nextFrame(in: &stream, maxFrameSize: maxFrameSize) {
            request(frame)
        }
    }

    /// One frame, as KafkaConnectionHandler and RequestRouter decode it.
    static func request(_ frame: ByteBuffer) {
        var body = frame
        guard let header = try? RequestHeader(from: &body, isFlexible: { key, version in
            ApiKey(rawValue: key).map { $0.isFlexible(version: version) } ?? false
        }) else { return }
        guard let apiKey = ApiKey(rawValue: header.apiKey), apiKey.versions.contains(header.apiVersion) else { return }
        guard let request = try? apiKey.requestType.init(from: &body, version: header.apiVersion) else { return }
        roundTrip(request, version: header.apiVersion)
        switch request {
        case let produce as ProduceRequest:
            for topic in produce.topicData {
                for partition in topic.partitionData { recordBatches(partition.records ?? ByteBuffer()) }
            }
        case let join as JoinGroupRequest:
            for p in join.protocols { versioned(ConsumerProtocolSubscription.self, p.metadata) }
        case let sync as SyncGroupRequest:
            for a in sync.assignments { versioned(ConsumerProtocolAssignment.self, a.assignment) }
        default:
            break
        }
    }

    /// `bytes` as the records field of a Produce request: batches checked as Produce checks them,
    /// then read record by record (as ListOffsets by timestamp and Fetch readers do) whether or
    /// not the CRC matched, so mutations reach the record decoder and the decompressors.
    public static func recordBatches(_ bytes: UnsafeRawBufferPointer) {
        recordBatches(ByteBuffer(bytes: bytes))
    }

    static func recordBatches(_ records: ByteBuffer) {
        if let batches = try? RecordBatch.split(records) {
            for batch in batches {
                _ = try? RecordBatch.records(in: batch.bytes)
                _ = try? ControlBatch.marker(in: batch.bytes)
            }
        }
        _ = try? RecordBatch.records(in: records)
        _ = try? ControlBatch.marker(in: records)
        if let header = try? RecordBatchHeader(peekingAt: records) {
            _ = header.lastOffset
            _ = header.totalSize
        }
    }

    /// Embedded consumer-protocol bytes: an int16 version, then the body (what GroupDescription
    /// and clients read from JoinGroup and SyncGroup).
    static func versioned<M: KafkaMessage>(_: M.Type, _ bytes: [UInt8]) {
        var buf = ByteBuffer(bytes: bytes)
        guard let version = try? buf.readKafkaInt16(), M.versions.contains(version),
              let message = try? M(from: &buf, version: version) else { return }
        roundTrip(message, version: version)
    }

    static func roundTrip<M: KafkaMessage>(_ message: M, version: Int16) {
        var encoded = message.encoded(version: version)
        guard let again = try? M(from: &encoded, version: version) else {
            fatalError("\(M.self) v\(version) decoded, but its own encoding does not decode")
        }
        precondition(again == message, "\(M.self) v\(version) changed in an encode-decode round trip")
    }
}
