import KafkaProtocol
import NIOCore

/// A topic and partition number.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }

    public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}

/// One partition's log: record batches kept exactly as produced (compressed or not), with the
/// base offset rewritten. Only DeleteRecords trims it: the log start offset moves, and batches
/// wholly below it are dropped (the one it falls inside stays, as in Kafka, and readers skip the
/// records before it).
struct PartitionLog {
    struct Batch {
        var baseOffset: Int64
        var lastOffset: Int64
        var maxTimestamp: Int64
        var bytes: ByteBuffer
    }

    private(set) var batches: [Batch] = []
    private(set) var highWatermark: Int64 = 0
    private(set) var logStartOffset: Int64 = 0
    var leader: Int32
    /// The brokers holding a copy, the preferred leader first. Data is kept once whatever their
    /// number; they exist so Metadata reports the replication a client asked for.
    var replicas: [Int32]
    /// Open and aborted transactions on this partition: what the last stable offset and a
    /// read_committed Fetch need (see Transactions/).
    var transactions = PartitionTransactions()

    init(replicas: [Int32]) {
        self.leader = replicas[0]
        self.replicas = replicas
    }

    /// Moves the log start offset up to `offset` (at most the high watermark; never down) and
    /// drops the batches that end before it.
    mutating func deleteRecords(before offset: Int64) {
        guard offset > logStartOffset else { return }
        logStartOffset = min(offset, highWatermark)
        batches.removeFirst(batchIndex(containing: logStartOffset))
    }

    /// Appends a validated batch at the end of the log and returns its base offset.
    mutating func append(_ batch: ByteBuffer, header: RecordBatchHeader) -> Int64 {
        var bytes = batch
        let base = highWatermark
        RecordBatch.setBaseOffset(base, in: &bytes)
        let last = base + Int64(header.lastOffsetDelta)
        batches.append(Batch(baseOffset: base, lastOffset: last, maxTimestamp: header.maxTimestamp, bytes: bytes))
        highWatermark = last + 1
        return base
    }

    /// Planted `loseLastBatchOnBrokerRestart`: forgets the newest batch, as a broker that
    /// acknowledged it before it was durable (acks without fsync or replication) does on a crash.
    mutating func loseLastBatch() {
        guard let last = batches.popLast() else { return }
        highWatermark = max(logStartOffset, last.baseOffset)
    }

    /// The high watermark before the newest batch: what the planted `staleHighWatermark` reports.
    var staleHighWatermark: Int64 { batches.last.map { max(logStartOffset, $0.baseOffset) } ?? highWatermark }

    /// The index of the batch holding `offset`, or of the first batch after it.
    func batchIndex(containing offset: Int64) -> Int {
        var lo = 0, hi = batches.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if batches[mid].lastOffset < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Whole batches from the one containing `offset`, up to `maxBytes`, but always at least one
    /// batch when `atLeastOne` (so a batch larger than the limit cannot stall a consumer). With
    /// `below`, only batches starting before that offset (a read_committed consumer's LSO).
    func read(from offset: Int64, maxBytes: Int, atLeastOne: Bool, below end: Int64? = nil) -> [ByteBuffer] {
        var result: [ByteBuffer] = []
        var total = 0
        var i = batchIndex(containing: offset)
        while i < batches.count, batches[i].baseOffset < end ?? .max {
            let size = batches[i].bytes.readableBytes
            if total + size > maxBytes && !(atLeastOne && result.isEmpty) { break }
            result.append(batches[i].bytes)
            total += size
            i += 1
        }
        return result
    }

    /// The record with the largest timestamp (the first of several with it), for ListOffsets'
    /// MAX_TIMESTAMP (KIP-734); nil for an empty log.
    func maxTimestampRecord() throws -> (offset: Int64, timestamp: Int64)? {
        var best: (offset: Int64, timestamp: Int64)?
        for batch in batches where best == nil || batch.maxTimestamp > best!.timestamp {
            for record in try RecordBatch.records(in: batch.bytes) where record.offset >= logStartOffset {
                if best == nil || record.timestamp > best!.timestamp { best = (record.offset, record.timestamp) }
            }
        }
        return best
    }

    /// The first offset whose record timestamp is at or after `timestamp`, with that timestamp;
    /// nil when every record is older.
    func offset(forTimestamp timestamp: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        for batch in batches where batch.maxTimestamp >= timestamp {
            for record in try RecordBatch.records(in: batch.bytes) where record.timestamp >= timestamp && record.offset >= logStartOffset {
                return (record.offset, record.timestamp)
            }
        }
        return nil
    }
}
