import Scenarios
import FakeKafka
import Foundation
import KafkaProtocol
import RdKafka
import Synchronization

/// A Kafka cluster the harness did not start (a real Kafka): topics through the Admin API,
/// records through a librdkafka producer, groups through DescribeGroups.
final class ExternalKafka: KafkaTarget {
    /// An external cluster does not tell.
    var authenticationFailures: [String] { [] }
    var tlsHandshakeFailures: [String] { [] }

    let bootstrapServers: String
    private let admin: RdKafkaAdmin
    /// One producer per codec, made when first needed (`compression.codec` is per producer).
    private let producers = Mutex<[CompressionCodec: RdKafkaProducer]>([:])
    private let transactionalProducers = Mutex<[CompressionCodec: RdKafkaProducer]>([:])
    /// Consumers that only read a group's committed offsets: they never subscribe, so they never join it.
    private let offsetReaders = Mutex<[String: RdKafkaConsumer]>([:])

    /// Waits (up to a minute) for the cluster to answer, since it may have been started next to the harness.
    init(bootstrapServers: String) async throws {
        self.bootstrapServers = bootstrapServers
        admin = try RdKafkaAdmin(["bootstrap.servers": bootstrapServers, "log_level": "3"])
        var lastError: (any Error)?
        let admin = self.admin
        guard try await Polling.until(timeout: .seconds(60), every: .milliseconds(500), {
            do {
                _ = try await admin.topics(timeoutMs: 5_000)
                return true
            } catch {
                lastError = error
                return false
            }
        }) else {
            throw ScenarioError("Kafka at \(bootstrapServers) did not answer within 60 s: \(lastError.map { "\($0)" } ?? "no answer")")
        }
    }

    func createTopic(_ name: String, partitions: Int32?) async throws {
        try await admin.createTopic(name, partitions: partitions ?? 1)
    }

    func partitions(of topic: String) async throws -> Int32? { try await admin.topics()[topic] }
    /// Not offered (the runner skips such scenarios here): the admin client has no CreatePartitions.
    func addPartitions(to topic: String, total: Int32) async throws {
        throw ScenarioError("adding partitions needs FakeKafka")
    }

    func produce(_ records: [RecordToProduce], topic: String, partition: Int32, compression: CompressionCodec) async throws -> [Int64] {
        let producer = try producers.withLock { producers in
            if let existing = producers[compression] { return existing }
            let made = try RdKafkaProducer(["bootstrap.servers": bootstrapServers, "compression.codec": compression.description,
                                            "linger.ms": "5", "acks": "all", "enable.idempotence": "true", "log_level": "3"])
            producers[compression] = made
            return made
        }
        let outgoing = records.map { r in
            OutgoingRecord(topic: topic, partition: partition, key: r.key, value: r.value,
                           headers: r.headers.map { RdKafkaHeader($0.0, $0.1) }, timestamp: r.timestamp)
        }
        return try await producer.sendAll(outgoing).map(\.offset)
    }

    /// One transactional producer per codec, its transactions initialised once: a `produce` step
    /// with `transaction:` begins, sends and commits or aborts on it.
    func produceTransaction(_ records: [Int32: [RecordToProduce]], topic: String, compression: CompressionCodec,
                            commit: Bool) async throws -> [Int32: [Int64]] {
        let (producer, isNew) = try transactionalProducers.withLock { producers in
            if let existing = producers[compression] { return (existing, false) }
            let made = try RdKafkaProducer(["bootstrap.servers": bootstrapServers, "compression.codec": compression.description,
                                            "linger.ms": "5", "transactional.id": "harness-scenario-\(compression)-\(UUID().uuidString.prefix(8))",
                                            "log_level": "3"])
            producers[compression] = made
            return (made, true)
        }
        if isNew { try await producer.initTransactions() }
        try producer.beginTransaction()
        let order = records.keys.sorted()
        let outgoing = order.flatMap { partition in
            records[partition]!.map { r in
                OutgoingRecord(topic: topic, partition: partition, key: r.key, value: r.value,
                               headers: r.headers.map { RdKafkaHeader($0.0, $0.1) }, timestamp: r.timestamp)
            }
        }
        let deliveries = try await producer.sendAll(outgoing)
        if commit { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
        var offsets: [Int32: [Int64]] = [:]
        for d in deliveries { offsets[d.partition, default: []].append(d.offset) }
        return offsets
    }

    func group(_ id: String) async throws -> GroupSnapshot? {
        try await admin.describeConsumerGroup(id).map { g in
            GroupSnapshot(members: g.members.map { .init(clientID: $0.clientID, assignedPartitions: $0.assignment.count) })
        }
    }

    func uncommitted(group: String, topic: String) async throws -> [Int32: Int64] {
        let reader = try offsetReaders.withLock { readers in
            if let existing = readers[group] { return existing }
            let made = try RdKafkaConsumer(["bootstrap.servers": bootstrapServers, "group.id": group, "enable.auto.commit": "false", "log_level": "3"])
            readers[group] = made
            return made
        }
        let partitions = try await partitions(of: topic) ?? 0
        let committed = try await reader.committed((0..<partitions).map { PartitionOffset(topic, $0) })
        var lag: [Int32: Int64] = [:]
        for c in committed {
            let high = try await reader.watermarks(topic: topic, partition: c.partition).high
            lag[c.partition] = high - max(0, c.offset)
        }
        return lag
    }

    func apply(_ fault: FaultStep, groupOf subscription: (String) -> String) async throws -> (@Sendable () -> Int)? {
        throw ScenarioError("faults need FakeKafka; this run uses an external Kafka (--bootstrap-servers)")
    }

    func shutdown() async {
        // Flushing waits on librdkafka: on a thread of its own, not the cooperative pool.
        let producers = producers.withLock { Array($0.values) } + transactionalProducers.withLock { Array($0.values) }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                for producer in producers { try? producer.flush(timeoutMs: 5_000) }
                done.resume()
            }
        }
    }
}
