import CRdKafka
import Synchronization
import Dispatch
import Logging

/// A librdkafka consumer (group or manual assignment). Blocking calls run on a Dispatch queue,
/// never on Swift's cooperative pool.
public final class RdKafkaConsumer: Sendable {
    private let handle: Handle
    private let context: Unmanaged<ClientContext>
    private let queue = DispatchQueue(label: "rdkafka.consumer")
    /// Set by `abandon`: destroyed without closing.
    private let abandoned = Atomic<Bool>(false)

    /// - Parameters:
    ///   - properties: librdkafka properties; `group.id` is needed to subscribe or commit.
    ///   - logger: where librdkafka's log lines go (filtered first by its `log_level` property).
    ///   - onRebalance: called inside `poll`, on the consumer's queue, before partitions are
    ///     assigned and before they are given up; it may block (a revoke waits for it, so the
    ///     caller can finish work on the revoked partitions first). After a revoke, the stored
    ///     offsets are committed synchronously.
    ///   - onStatistics: librdkafka's statistics JSON, every `statistics.interval.ms` (when set),
    ///     called inside `poll`.
    public init(_ properties: [String: String], logger: Logger = Logger(label: "rdkafka"),
                onRebalance: (@Sendable (RdKafkaRebalance) -> Void)? = nil, onStatistics: (@Sendable (String) -> Void)? = nil) throws {
        (handle, context) = try makeClient(RD_KAFKA_CONSUMER, try makeConf(properties), "consumer", logger: logger,
                                           onRebalance: onRebalance, onStatistics: onStatistics)
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    /// Joins the group for these topics; assignments follow rebalances automatically.
    public func subscribe(_ topics: [String]) throws {
        let list = topics.map { PartitionOffset($0, RD_KAFKA_PARTITION_UA) }.makeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, "subscribing to \(topics)") }
    }

    /// Consumes exactly these partitions from these offsets, without group management.
    public func assign(_ partitions: [PartitionOffset]) throws {
        let list = partitions.makeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, "assigning \(partitions)") }
    }

    /// The partitions currently assigned.
    public func assignment() throws -> [PartitionOffset] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle.pointer, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw RdKafkaError(err, "reading assignment") }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try [PartitionOffset](list, context: "assignment").sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// The next record, or nil if none arrived within the timeout (or a partition EOF was
    /// reported). Consumer errors (a broker gone, a failed fetch) are thrown.
    public func poll(timeoutMs: Int32 = 100) async throws -> RdKafkaRecord? {
        let handle = self.handle
        return try await onQueue { try Self.pollBlocking(handle, timeoutMs) }
    }

    private static func pollBlocking(_ handle: Handle, _ timeoutMs: Int32) throws -> RdKafkaRecord? {
        guard let m = rd_kafka_consumer_poll(handle.pointer, timeoutMs) else { return nil }
        defer { rd_kafka_message_destroy(m) }
        if m.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
        if m.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let topic = m.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "-"
            throw RdKafkaError(m.pointee.err, "consuming \(topic)/\(m.pointee.partition)\(ClientContext.of(handle.pointer)?.tokenFailureNote ?? "")")
        }
        return RdKafkaRecord(m)
    }

    /// Up to `max` records: waits up to `timeoutMs` for the first, then takes what is already
    /// fetched. Errors librdkafka reports in between (a broker gone, a failed fetch) come back
    /// beside the records, since they are usually transient and the records must not be lost.
    public func pollBatch(max: Int, timeoutMs: Int32 = 100) async throws -> RdKafkaPollBatch {
        let handle = self.handle
        return try await onQueue {
            var batch = RdKafkaPollBatch()
            var wait = timeoutMs
            while batch.records.count < max {
                do {
                    guard let record = try Self.pollBlocking(handle, wait) else { break }
                    batch.records.append(record)
                } catch let error as RdKafkaError {
                    batch.errors.append(error)
                }
                wait = 0
            }
            return batch
        }
    }

    /// Marks records as processed up to (not including) each given offset; with
    /// `enable.auto.offset.store=false` only stored offsets are ever committed, including the
    /// commit librdkafka makes when a rebalance revokes a partition.
    public func storeOffsets(_ offsets: [PartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        let list = offsets.makeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_store(handle.pointer, list)
        // A partition revoked since the poll refuses the store; its next owner re-reads the
        // records and deduplication drops them, so this is not an error for the caller.
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE && err != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION {
            throw RdKafkaError(err, "storing offsets \(offsets)")
        }
    }

    /// Commits synchronously: the given offsets, or the consumed positions when nil.
    public func commit(_ offsets: [PartitionOffset]? = nil) async throws {
        let handle = self.handle
        try await onQueue {
            let list = offsets?.makeList()
            defer { list.map { rd_kafka_topic_partition_list_destroy($0) } }
            let err = rd_kafka_commit(handle.pointer, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, "committing \(offsets.map { "\($0)" } ?? "positions")") }
        }
    }

    /// The group's committed offsets for these partitions (-1001 when none).
    public func committed(_ partitions: [PartitionOffset], timeoutMs: Int32 = 10_000) async throws -> [PartitionOffset] {
        try await query(partitions, "fetching committed offsets", "committed offset of") { rk, list in
            rd_kafka_committed(rk, list, timeoutMs)
        }
    }

    /// For each partition, the first offset with a timestamp at or after `offset` (read as epoch
    /// milliseconds); -1 when there is none.
    public func offsetsForTimes(_ partitions: [PartitionOffset], timeoutMs: Int32 = 10_000) async throws -> [PartitionOffset] {
        try await query(partitions, "looking up offsets by time", "offset by time of") { rk, list in
            rd_kafka_offsets_for_times(rk, list, timeoutMs)
        }
    }

    /// Runs a blocking call that fills in a partition list, and reads the list back.
    private func query(
        _ partitions: [PartitionOffset], _ what: String, _ perPartition: String,
        _ call: @escaping @Sendable (OpaquePointer, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> rd_kafka_resp_err_t
    ) async throws -> [PartitionOffset] {
        let handle = self.handle
        return try await onQueue {
            let list = partitions.makeList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = call(handle.pointer, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, what) }
            return try [PartitionOffset](list, context: perPartition)
        }
    }

    /// Low and high watermarks as the broker reports them.
    public func watermarks(topic: String, partition: Int32, timeoutMs: Int32 = 10_000) async throws -> (low: Int64, high: Int64) {
        let handle = self.handle
        return try await onQueue {
            var low: Int64 = 0, high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(handle.pointer, topic, partition, &low, &high, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, "querying watermarks of \(topic)/\(partition)") }
            return (low, high)
        }
    }

    /// Leaves the group (committing if auto-commit is on) and stops fetching.
    public func close() async throws {
        let handle = self.handle
        try await onQueue {
            let err = rd_kafka_consumer_close(handle.pointer)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, "closing consumer") }
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Drops the consumer as a crashed process would: when it is destroyed, nothing stored is
    /// committed and the group is not left (the coordinator notices at the session timeout).
    public func abandon() {
        abandoned.store(true, ordering: .releasing)
    }

    /// Not closed before: destroying closes it (leaving the group), after any call still running,
    /// unless it was abandoned.
    deinit {
        destroyClient(handle, context, on: queue, flags: abandoned.load(ordering: .acquiring) ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0)
    }
}

/// What one `pollBatch` call returned.
public struct RdKafkaPollBatch: Sendable {
    public var records: [RdKafkaRecord] = []
    public var errors: [RdKafkaError] = []
}


/// A group rebalance as the application sees it.
public enum RdKafkaRebalance: Sendable, Equatable {
    case assigned([PartitionOffset])
    case revoked([PartitionOffset])
}
