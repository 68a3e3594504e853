import Scenarios
import Foundation
import RdKafka

/// Reads a topic's records from any Kafka through librdkafka, for `harness capture`: partitions
/// are assigned directly (no consumer group, nothing committed), read from a start to an end
/// fixed when the capture begins, and merged into one sequence that keeps each partition's
/// order and interleaves partitions by timestamp, the best trace of the order they were written.
public struct TopicCapture: Sendable {
    /// Where reading starts or stops: an offset in every partition, or the first record at or
    /// after a time.
    public enum Position: Sendable, Equatable {
        case offset(Int64)
        case timestamp(Int64)

        /// An integer is an offset; an ISO 8601 date-time is a timestamp.
        public init?(_ text: String) {
            if let offset = Int64(text), offset >= 0 {
                self = .offset(offset)
            } else if let date = ISO8601DateFormatter().date(from: text) {
                self = .timestamp(Int64(date.timeIntervalSince1970 * 1000))
            } else {
                return nil
            }
        }
    }

    public var bootstrapServers: String
    public var topic: String
    /// nil: every partition.
    public var partitions: [Int32]?
    public var from: Position?
    /// Exclusive; nil: the end of each partition when the capture starts.
    public var to: Position?
    /// At most this many records (the first of the merge).
    public var limit: Int?
    /// More librdkafka properties (security settings of the source cluster).
    public var properties: [String: String] = [:]

    public init(bootstrapServers: String, topic: String, partitions: [Int32]? = nil, from: Position? = nil, to: Position? = nil, limit: Int? = nil) {
        self.bootstrapServers = bootstrapServers
        self.topic = topic
        self.partitions = partitions
        self.from = from
        self.to = to
        self.limit = limit
    }

    public struct Record: Sendable, Equatable {
        public var partition: Int32
        public var offset: Int64
        public var key: [UInt8]?
        public var value: [UInt8]?
        public var headers: [RdKafkaHeader]
        public var timestamp: Int64?
    }

    public struct Result: Sendable {
        /// The topic's partition count (the replay creates the topic alike).
        public var partitionCount: Int32
        public var records: [Record]
    }

    /// `progress` gets the number of records read so far, now and then.
    public func run(progress: @Sendable (Int) -> Void = { _ in }) async throws -> Result {
        var config = properties
        config["bootstrap.servers"] = bootstrapServers
        config["log_level"] = config["log_level"] ?? "3"
        let admin = try RdKafkaAdmin(config)
        let partitionCount = try await admin.topics()[topic]
        guard let partitionCount else { throw ScenarioError("topic \(topic) does not exist on \(bootstrapServers)") }
        let chosen = partitions ?? Array(0..<partitionCount)
        if let wrong = chosen.first(where: { !(0..<partitionCount).contains($0) }) {
            throw ScenarioError("topic \(topic) has no partition \(wrong) (it has \(partitionCount))")
        }
        config["group.id"] = "harness-capture-\(UUID().uuidString)"
        config["enable.auto.commit"] = "false"
        config["enable.partition.eof"] = "false"
        let consumer = try RdKafkaConsumer(config)
        do {
            let result = try await read(consumer, chosen, progress)
            try await consumer.close()
            return Result(partitionCount: partitionCount, records: result)
        } catch {
            try? await consumer.close()
            throw error
        }
    }

    private func read(_ consumer: RdKafkaConsumer, _ chosen: [Int32], _ progress: @Sendable (Int) -> Void) async throws -> [Record] {
        // Per partition: the first offset to read and the one to stop before.
        var ranges: [Int32: Range<Int64>] = [:]
        for partition in chosen {
            let marks = try await consumer.watermarks(topic: topic, partition: partition)
            let start = try await offset(of: from, partition, consumer) ?? marks.low
            let end = try await offset(of: to, partition, consumer) ?? marks.high
            if max(start, marks.low) < min(end, marks.high) { ranges[partition] = max(start, marks.low)..<min(end, marks.high) }
        }
        try consumer.assign(ranges.map { PartitionOffset(topic, $0.key, $0.value.lowerBound) })
        var byPartition: [Int32: [Record]] = [:]
        var remaining = ranges
        var count = 0
        // With a limit, each partition gives at most that many: the first `limit` of the merge
        // are then among them, whichever partitions they come from.
        while !remaining.isEmpty {
            let batch = try await consumer.pollBatch(max: 1_000, timeoutMs: 200)
            if let error = batch.errors.first { throw ScenarioError("reading \(topic): \(error)") }
            for record in batch.records {
                guard let range = remaining[record.partition], range.contains(record.offset) else { continue }
                byPartition[record.partition, default: []].append(Record(
                    partition: record.partition, offset: record.offset, key: record.key, value: record.value,
                    headers: record.headers, timestamp: record.timestamp))
                count += 1
                if record.offset + 1 >= range.upperBound || byPartition[record.partition]!.count >= (limit ?? .max) {
                    remaining[record.partition] = nil
                }
            }
            progress(count)
        }
        return Self.interleave(byPartition, limit: limit)
    }

    private func offset(of position: Position?, _ partition: Int32, _ consumer: RdKafkaConsumer) async throws -> Int64? {
        switch position {
        case nil: return nil
        case .offset(let offset)?: return offset
        case .timestamp(let ms)?:
            // No record at or after the time: the partition's end.
            let found = try await consumer.offsetsForTimes([PartitionOffset(topic, partition, ms)]).first?.offset ?? -1
            return found >= 0 ? found : try await consumer.watermarks(topic: topic, partition: partition).high
        }
    }

    /// Merges partitions by timestamp, each partition's records kept in offset order (ties:
    /// lower partition first); the first `limit` of the merge.
    static func interleave(_ byPartition: [Int32: [Record]], limit: Int? = nil) -> [Record] {
        var heads = byPartition.mapValues { _ in 0 }
        var out: [Record] = []
        let total = min(byPartition.values.reduce(0) { $0 + $1.count }, limit ?? .max)
        while out.count < total {
            let next = heads.filter { byPartition[$0.key]!.count > $0.value }
                .min { a, b in
                    let ta = byPartition[a.key]![a.value].timestamp ?? .min, tb = byPartition[b.key]![b.value].timestamp ?? .min
                    return (ta, a.key) < (tb, b.key)
                }!
            out.append(byPartition[next.key]![next.value])
            heads[next.key]! += 1
        }
        return out
    }
}

