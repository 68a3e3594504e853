import Scenarios
import FakeKafka
import Foundation
import KafkaProtocol
import RdKafka
import Synchronization

/// FakeKafka in this process: records are appended directly, faults use its controls.
final class FakeKafkaTarget: KafkaTarget {
    var authenticationFailures: [String] { cluster.authenticationFailures }
    var tlsHandshakeFailures: [String] { cluster.tlsHandshakeFailures }

    let cluster: FakeKafkaCluster
    /// The cluster's CA certificate as a file, when its listeners use TLS.
    let certificateAuthorityFile: String?

    init(_ cluster: FakeKafkaCluster, certificateAuthorityFile: String? = nil) {
        self.cluster = cluster
        self.certificateAuthorityFile = certificateAuthorityFile
    }

    var bootstrapServers: String { cluster.bootstrapServers }

    func createTopic(_ name: String, partitions: Int32?) async throws { try cluster.createTopic(name, partitions: partitions) }

    func partitions(of topic: String) async throws -> Int32? { cluster.topics[topic] }
    func addPartitions(to topic: String, total: Int32) async throws { try cluster.addPartitions(to: topic, total: total) }

    func produce(_ records: [RecordToProduce], topic: String, partition: Int32, compression: CompressionCodec) async throws -> [Int64] {
        let base = try cluster.append(records.map(Self.kafkaRecord), to: TopicPartition(topic, partition), compression: compression)
        return records.indices.map { base + Int64($0) }
    }

    /// Through the cluster's own transaction coordinator, under one transactional id per target
    /// (each step is a new epoch of it, as a restarted producer would be).
    func produceTransaction(_ records: [Int32: [RecordToProduce]], topic: String, compression: CompressionCodec,
                            commit: Bool) async throws -> [Int32: [Int64]] {
        var batches: [TopicPartition: [KafkaRecord]] = [:]
        for (partition, items) in records { batches[TopicPartition(topic, partition)] = items.map(Self.kafkaRecord) }
        let bases = try cluster.appendTransaction(batches, transactionalId: "harness-scenario", commit: commit, compression: compression)
        var offsets: [Int32: [Int64]] = [:]
        for (tp, base) in bases { offsets[tp.partition] = records[tp.partition]!.indices.map { base + Int64($0) } }
        return offsets
    }

    private static func kafkaRecord(_ r: RecordToProduce) -> KafkaRecord {
        KafkaRecord(timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers.map { KafkaRecordHeader(key: $0.0, value: $0.1) })
    }

    func group(_ id: String) async throws -> GroupSnapshot? {
        cluster.group(id).map { g in
            GroupSnapshot(members: g.members.map { .init(clientID: $0.clientId, assignedPartitions: $0.assignment?.count ?? 0) },
                          generation: g.generation, stable: g.state == .stable)
        }
    }

    func uncommitted(group: String, topic: String) async throws -> [Int32: Int64] {
        let committed = cluster.committedOffsets(group: group)
        var lag: [Int32: Int64] = [:]
        for partition in 0..<(cluster.topics[topic] ?? 0) {
            let tp = TopicPartition(topic, partition)
            // A consumer never commits past a partition's trailing markers or aborted records.
            lag[partition] = max(0, try cluster.consumableEnd(tp) - (committed[tp]?.offset ?? 0))
        }
        return lag
    }

    func apply(_ fault: FaultStep, groupOf subscription: (String) -> String) async throws -> (@Sendable () -> Int)? {
        guard let id = try await fault.apply(to: cluster, groupOf: subscription) else { return nil }
        let cluster = self.cluster
        return { cluster.timesFired(id) }
    }

    func shutdown() async { try? await cluster.shutdown() }
}
