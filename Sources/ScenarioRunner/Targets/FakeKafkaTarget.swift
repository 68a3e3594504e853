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
        let batch = records.map { r in
            KafkaRecord(timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers.map { KafkaRecordHeader(key: $0.0, value: $0.1) })
        }
        let base = try cluster.append(batch, to: TopicPartition(topic, partition), compression: compression)
        return records.indices.map { base + Int64($0) }
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
            lag[partition] = try cluster.watermarks(tp).high - (committed[tp]?.offset ?? 0)
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
