import CRdKafka
import Foundation

/// librdkafka's transactional producer API, for a producer made with `transactional.id`. The
/// calls block until the coordinator answers (up to their timeout), so each runs on a thread of
/// its own instead of holding one of Swift's cooperative threads.
extension RdKafkaProducer {
    /// Gets the producer id and epoch for its `transactional.id`; fences earlier producers of it.
    public func initTransactions(timeoutMs: Int32 = 30_000) async throws {
        let handle = self.handle
        try await blocking("initialising transactions") { rd_kafka_init_transactions(handle.pointer, timeoutMs) }
    }

    /// Starts a transaction locally; the coordinator learns of it with the first record.
    public func beginTransaction() throws {
        try check("beginning a transaction", rd_kafka_begin_transaction(handle.pointer))
    }

    /// Flushes the transaction's records and commits it.
    public func commitTransaction(timeoutMs: Int32 = 30_000) async throws {
        let handle = self.handle
        try await blocking("committing the transaction") { rd_kafka_commit_transaction(handle.pointer, timeoutMs) }
    }

    /// Aborts the transaction: its records stay in the log but read_committed consumers skip them.
    public func abortTransaction(timeoutMs: Int32 = 30_000) async throws {
        let handle = self.handle
        try await blocking("aborting the transaction") { rd_kafka_abort_transaction(handle.pointer, timeoutMs) }
    }

    /// Commits a group's offsets (the next offset to read, per partition) as part of the
    /// transaction: the group sees them only if it commits.
    public func sendOffsetsToTransaction(_ offsets: [(topic: String, partition: Int32, offset: Int64)], group: String,
                                         timeoutMs: Int32 = 30_000) async throws {
        let handle = self.handle
        try await blocking("sending offsets of group '\(group)' to the transaction") {
            let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for o in offsets { rd_kafka_topic_partition_list_add(list, o.topic, o.partition).pointee.offset = o.offset }
            let metadata = rd_kafka_consumer_group_metadata_new(group)
            defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
            return rd_kafka_send_offsets_to_transaction(handle.pointer, list, metadata, timeoutMs)
        }
    }

    private func blocking(_ context: String, _ call: @escaping @Sendable () -> OpaquePointer?) async throws {
        let error: TransactionError? = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: TransactionError(call())) }
        }
        if let error { throw error.error(context) }
    }

    private func check(_ context: String, _ error: OpaquePointer?) throws {
        if let error = TransactionError(error) { throw error.error(context) }
    }
}

/// An `rd_kafka_error_t` read and destroyed at once: its code, message, and whether librdkafka
/// says the producer is fenced or otherwise unusable (fatal), or the transaction must be aborted.
private struct TransactionError: Sendable {
    var code: rd_kafka_resp_err_t
    var message: String
    var isFatal: Bool
    var requiresAbort: Bool

    init?(_ error: OpaquePointer?) {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        code = rd_kafka_error_code(error)
        message = String(cString: rd_kafka_error_string(error))
        isFatal = rd_kafka_error_is_fatal(error) != 0
        requiresAbort = rd_kafka_error_txn_requires_abort(error) != 0
    }

    func error(_ context: String) -> RdKafkaError {
        let qualifier = isFatal ? " (fatal)" : requiresAbort ? " (the transaction must be aborted)" : ""
        return RdKafkaError(message: message + qualifier, context: context, code: code)
    }
}
