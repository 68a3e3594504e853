import Foundation
import KafkaProtocol
import NIOCore

/// Transactions as a test sees them: what a read_committed consumer would get, where the last
/// stable offset is, which transactions are open, and a way to write a whole transaction without
/// a client.
extension FakeKafkaCluster {
    /// The records of a partition as a consumer of this isolation level receives them, in offset
    /// order. Control batches (transaction markers) are never records; READ_COMMITTED also drops
    /// aborted transactions' records and stops at the last stable offset.
    public func records(_ tp: TopicPartition, isolation: IsolationLevel) throws -> [KafkaRecord] {
        let (batches, lastStable, aborted, start) = try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return (log.batches.map(\.bytes), log.lastStableOffset, log.transactions.aborted, log.logStartOffset)
        }
        guard isolation == .readCommitted else { return try batches.flatMap { try RecordBatch.records(in: $0) }.filter { $0.offset >= start } }
        var out: [KafkaRecord] = []
        for batch in batches {
            let header = try RecordBatchHeader(peekingAt: batch)
            if header.baseOffset >= lastStable { break }
            if header.isTransactional, aborted.contains(where: {
                $0.producerId == header.producerId && $0.firstOffset <= header.baseOffset && header.baseOffset < $0.lastOffset
            }) { continue }
            out += try RecordBatch.records(in: batch)
        }
        return out.filter { $0.offset >= start }
    }

    /// The last stable offset of a partition: the first offset of its earliest open transaction,
    /// else the high watermark.
    public func lastStableOffset(_ tp: TopicPartition) throws -> Int64 {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return log.lastStableOffset
        }
    }

    /// One past the last record a read_committed consumer receives from a partition (0 when
    /// none): as far as its committed offset gets once it has read everything, since markers and
    /// aborted records after that record are skipped, never delivered. Without transactions,
    /// the high watermark.
    public func consumableEnd(_ tp: TopicPartition) throws -> Int64 {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            let lastStable = log.lastStableOffset
            for batch in log.batches.reversed() where batch.baseOffset < lastStable {
                let header = try RecordBatchHeader(peekingAt: batch.bytes)
                if header.isControl { continue }
                if header.isTransactional, log.transactions.aborted.contains(where: {
                    $0.producerId == header.producerId && $0.firstOffset <= header.baseOffset && header.baseOffset < $0.lastOffset
                }) { continue }
                return batch.lastOffset + 1
            }
            return 0
        }
    }

    /// The transactions aborted on a partition, oldest first.
    public func abortedTransactions(_ tp: TopicPartition) throws -> [AbortedTransaction] {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return log.transactions.aborted
        }
    }

    /// Every transactional id the coordinator knows, with its producer id, epoch and open transaction.
    public var transactions: [TransactionDescription] {
        core.withState { state, _ in state.transactions.producers.values.map(\.description) }
            .sorted { $0.transactionalId < $1.transactionalId }
    }

    /// Writes one transaction without a client, as a transactional producer would: a new epoch of
    /// `transactionalId` (fencing any producer using it), one transactional batch per partition,
    /// then COMMIT or ABORT markers. Returns each partition's first offset.
    @discardableResult
    public func appendTransaction(_ records: [TopicPartition: [KafkaRecord]], transactionalId: String, commit: Bool,
                                  compression: CompressionCodec = .none) throws -> [TopicPartition: Int64] {
        var encoded: [TopicPartition: [KafkaRecord]] = [:]
        for (tp, batch) in records where !batch.isEmpty { encoded[tp] = batch }
        return try core.withState { state, effects in
            for tp in encoded.keys where state.partition(tp) == nil { throw FakeKafkaError.unknownPartition(tp) }
            let (producerId, epoch) = try state.initTransactionalProducer(
                transactionalId, timeoutMs: 60_000, presented: nil, version: InitProducerIdRequest.versions.upperBound, effects: &effects
            ).mapError { FakeKafkaError.transactionRefused(transactionalId: transactionalId, reason: $0.name) }.get()
            state.addPartitionsToTransaction(transactionalId, Array(encoded.keys))
            var firstOffsets: [TopicPartition: Int64] = [:]
            for (tp, batch) in encoded.sorted(by: { $0.key < $1.key }) {
                var bytes = try RecordBatch.encode(batch, compression: compression,
                                                   producer: .init(producerId: producerId, producerEpoch: epoch, baseSequence: 0))
                ControlBatch.markTransactional(&bytes)
                let header = try RecordBatchHeader(peekingAt: bytes)
                let offset = try state.append((header, bytes), to: tp)
                    .mapError { FakeKafkaError.transactionRefused(transactionalId: transactionalId, reason: "\($0.name) appending to \(tp)") }.get()
                state.noteTransactionalAppend(producerId: producerId, offset: offset, to: tp)
                firstOffsets[tp] = offset
                state.wakeFetchers(for: tp, effects: &effects)
            }
            if let code = state.endTransaction(transactionalId, commit ? .commit : .abort, effects: &effects) {
                throw FakeKafkaError.transactionRefused(transactionalId: transactionalId, reason: code.name)
            }
            return firstOffsets
        }
    }
}
