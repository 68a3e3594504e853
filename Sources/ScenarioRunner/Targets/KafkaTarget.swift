import PlantedDefects
import Scenarios
import Foundation
import KafkaProtocol

/// A record to write: its partition is chosen by the runner, so every kind of cluster places a
/// key identically and the scenario knows each record's coordinates.
public struct RecordToProduce: Sendable {
    public var partition: Int32
    /// nil: a null key.
    public var key: [UInt8]?
    /// nil: a null value (a tombstone).
    public var value: [UInt8]?
    public var headers: [(String, [UInt8])]
    /// Epoch milliseconds; -1: no timestamp (Kafka's "none").
    public var timestamp: Int64

    public init(partition: Int32, key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8])], timestamp: Int64) {
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// What a Kafka target can do beyond the wire protocol every Kafka speaks. The runner asks for
/// these instead of looking at what the target is, and skips a scenario that needs more.
public struct KafkaCapabilities: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Fault steps and exploration: injected request faults, leader and coordinator moves,
    /// broker stops, forced rebalances, version caps.
    public static let faults = KafkaCapabilities(rawValue: 1 << 0)
    /// Growing a topic's partition count mid-stream.
    public static let addPartitions = KafkaCapabilities(rawValue: 1 << 1)
    /// The scenario declares the cluster's SASL users.
    public static let saslUsers = KafkaCapabilities(rawValue: 1 << 2)
    /// TLS listeners with a CA generated for the run (its file is `certificateAuthorityFile`).
    public static let generatedTLS = KafkaCapabilities(rawValue: 1 << 3)
    /// More than one cluster in a scenario.
    public static let multipleClusters = KafkaCapabilities(rawValue: 1 << 4)
    /// Records appended to a partition log directly (`via: log`), bypassing the protocol.
    public static let directAppend = KafkaCapabilities(rawValue: 1 << 5)
    /// The cluster keeps what earlier runs wrote: every run gets topics of its own.
    public static let keepsEarlierRuns = KafkaCapabilities(rawValue: 1 << 6)
    /// Broker defects can be planted (for proving scenarios catch them).
    public static let plantedDefects = KafkaCapabilities(rawValue: 1 << 7)
}

/// Where the Kafka a scenario runs on comes from: it starts (or connects to) the scenario's
/// clusters. FakeKafka plugs in from the `FakeKafkaTarget` module; `.external` is any Kafka.
public protocol KafkaTargetProvider: Sendable {
    var capabilities: KafkaCapabilities { get }
    /// For messages: "FakeKafka", "the Kafka at host:port".
    var name: String { get }
    /// Starts or connects to every cluster the scenario declares, by scenario cluster name.
    /// `listenHost`/`advertisedHost`: where its listeners bind and how the ingress reaches them.
    func start(_ scenario: Scenario, listenHost: String, advertisedHost: String) async throws -> [String: any KafkaTarget]
    /// The same provider with these broker defects planted (and no others), or nil when it
    /// cannot plant them (no `.plantedDefects`).
    func planting(_ defects: Set<PlantedDefect>) -> (any KafkaTargetProvider)?
}

extension KafkaTargetProvider {
    public func planting(_ defects: Set<PlantedDefect>) -> (any KafkaTargetProvider)? { defects.isEmpty ? self : nil }
}

/// One Kafka cluster a scenario runs on, reached through the wire protocol; what only some
/// clusters can do is behind `KafkaTargetProvider.capabilities`.
public protocol KafkaTarget: AnyObject, Sendable {
    var bootstrapServers: String { get }
    func createTopic(_ name: String, partitions: Int32?, configs: [String: String]) async throws
    /// Partition count, nil when the topic does not exist.
    func partitions(of topic: String) async throws -> Int32?
    /// Needs `.addPartitions`.
    func addPartitions(to topic: String, total: Int32) async throws
    /// Appends the records of one partition in order with this codec, bypassing producers (needs
    /// `.directAppend`); returns their offsets.
    func append(_ records: [RecordToProduce], topic: String, partition: Int32, compression: CompressionCodec) async throws -> [Int64]
    /// nil when the group does not exist (or has no state left).
    func group(_ id: String) async throws -> GroupSnapshot?
    /// The group's committed offset per partition of the topic (absent: none committed).
    func committedOffsets(group: String, topic: String) async throws -> [Int32: Int64]
    /// Applies a fault (needs `.faults`); for an injected one, returns how to read how often it has acted so far.
    func apply(_ fault: FaultStep, groupOf subscription: (String) -> String) async throws -> (@Sendable () -> Int)?
    /// SASL authentications the cluster refused (where it tells), for failure messages.
    var authenticationFailures: [String] { get }
    /// TLS handshakes that failed (where it tells), for failure messages.
    var tlsHandshakeFailures: [String] { get }
    /// Token requests the cluster's OAuth endpoint refused (where it has one).
    var tokenEndpointRefusals: [String] { get }
    /// The CA certificate file of TLS listeners whose CA the provider generated.
    var certificateAuthorityFile: String? { get }
    /// The OAuth token endpoint the provider serves for OAUTHBEARER clusters.
    var oauthTokenEndpoint: String? { get }
    func shutdown() async
}

extension KafkaTarget {
    public var authenticationFailures: [String] { [] }
    public var tlsHandshakeFailures: [String] { [] }
    public var tokenEndpointRefusals: [String] { [] }
    public var certificateAuthorityFile: String? { nil }
    public var oauthTokenEndpoint: String? { nil }
}
