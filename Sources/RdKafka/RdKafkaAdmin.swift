import CRdKafka
import Dispatch
import Logging

/// Topic and group administration through librdkafka's Admin API. Every call waits for the
/// broker on a thread of its own, never on the cooperative pool (which a blocking wait there can
/// starve: the pool has a thread per core).
public final class RdKafkaAdmin: Sendable {
    private let handle: Handle
    private let context: Unmanaged<ClientContext>
    private let queue = DispatchQueue(label: "rdkafka.admin")

    /// - Parameter logger: where librdkafka's log lines go (filtered first by its `log_level` property).
    public init(_ properties: [String: String], logger: Logger = Logger(label: "rdkafka")) throws {
        (handle, context) = try makeClient(RD_KAFKA_PRODUCER, try makeConf(properties), "admin client", logger: logger)
    }

    /// Creates a topic with these topic configs (e.g. `message.timestamp.type`); throws the
    /// broker's error for it (e.g. TOPIC_ALREADY_EXISTS).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:],
                            timeoutMs: Int32 = 10_000) async throws {
        try await offPool { try self.createTopicBlocking(name, partitions, replicationFactor, configs, timeoutMs) }
    }

    private func createTopicBlocking(_ name: String, _ partitions: Int32, _ replicationFactor: Int32, _ configs: [String: String], _ timeoutMs: Int32) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, partitions, replicationFactor, &errstr, errstr.count) else {
            throw RdKafkaError(message: errorString(errstr), context: "describing new topic \(name)")
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            let error = rd_kafka_NewTopic_set_config(topic, key, value)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(error, "setting \(key)=\(value) on new topic \(name)") }
        }
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
    public func deleteTopic(_ name: String, timeoutMs: Int32 = 10_000) async throws {
        try await offPool { try self.deleteTopicBlocking(name, timeoutMs) }
    }

    private func deleteTopicBlocking(_ name: String, _ timeoutMs: Int32) throws {
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
    public func topics(timeoutMs: Int32 = 10_000) async throws -> [String: Int32] {
        try await offPool { try self.topicsBlocking(timeoutMs) }
    }

    private func topicsBlocking(_ timeoutMs: Int32) throws -> [String: Int32] {
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

    /// A consumer group as the cluster describes it (DescribeGroups); nil when the group is
    /// unknown or dead, so callers can wait for one to appear or to empty.
    public func describeConsumerGroup(_ id: String, timeoutMs: Int32 = 10_000) async throws -> ConsumerGroupInfo? {
        try await offPool { try self.describeConsumerGroupBlocking(id, timeoutMs) }
    }

    private func describeConsumerGroupBlocking(_ id: String, _ timeoutMs: Int32) throws -> ConsumerGroupInfo? {
        let what = "describing consumer group \(id)"
        return try withAdminEvent(timeoutMs: timeoutMs, what: what) { queue in
            id.withCString { name in
                var groups: [UnsafePointer<CChar>?] = [name]
                rd_kafka_DescribeConsumerGroups(handle.pointer, &groups, 1, nil, queue)
            }
        } read: { event in
            var n = 0
            guard let results = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(event), &n), n > 0,
                  let group = results[0] else { return nil }
            if let error = rd_kafka_ConsumerGroupDescription_error(group) {
                let code = rd_kafka_error_code(error)
                if code == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND { return nil }
                throw RdKafkaError(code, what)
            }
            let state = rd_kafka_ConsumerGroupDescription_state(group)
            if state == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD { return nil }
            let members = try (0..<rd_kafka_ConsumerGroupDescription_member_count(group)).compactMap { i -> ConsumerGroupInfo.Member? in
                guard let member = rd_kafka_ConsumerGroupDescription_member(group, i) else { return nil }
                let assigned = rd_kafka_MemberDescription_assignment(member).flatMap(rd_kafka_MemberAssignment_partitions)
                return ConsumerGroupInfo.Member(memberID: String(cString: rd_kafka_MemberDescription_consumer_id(member)),
                                                clientID: String(cString: rd_kafka_MemberDescription_client_id(member)),
                                                host: String(cString: rd_kafka_MemberDescription_host(member)),
                                                assignment: try assigned.map { try [PartitionOffset]($0, context: "assignment of") } ?? [])
            }
            return ConsumerGroupInfo(id: id, state: String(cString: rd_kafka_consumer_group_state_name(state)), members: members)
        }
    }

    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Starts an admin operation on a fresh queue, waits for its result event, throws the
    /// operation's error, and lets `read` take what it needs from the event before it is freed.
    private func withAdminEvent<T>(timeoutMs: Int32, what: String, start: (OpaquePointer) -> Void, read: (OpaquePointer) throws -> T) throws -> T {
        let queue = rd_kafka_queue_new(handle.pointer)!
        defer { rd_kafka_queue_destroy(queue) }
        start(queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1000) else {
            throw RdKafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, what)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, what) }
        return try read(event)
    }

    /// A topic operation: every topic's own result must be free of errors too.
    private func runAdmin(timeoutMs: Int32, what: String, start: (OpaquePointer) -> Void, result: (OpaquePointer) -> [OpaquePointer]) throws {
        try withAdminEvent(timeoutMs: timeoutMs, what: what, start: start) { event in
            for topicResult in result(event) {
                let e = rd_kafka_topic_result_error(topicResult)
                if e != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(e, what) }
            }
        }
    }

    deinit {
        destroyClient(handle, context, on: queue)
    }
}

/// A consumer group's state and members, from DescribeGroups.
public struct ConsumerGroupInfo: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberID: String
        public var clientID: String
        public var host: String
        /// The partitions the group's leader assigned to this member.
        public var assignment: [PartitionOffset]
    }

    public var id: String
    /// As librdkafka names it: Stable, PreparingRebalance, CompletingRebalance, Empty…
    public var state: String
    public var members: [Member]
}
