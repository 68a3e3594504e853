import Foundation
import KafkaProtocol
import NIOCore

/// Which records a consumer may read: all of them, or only those of committed transactions
/// (and non-transactional ones) below the last stable offset.
public enum IsolationLevel: Int8, Sendable, Equatable {
    case readUncommitted = 0
    case readCommitted = 1
}

/// A transaction that was aborted on one partition: from its first record to its ABORT marker.
public struct AbortedTransaction: Sendable, Equatable {
    public var producerId: Int64
    public var firstOffset: Int64
    /// The offset of the ABORT marker.
    public var lastOffset: Int64
}

/// A partition's share of the transaction state: the open transactions (which hold back the last
/// stable offset) and the aborted ones a read_committed consumer must be told about.
struct PartitionTransactions {
    /// Producer id -> offset of the first record of its open transaction on this partition.
    var open: [Int64: Int64] = [:]
    /// In marker order, so also in order of `lastOffset`.
    var aborted: [AbortedTransaction] = []

    /// The first offset of the earliest open transaction, else the high watermark: nothing at or
    /// past it may reach a read_committed consumer yet.
    func lastStableOffset(highWatermark: Int64) -> Int64 {
        open.values.min() ?? highWatermark
    }

    /// The aborted transactions with records in [from, to): those a consumer reading that range
    /// needs to drop records of. Kafka lists them by producer id and first offset.
    func aborted(overlapping from: Int64, _ to: Int64) -> [AbortedTransaction] {
        // `aborted` is sorted by lastOffset: skip those that ended before the range.
        var lo = 0, hi = aborted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if aborted[mid].lastOffset < from { lo = mid + 1 } else { hi = mid }
        }
        return aborted[lo...].filter { $0.firstOffset < to }
    }
}

extension PartitionLog {
    var lastStableOffset: Int64 { transactions.lastStableOffset(highWatermark: highWatermark) }
}

/// What the coordinator knows of one transactional id.
struct TransactionalProducer {
    enum Phase: Equatable {
        /// No transaction: the producer has not added anything since its last commit or abort.
        case empty
        /// Partitions or a group were added; EndTxn finishes it.
        case ongoing
    }

    var transactionalId: String
    var producerId: Int64
    var epoch: Int16
    var timeoutMs: Int32
    var phase: Phase = .empty
    var partitions: Set<TopicPartition> = []
    var groups: Set<String> = []
    /// TxnOffsetCommit offsets, made visible to their groups only when the transaction commits.
    var pendingOffsets: [String: [TopicPartition: CommittedOffset]] = [:]
    /// How the previous transaction ended, so a retried EndTxn of the same outcome succeeds.
    var lastOutcome: ControlBatch.Marker?
}

/// The transaction coordinator's state, part of `ClusterState` (so under the cluster's lock). A
/// transaction completes within the EndTxn that ends it: there is no PREPARE phase to observe.
struct TransactionCoordinator {
    var producers: [String: TransactionalProducer] = [:]
}

/// A transaction as introspection shows it.
public struct TransactionDescription: Sendable, Equatable {
    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    /// True while partitions or offsets were added and the transaction has not ended.
    public var isOngoing: Bool
    public var partitions: [TopicPartition]
    public var groups: [String]
}

extension TransactionalProducer {
    var description: TransactionDescription {
        TransactionDescription(transactionalId: transactionalId, producerId: producerId, producerEpoch: epoch,
                               isOngoing: phase == .ongoing, partitions: partitions.sorted(), groups: groups.sorted())
    }
}

extension ClusterState {
    /// Why a broker cannot act as coordinator for `transactionalId`, or nil when it can.
    func transactionCoordinatorError(_ transactionalId: String, broker: Int32) -> KafkaErrorCode? {
        coordinatorError(group: transactionalId, broker: broker)
    }

    /// InitProducerId with a transactional id: the id keeps its producer id and gets the next
    /// epoch, which fences every earlier producer of it; a transaction it left open is aborted.
    /// From v3 a producer may present its current id and epoch (KIP-360): a stale pair is fenced.
    mutating func initTransactionalProducer(_ transactionalId: String, timeoutMs: Int32, presented: (id: Int64, epoch: Int16)?,
                                            version: Int16, effects: inout ConsumerGroup.Effects) -> Result<(Int64, Int16), KafkaErrorCode> {
        guard var producer = transactions.producers[transactionalId] else {
            let id = nextProducerId
            nextProducerId += 1
            producerEpochs[id] = 0
            transactions.producers[transactionalId] = TransactionalProducer(transactionalId: transactionalId, producerId: id, epoch: 0, timeoutMs: timeoutMs)
            return .success((id, 0))
        }
        if let presented, presented.id != producer.producerId || presented.epoch != producer.epoch {
            return .failure(Self.fencedError(version: version, firstVersionKnowingFenced: 4))
        }
        if producer.phase == .ongoing {
            endTransaction(&producer, .abort, effects: &effects)
        }
        // Epochs are 16-bit: a producer that used them all up continues under a new id.
        if producer.epoch >= Int16.max - 1 {
            producerEpochs[producer.producerId] = .max
            producer.producerId = nextProducerId
            nextProducerId += 1
            producer.epoch = 0
        } else {
            producer.epoch += 1
        }
        producer.timeoutMs = timeoutMs
        producer.lastOutcome = nil
        producerEpochs[producer.producerId] = producer.epoch
        transactions.producers[transactionalId] = producer
        return .success((producer.producerId, producer.epoch))
    }

