import CRdKafka

/// A record header as librdkafka hands it over.
public struct RdKafkaHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// A consumed record.
public struct RdKafkaRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RdKafkaHeader]

    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64?, key: [UInt8]?, value: [UInt8]?, headers: [RdKafkaHeader]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    init(_ m: UnsafeMutablePointer<rd_kafka_message_t>) {
        let msg = m.pointee
        topic = String(cString: rd_kafka_topic_name(msg.rkt))
        partition = msg.partition
        offset = msg.offset
        key = msg.key.map { Array(UnsafeRawBufferPointer(start: $0, count: msg.key_len)) }
        value = msg.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: msg.len)) }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &type)
        // -1 is Kafka's "no timestamp" in a v2 batch, which librdkafka reports as a create time.
        timestamp = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts == -1 ? nil : ts
        var headers: [RdKafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var i = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(RdKafkaHeader(String(cString: name!), value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                i += 1
            }
        }
        self.headers = headers
    }

    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

/// A topic, partition and offset (or timestamp, for offset-by-time queries).
public struct PartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(_ topic: String, _ partition: Int32, _ offset: Int64 = RdKafkaOffset.invalid) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)/\(partition)@\(offset)" }
}

/// librdkafka's logical offsets.
public enum RdKafkaOffset {
    public static let beginning: Int64 = -2
    public static let end: Int64 = -1
    public static let stored: Int64 = -1000
    public static let invalid: Int64 = -1001
}

extension [PartitionOffset] {
    /// A C list that the caller must destroy.
    func makeList() -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(count))!
        for p in self {
            rd_kafka_topic_partition_list_add(list, p.topic, p.partition).pointee.offset = p.offset
        }
        return list
    }

    /// Reads a C list, throwing the first per-partition error.
    init(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, context: String) throws {
        self = []
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            if e.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw RdKafkaError(e.err, "\(context) \(String(cString: e.topic))/\(e.partition)")
            }
            append(PartitionOffset(String(cString: e.topic), e.partition, e.offset))
        }
    }
}
