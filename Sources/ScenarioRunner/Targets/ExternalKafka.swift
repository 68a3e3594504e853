import Scenarios
import Foundation
import KafkaProtocol
import RdKafka
import Synchronization

/// Any Kafka the harness did not start, reached at `bootstrapServers`.
public struct ExternalKafkaProvider: KafkaTargetProvider {
    public let bootstrapServers: String
    public var capabilities: KafkaCapabilities { [.keepsEarlierRuns] }

    public init(bootstrapServers: String) { self.bootstrapServers = bootstrapServers }
    public var name: String { "the Kafka at \(bootstrapServers)" }

    public func start(_ scenario: Scenario, listenHost: String, advertisedHost: String) async throws -> [String: any KafkaTarget] {
        [scenario.cluster.name: try await ExternalKafka(bootstrapServers: bootstrapServers)]
    }
}

/// A Kafka cluster the harness did not start (a real Kafka): topics through the Admin API,
/// groups through DescribeGroups and committed offsets through OffsetFetch.
final class ExternalKafka: KafkaTarget {
    let bootstrapServers: String
    private let admin: RdKafkaAdmin
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

    func createTopic(_ name: String, partitions: Int32?, configs: [String: String]) async throws {
        try await admin.createTopic(name, partitions: partitions ?? 1, configs: configs)
    }

    func partitions(of topic: String) async throws -> Int32? { try await admin.topics()[topic] }
    /// Not offered (the runner skips such scenarios here): the admin client has no CreatePartitions.
    func addPartitions(to topic: String, total: Int32) async throws {
        throw ScenarioError("adding partitions needs FakeKafka")
    }

    func append(_ records: [RecordToProduce], topic: String, partition: Int32, compression: CompressionCodec) async throws -> [Int64] {
        throw ScenarioError("`via: log` appends to FakeKafka's logs; an external Kafka is written through a producer")
    }

    func group(_ id: String) async throws -> GroupSnapshot? {
        try await admin.describeConsumerGroup(id).map { g in
            GroupSnapshot(members: g.members.map { .init(clientID: $0.clientID, assignedPartitions: $0.assignment.count) })
        }
    }

    public func committedOffsets(group: String, topic: String) async throws -> [Int32: Int64] {
        let reader = try offsetReaders.withLock { readers in
            if let existing = readers[group] { return existing }
            let made = try RdKafkaConsumer(["bootstrap.servers": bootstrapServers, "group.id": group, "enable.auto.commit": "false", "log_level": "3"])
            readers[group] = made
            return made
        }
        let partitions = try await partitions(of: topic) ?? 0
        var offsets: [Int32: Int64] = [:]
        for c in try await reader.committed((0..<partitions).map { PartitionOffset(topic, $0) }) where c.offset >= 0 { offsets[c.partition] = c.offset }
        return offsets
    }

    func apply(_ fault: FaultStep, groupOf subscription: (String) -> String) async throws -> (@Sendable () -> Int)? {
        throw ScenarioError("faults need FakeKafka; this run uses an external Kafka (--bootstrap-servers)")
    }

    func shutdown() async {
        let readers = offsetReaders.withLock { readers in defer { readers = [:] }; return Array(readers.values) }
        for reader in readers { try? await reader.close() }
    }
}