    /// Checks a transactional request's producer id and epoch against the coordinator's.
    func checkTransactionalProducer(_ transactionalId: String, producerId: Int64, epoch: Int16, version: Int16,
                                    firstVersionKnowingFenced: Int16 = 2) -> KafkaErrorCode? {
        guard let producer = transactions.producers[transactionalId], producer.producerId == producerId else {
            return .invalidProducerIdMapping
        }
        if epoch < producer.epoch { return Self.fencedError(version: version, firstVersionKnowingFenced: firstVersionKnowingFenced) }
        if epoch > producer.epoch { return .invalidProducerEpoch }
        return nil
    }

    /// PRODUCER_FENCED (KIP-588), or INVALID_PRODUCER_EPOCH for request versions from before it,
    /// whose clients treat that code as being fenced.
    static func fencedError(version: Int16, firstVersionKnowingFenced: Int16) -> KafkaErrorCode {
        version >= firstVersionKnowingFenced ? .producerFenced : .invalidProducerEpoch
    }

    /// Adds partitions to the producer's transaction, starting one if none is open.
    mutating func addPartitionsToTransaction(_ transactionalId: String, _ partitions: [TopicPartition]) {
        transactions.producers[transactionalId]!.phase = .ongoing
        transactions.producers[transactionalId]!.partitions.formUnion(partitions)
    }

    /// Adds a group's offsets to the producer's transaction, starting one if none is open.
    mutating func addGroupToTransaction(_ transactionalId: String, group: String) {
        transactions.producers[transactionalId]!.phase = .ongoing
        transactions.producers[transactionalId]!.groups.insert(group)
    }

    /// The EndTxn of a transactional id: writes the markers and completes. Ending with no
    /// transaction open is INVALID_TXN_STATE, except a retry of the outcome that just completed.
    mutating func endTransaction(_ transactionalId: String, _ marker: ControlBatch.Marker, effects: inout ConsumerGroup.Effects) -> KafkaErrorCode? {
        guard var producer = transactions.producers[transactionalId] else { return .invalidProducerIdMapping }
        guard producer.phase == .ongoing else { return producer.lastOutcome == marker ? nil : .invalidTxnState }
        endTransaction(&producer, marker, effects: &effects)
        transactions.producers[transactionalId] = producer
        return nil
    }

    /// Writes a marker into every partition of the transaction, closes it there (an abort is
    /// remembered for read_committed consumers), publishes its offsets on commit, and resets it.
    private mutating func endTransaction(_ producer: inout TransactionalProducer, _ marker: ControlBatch.Marker, effects: inout ConsumerGroup.Effects) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for tp in producer.partitions.sorted() {
            // A partition deleted (or shrunk away) during the transaction has nothing to mark.
            guard partition(tp) != nil else { continue }
            let batch = ControlBatch.encode(marker, producerId: producer.producerId, producerEpoch: producer.epoch, timestamp: now)
            let header = try! RecordBatchHeader(peekingAt: batch)
            let markerOffset = appendUnchecked((header, batch), to: tp)
            let i = Int(tp.partition)
            if let first = topics[tp.topic]!.partitions[i].transactions.open.removeValue(forKey: producer.producerId), marker == .abort {
                topics[tp.topic]!.partitions[i].transactions.aborted.append(
                    AbortedTransaction(producerId: producer.producerId, firstOffset: first, lastOffset: markerOffset))
            }
            wakeFetchers(for: tp, effects: &effects)
        }
        if marker == .commit {
            for (group, committed) in producer.pendingOffsets {
                offsets[group, default: [:]].merge(committed) { _, new in new }
            }
        }
        producer.phase = .empty
        producer.partitions = []
        producer.groups = []
        producer.pendingOffsets = [:]
        producer.lastOutcome = marker
    }

    /// Checks a transactional batch before it is appended: the producer must be the current one
    /// of its transactional id and have added the partition to its open transaction.
    func checkTransactionalBatch(_ header: RecordBatchHeader, transactionalId: String?, to tp: TopicPartition) -> (KafkaErrorCode, String)? {
        guard let transactionalId, let producer = transactions.producers[transactionalId] else {
            return (.transactionalIdNotFound, "transactional batch for \(tp) without a known transactional id")
        }
        guard producer.producerId == header.producerId else {
            return (.invalidProducerIdMapping, "producer id \(header.producerId) is not that of transactional id '\(transactionalId)' (\(producer.producerId))")
        }
        if header.producerEpoch < producer.epoch {
            return (.invalidProducerEpoch, "epoch \(header.producerEpoch) of transactional id '\(transactionalId)' was fenced by epoch \(producer.epoch)")
        }
        guard producer.phase == .ongoing, producer.partitions.contains(tp) else {
            return (.invalidTxnState, "\(tp) was not added to the transaction of '\(transactionalId)'")
        }
        return nil
    }

    /// Records where a producer's transaction starts on a partition: the LSO stops there.
    mutating func noteTransactionalAppend(producerId: Int64, offset: Int64, to tp: TopicPartition) {
        if topics[tp.topic]!.partitions[Int(tp.partition)].transactions.open[producerId] == nil {
            topics[tp.topic]!.partitions[Int(tp.partition)].transactions.open[producerId] = offset
        }
    }
}
