import Scenarios
import FakeKafka
import Foundation
import KafkaProtocol
import RdKafka
import Synchronization

/// A record to write: its partition is chosen by the runner, so both kinds of cluster place a
/// key identically and the scenario knows each record's coordinates.
struct RecordToProduce {
    var partition: Int32
    var key: [UInt8]?
    var value: [UInt8]
    var headers: [(String, [UInt8])]
    var timestamp: Int64
}

/// The Kafka cluster a scenario runs on: FakeKafka in this process (faults available), or an
/// external cluster reached only through the wire protocol (`--bootstrap-servers`).
protocol KafkaTarget: AnyObject, Sendable {
    var bootstrapServers: String { get }
    func createTopic(_ name: String, partitions: Int32?) async throws
    /// Partition count, nil when the topic does not exist.
    func partitions(of topic: String) async throws -> Int32?
    func addPartitions(to topic: String, total: Int32) async throws
    /// Writes the records of one partition in order with this codec; returns their offsets.
    func produce(_ records: [RecordToProduce], topic: String, partition: Int32, compression: CompressionCodec) async throws -> [Int64]
    /// Writes the records, by partition, in one transaction that then commits or aborts; returns
    /// their offsets by partition.
    func produceTransaction(_ records: [Int32: [RecordToProduce]], topic: String, compression: CompressionCodec,
                            commit: Bool) async throws -> [Int32: [Int64]]
    /// nil when the group does not exist (or has no state left).
    func group(_ id: String) async throws -> GroupSnapshot?
    /// Per partition of the topic, how many records lie beyond the group's committed offset.
    func uncommitted(group: String, topic: String) async throws -> [Int32: Int64]
    /// Applies a fault; for an injected one, returns how to read how often it has acted so far.
    func apply(_ fault: FaultStep, groupOf subscription: (String) -> String) async throws -> (@Sendable () -> Int)?
    /// SASL authentications the cluster refused (FakeKafka only), for failure messages.
    var authenticationFailures: [String] { get }
    /// TLS handshakes that failed (FakeKafka only), for failure messages.
    var tlsHandshakeFailures: [String] { get }
    func shutdown() async
}
