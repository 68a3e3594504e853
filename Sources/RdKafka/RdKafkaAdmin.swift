import CRdKafka

/// Topic administration through librdkafka's Admin API.
public final class RdKafkaAdmin: Sendable {
    private let handle: Handle

    public init(_ properties: [String: String]) throws {
        let conf = try makeConf(properties)
        handle = Handle(pointer: try makeClient(RD_KAFKA_PRODUCER, conf, "admin client"))
    }

    /// Creates a topic; throws the broker's error for it (e.g. TOPIC_ALREADY_EXISTS).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1, timeoutMs: Int32 = 10_000) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, partitions, replicationFactor, &errstr, errstr.count) else {
            throw RdKafkaError(message: errorString(errstr), context: "describing new topic \(name)")
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        try runAdmin(timeoutMs: timeoutMs, what: "creating topic \(name)") { queue in
            var topics: [OpaquePointer?] = [topic]
            rd_kafka_CreateTopics(handle.pointer, &topics, 1, nil, queue)
        } result: { event in
            var n = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n)
            return (0..<n).map { results![$0]! }
        }
    }

    /// Deletes a topic; throws the broker's error for it.
    public func deleteTopic(_ name: String, timeoutMs: Int32 = 10_000) throws {
        let topic = rd_kafka_DeleteTopic_new(name)
        defer { rd_kafka_DeleteTopic_destroy(topic) }
        try runAdmin(timeoutMs: timeoutMs, what: "deleting topic \(name)") { queue in
            var topics: [OpaquePointer?] = [topic]
            rd_kafka_DeleteTopics(handle.pointer, &topics, 1, nil, queue)
        } result: { event in
            var n = 0
            let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &n)
            return (0..<n).map { results![$0]! }
        }
    }

    /// Topics with their partition counts, from a Metadata request.
    public func topics(timeoutMs: Int32 = 10_000) throws -> [String: Int32] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw RdKafkaError(err, "fetching metadata") }
        defer { rd_kafka_metadata_destroy(metadata) }
        var result: [String: Int32] = [:]
        for i in 0..<Int(metadata.pointee.topic_cnt) {
            let t = metadata.pointee.topics[i]
            if t.err == RD_KAFKA_RESP_ERR_NO_ERROR { result[String(cString: t.topic)] = t.partition_cnt }
        }
        return result
    }

    private func runAdmin(timeoutMs: Int32, what: String, start: (OpaquePointer) -> Void, result: (OpaquePointer) -> [OpaquePointer]) throws {
        let queue = rd_kafka_queue_new(handle.pointer)!
        defer { rd_kafka_queue_destroy(queue) }
        start(queue)
        guard let event = rd_kafka_queue_poll(queue, Int32(timeoutMs) + 1000) else {
            throw RdKafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, what)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, what) }
        for topicResult in result(event) {
            let e = rd_kafka_topic_result_error(topicResult)
            if e != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(e, what) }
        }
    }

    deinit {
        rd_kafka_destroy(handle.pointer)
    }
}
