import Foundation
import Logging
import PlantedDefects
import RdKafka
import Synchronization

/// One librdkafka group consumer per subscription: polls, journals each batch, stores the
/// offsets (only then), and hands the new invocations to the dispatcher.
///
/// One loop polls, so records of a partition are journaled in offset order, and a rebalance
/// (which librdkafka runs inside poll) always finds every returned record journaled and its
/// offset stored: the revoke commits exactly what is safe.
///
/// Before giving a partition up, the consumer waits until every invocation from it has ended,
/// so the partition's next owner (another ingress instance) never runs a key's newer record
/// while this one still runs an older one. The wait is bounded by `revokeDrainTimeout`.
final class SubscriptionConsumer: Sendable {
    let subscription: Subscription
    private let properties: [String: String]
    private let target: Journal.Target
    /// Where the records go, and whom to ask before giving partitions up.
    private let side: ClusterSide
    private let metrics: IngressMetrics
    /// Set by the first revoke: what planted defects that act after a rebalance wait for.
    private let revoked = Atomic<Bool>(false)
    /// Planted `skipCommitOnRevoke` or `deleteWithoutDrainOrCommit`: offsets wait in
    /// `pendingOffsets` and are stored and committed on a timer (`auto.commit.interval.ms`, 5 s
    /// by default, as librdkafka's) and when leaving gracefully, so what librdkafka commits when
    /// a rebalance revokes partitions (or a deletion closes the consumer) is out of date.
    private let commitsOnTimer: Bool
    private let timedCommitInterval: Duration
    private let pendingOffsets = Mutex<[String: PartitionOffset]>([:])
    /// With `commitsOnTimer`: the consumer polling now, for a revoke to store what is pending
    /// (only `deleteWithoutDrainOrCommit`; `skipCommitOnRevoke` is the defect of not doing so).
    private let polling = Mutex<RdKafkaConsumer?>(nil)
    private let leaveDeadline = Mutex<ContinuousClock.Instant?>(nil)
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    /// Set by `vanish`: the consumer is dropped without closing, as a crash would leave it.
    private let vanishing = Atomic<Bool>(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    static let forcedProperties = ["enable.auto.commit": "true", "enable.auto.offset.store": "false"]

    static let batchSize = 1_000
    static let revokeDrainTimeout: Duration = .seconds(60)
    static let closeTimeout: Duration = .seconds(10)
    /// The least time a graceful leave keeps for closing, whatever the drain took.
    static let closeReserve: Duration = .seconds(1)

    init(subscription: Subscription, cluster: KafkaClusterConfiguration, target: Journal.Target, ingestingInto side: ClusterSide,
         logger: Logger, metrics: IngressMetrics) {
        self.subscription = subscription
        self.metrics = metrics
        self.side = side
        // As Restate: the cluster's properties, then the subscription's options, then the two
        // that offsets depend on, whatever the user set (a user value is warned about on create).
        // Offsets are stored by hand once journaled; librdkafka commits what was stored.
        var properties = cluster.librdkafkaProperties
        let defects = target.plantedDefects
        if defects.contains(.ignoreClusterOptions) { properties = properties.filter { $0.key == "bootstrap.servers" } }
        for (k, v) in subscription.options { properties[k] = v }
        for (key, value) in Self.forcedProperties { properties[key] = value }
        if defects.contains(.invokeAbortedTransactions) { properties["isolation.level"] = "read_uncommitted" }
        commitsOnTimer = defects.contains(.skipCommitOnRevoke) || defects.contains(.deleteWithoutDrainOrCommit)
        timedCommitInterval = .milliseconds(properties["auto.commit.interval.ms"].flatMap(Int.init) ?? 5_000)
        self.properties = properties
        self.target = target
        var logger = logger
        logger[metadataKey: "subscription"] = "\(subscription.id)"
        self.logger = logger
    }

    func start() {
        task.withLock { $0 = Task { await self.run() } }
    }

    /// Stops polling, then closes the consumer, which commits the stored offsets and leaves the
    /// group. With `drainUntil`, the group is left only once this subscription's invocations have
    /// ended or the deadline has come, so whoever takes the partitions over does not overlap
    /// them: that is a graceful leave. Without, the group is left at once (a deletion). Closing
    /// gets whatever time remains before the deadline (at least a second), or `closeTimeout`.
    func stop(drainUntil deadline: ContinuousClock.Instant?) async {
        leaveDeadline.withLock { $0 = deadline }
        stopping.store(true, ordering: .releasing)
        await task.withLock { $0 }?.value
    }

    /// Stops as if the process had died: no drain, no commit, no leave (see `KafkaIngress.crash`).
    func vanish() async {
        vanishing.store(true, ordering: .releasing)
        await stop(drainUntil: nil)
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func run() async {
        var restartDelayMs = 100
        while !isStopping {
            do {
                try await consumeUntilStopped()
                return
            } catch {
                // Restate's behaviour: the subscription restarts from its committed offsets.
                logger.error("consumer of \(subscription.source) failed, restarting in \(restartDelayMs) ms: \(error)")
                // In steps, so a stop does not wait out the whole delay.
                let restartAt = ContinuousClock.now + .milliseconds(restartDelayMs)
                while !isStopping && ContinuousClock.now < restartAt { try? await Task.sleep(for: .milliseconds(50)) }
                restartDelayMs = min(restartDelayMs * 2, 10_000)
            }
        }
    }

    private func consumeUntilStopped() async throws {
        let consumer = try RdKafkaConsumer(properties, logger: logger, onRebalance: { [self] event in onRebalance(event) },
                                           onStatistics: { [metrics, id = subscription.id] json in metrics.statistics(json, subscription: id) })
        try consumer.subscribe([subscription.topic])
        if commitsOnTimer { polling.withLock { $0 = consumer } }
        defer { polling.withLock { $0 = nil } }
        var nextTimedCommit = ContinuousClock.now + timedCommitInterval
        do {
            while !isStopping {
                let batch = try await consumer.pollBatch(max: Self.batchSize, timeoutMs: 100)
                for error in batch.errors { logger.warning("\(error)") }
                if commitsOnTimer && ContinuousClock.now >= nextTimedCommit {
                    await flushPendingOffsets(consumer)
                    nextTimedCommit = .now + timedCommitInterval
                }
                guard !batch.records.isEmpty else { continue }
                try await ingest(batch.records, consumer)
            }
        } catch {
            try? await consumer.close()
            throw error
        }
        if vanishing.load(ordering: .acquiring) {
            consumer.abandon()
            return
        }
        let deadline = leaveDeadline.withLock { $0 }
        // A deletion leaves without a deadline; the planted `deleteWithoutDrainOrCommit` then
        // closes without committing what it ingested.
        if commitsOnTimer && (deadline != nil || !target.plantedDefects.contains(.deleteWithoutDrainOrCommit)) {
            await flushPendingOffsets(consumer)
        }
        if let deadline {
            let drained = await withTimeout(deadline - .now - Self.closeReserve) { [side, id = subscription.id] in await side.drainSubscription(id) }
            if !drained { logger.warning("leaving the group before this subscription's invocations ended; they stay journaled") }
        }
        // librdkafka keeps trying to commit and leave while the coordinator is unreachable; a
        // shutdown must not wait for Kafka to come back. Uncommitted offsets are safe: the
        // records are journaled and redelivery is deduplicated.
        let closeTimeout = deadline.map { max(Self.closeReserve, $0 - .now) } ?? Self.closeTimeout
        let closed = await withTimeout(closeTimeout) { try? await consumer.close() }
        if !closed { logger.warning("the consumer did not close within \(closeTimeout) (Kafka unreachable?); leaving without it") }
    }

    /// Planted `skipCommitOnRevoke` / `deleteWithoutDrainOrCommit`: stores and commits what is
    /// pending. Offsets of partitions revoked meanwhile are refused by librdkafka, and dropped.
    private func flushPendingOffsets(_ consumer: RdKafkaConsumer) async {
        let pending = pendingOffsets.withLock { pending in
            defer { pending = [:] }
            return Array(pending.values)
        }
        guard !pending.isEmpty else { return }
        for offset in pending { try? consumer.storeOffsets([offset]) }
        try? await consumer.commit()
    }

    /// Runs inside poll on the consumer's queue, which may block.
    private func onRebalance(_ event: RdKafkaRebalance) {
        guard case .revoked(let partitions) = event, !partitions.isEmpty else {
            if case .assigned(let partitions) = event { logger.debug("assigned \(partitions)") }
            return
        }
        // Stopping (delete, shutdown): journaled invocations finish without us.
        guard !isStopping else { return }
        revoked.store(true, ordering: .relaxed)
        let sources = Set(partitions.map { SourcePartition(subscription: subscription.id, topic: $0.topic, partition: $0.partition) })
        let done = DispatchSemaphore(value: 0)
        let side = self.side
        Task {
            await side.drain(sources)
            done.signal()
        }
        if done.wait(timeout: .now() + .seconds(Int(Self.revokeDrainTimeout.components.seconds))) == .timedOut {
            logger.warning("revoking \(partitions) before their invocations ended (waited \(Self.revokeDrainTimeout)); the next owner may overlap them")
        }
        if commitsOnTimer && !target.plantedDefects.contains(.skipCommitOnRevoke), let consumer = polling.withLock({ $0 }) {
            // Stored here, committed by librdkafka as the revoke completes.
            let pending = pendingOffsets.withLock { pending in
                defer { pending = [:] }
                return Array(pending.values)
            }
            for offset in pending { try? consumer.storeOffsets([offset]) }
        }
    }

    private func ingest(_ records: [RdKafkaRecord], _ consumer: RdKafkaConsumer) async throws {
        var keys: [String?] = []
        keys.reserveCapacity(records.count)
        var poison: PoisonRecord?
        for record in records {
            guard target.keyed else { keys.append(nil); continue }
            // A null key is the empty object key; a key that is not UTF-8 cannot name an object.
            guard let key = record.key.map({ String(bytes: $0, encoding: .utf8) }) ?? "" else {
                poison = PoisonRecord(record: record, reason: "its key is not valid UTF-8, so it cannot be a virtual object key")
                break
            }
            keys.append(key)
        }
        // What precedes a poison record is ingested; the poison record itself stops the subscription.
        let accepted = Array(records.prefix(keys.count))
        if !accepted.isEmpty {
            var target = self.target
            if !target.plantedDefects.isEmpty && revoked.load(ordering: .relaxed) {
                let defects = target.plantedDefects
                if defects.contains(.loseKeyOrderAfterRebalance) { target.exclusive = false }
                if defects.contains(.reorderAfterLateQueueSplit) { target.dispatchesLastFirst = true }
                if defects.contains(.loseRecordOnPartitionMove), accepted.count > 1 {
                    // The last record first: deduplication's high-water mark then drops the rest.
                    try await side.ingest([accepted.last!], [keys[accepted.count - 1]], target)
                }
            }
            try await side.ingest(accepted, keys, target)
            logger.trace("journaled \(accepted.count) records, up to \(accepted.last.map { "\($0.topic)/\($0.partition)@\($0.offset)" } ?? "-")")
            var next: [String: PartitionOffset] = [:]
            for record in accepted {
                next["\(record.topic)\u{0}\(record.partition)"] = PartitionOffset(record.topic, record.partition, record.offset + 1)
            }
            // Only now: a record whose offset is stored (and later committed) is durably journaled.
            if commitsOnTimer {
                pendingOffsets.withLock { $0.merge(next) { $1 } }
            } else {
                try consumer.storeOffsets(Array(next.values))
            }
        }
        if let poison { throw poison }
    }
}

/// Where a consumer's records go, and whom it asks before giving partitions up: the journal and
/// dispatcher of its own process, or those of the node that holds the data directory (see
/// `IngressNode`). Either way one place deduplicates and orders what every node read.
struct ClusterSide: Sendable {
    /// Journals the records (deduplicated, durably) and starts their invocations; throws
    /// `PoisonRecord` when the subscription must stall at the first record.
    var ingest: @Sendable (_ records: [RdKafkaRecord], _ keys: [String?], _ target: Journal.Target) async throws -> Void
    /// Returns once every invocation from these partitions has ended.
    var drain: @Sendable (Set<SourcePartition>) async -> Void
    /// Returns once every invocation of the subscription has ended.
    var drainSubscription: @Sendable (String) async -> Void
}

/// A record the ingress cannot turn into an invocation. Like Restate, the subscription stops at
/// it and restarts from the committed offset, again and again.
struct PoisonRecord: Error, CustomStringConvertible {
    let record: RdKafkaRecord
    let reason: String

    var description: String { "record \(record.topic)/\(record.partition)@\(record.offset) cannot be ingested: \(reason)" }
}
