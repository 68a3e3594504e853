import KafkaProtocol
import NIOCore

/// A broker of the cluster as clients see it in Metadata.
public struct BrokerInfo: Sendable, Equatable {
    public var id: Int32
    public var host: String
    public var port: Int
    public var isUp: Bool
}

/// An offset a group committed for a partition.
public struct CommittedOffset: Sendable, Equatable {
    public var offset: Int64
    public var metadata: String?
    /// The leader epoch the client committed with the offset (-1 if it sent none): returned by
    /// OffsetFetch so a consumer can validate its position after a leader change (KIP-320).
    public var leaderEpoch: Int32

    public init(offset: Int64, metadata: String?, leaderEpoch: Int32 = -1) {
        self.offset = offset
        self.metadata = metadata
        self.leaderEpoch = leaderEpoch
    }
}

struct TopicState {
    var id: KafkaUUID
    var partitions: [PartitionLog]
    /// Topic-level config overrides (set at creation or altered since); defaults are not stored.
    var configs: [String: String] = [:]
}

/// What the broker remembers of an idempotent producer on one partition: enough to spot a
/// retried batch (and answer it with its original offset) or a gap in sequence numbers.
struct ProducerPartitionState {
    var epoch: Int16
    var lastSequence: Int32
    /// The most recent batches (Kafka keeps five): first and last sequence, and base offset.
    var recent: [(first: Int32, last: Int32, baseOffset: Int64)]
}

/// A Fetch waiting for data (long poll).
struct FetchWaiter {
    var partitions: Set<TopicPartition>
    var promise: EventLoopPromise<Void>
}

/// All mutable state of the cluster. It is only touched under `ClusterCore`'s lock, so every
/// change is serial, as in a real controller.
struct ClusterState {
    var brokers: [BrokerInfo] = []
    var topics: [String: TopicState] = [:]
    /// Topic names by id, for the requests that name topics by id (Metadata v12, Fetch v13+).
    var topicNamesById: [KafkaUUID: String] = [:]
    /// Classic groups (JoinGroup/SyncGroup). A group id is in at most one of this and `modernGroups`.
    var groups: [String: ConsumerGroup] = [:]
    /// KIP-848 consumer groups (ConsumerGroupHeartbeat).
    var modernGroups: [String: ModernConsumerGroup] = [:]
    var offsets: [String: [TopicPartition: CommittedOffset]] = [:]
    var coordinatorOverrides: [String: Int32] = [:]
    var producerEpochs: [Int64: Int16] = [:]
    var producerPartitions: [Int64: [TopicPartition: ProducerPartitionState]] = [:]
    var nextProducerId: Int64 = 1000
    var transactions = TransactionCoordinator()
    var fetchWaiters: [Int: FetchWaiter] = [:]
    var nextWaiterId = 0
    var faults: FaultTable
    var versionCaps: [ApiKey: Int16] = [:]
    var requestLog: RequestLog
    /// Refused SASL authentications, newest last, with the reason.
    var authenticationFailures: [String] = []
    /// The OAuth clients the token endpoint issued a token to, one entry per token.
    var issuedTokens: [String] = []
    /// Token requests the endpoint refused (unknown client, wrong secret), newest last.
    var tokenEndpointRefusals: [String] = []
    /// Failed TLS handshakes, newest last, with the client's address.
    var tlsHandshakeFailures: [String] = []
    /// ACLs created through CreateAcls, oldest first (stored and described, never enforced).
    var acls: [AclBinding] = []
    /// Dynamic broker config overrides by broker id ("" holds the cluster-wide ones).
    var brokerConfigs: [String: [String: String]] = [:]
    var nextTopicLeader: Int32 = 0

    /// SCRAM credentials: the configured users', and those AlterUserScramCredentials set.
    var scramCredentials: SCRAMCredentialStore

    init(requestLogCapacity: Int, faultRandomness: (any RandomNumberGenerator & Sendable)? = nil, sasl: SASLConfiguration? = nil) {
        requestLog = RequestLog(capacity: requestLogCapacity)
        faults = FaultTable(randomness: faultRandomness)
        scramCredentials = SCRAMCredentialStore(sasl: sasl)
    }

    /// Planted `loseLastBatchOnBrokerRestart`: each partition this broker leads forgets its newest batch.
    mutating func loseLastBatches(ledBy broker: Int32) {
        for name in topics.keys {
            for i in topics[name]!.partitions.indices where topics[name]!.partitions[i].leader == broker {
                topics[name]!.partitions[i].loseLastBatch()
            }
        }
    }

    func partition(_ tp: TopicPartition) -> PartitionLog? {
        guard let topic = topics[tp.topic], tp.partition >= 0, Int(tp.partition) < topic.partitions.count else { return nil }
        return topic.partitions[Int(tp.partition)]
    }

    /// Every topic's id and partition count, what a consumer group's assignor works from.
    var topicCatalog: TopicCatalog {
        topics.mapValues { (id: $0.id, partitions: Int32($0.partitions.count)) }
    }

    /// The name of the topic with this id (ids are new at each creation), nil for none.
    func topicName(id: KafkaUUID) -> String? {
        topicNamesById[id]
    }

    /// The coordinator of a group: spread by a stable hash of its id, unless a control moved it.
    func coordinator(for key: String) -> Int32 {
        if let moved = coordinatorOverrides[key] { return moved }
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int32(hash % UInt32(max(1, brokers.count)))
    }

    /// Creates a topic with leaders spread round-robin over the brokers, each partition's other
    /// replicas on the brokers that follow its leader.
    mutating func createTopic(_ name: String, partitions: Int32, replicationFactor: Int = 1, configs: [String: String] = [:]) {
        let first = nextTopicLeader
        nextTopicLeader = (nextTopicLeader + 1) % Int32(max(1, brokers.count))
        createTopic(name, replicas: (0..<partitions).map { spreadReplicas(leader: first + $0, count: replicationFactor) }, configs: configs)
    }

    /// Creates a topic whose partition i has the replicas `replicas[i]`, led by the first.
    mutating func createTopic(_ name: String, replicas: [[Int32]], configs: [String: String] = [:]) {
        let id = KafkaUUID.random()
        if let replaced = topics[name] { topicNamesById[replaced.id] = nil }
        topics[name] = TopicState(id: id, partitions: replicas.map { PartitionLog(replicas: $0) }, configs: configs)
        topicNamesById[id] = name
    }

    /// `count` consecutive brokers (wrapping around) starting at the `leader`-th.
    func spreadReplicas(leader: Int32, count: Int) -> [Int32] {
        let n = max(1, brokers.count)
        return (0..<max(1, min(count, n))).map { brokers.isEmpty ? 0 : brokers[(Int(leader) + $0) % n].id }
    }

    /// Wakes every long-polling Fetch interested in `tp` (or all of them, for `nil`).
    mutating func wakeFetchers(for tp: TopicPartition?, effects: inout ConsumerGroup.Effects) {
        for (id, waiter) in fetchWaiters where tp == nil || waiter.partitions.contains(tp!) {
            fetchWaiters.removeValue(forKey: id)
            effects.append { waiter.promise.succeed() }
        }
    }

    mutating func groupCreatingIfNeeded(_ id: String, delay: TimeAmount) -> ConsumerGroup {
        if let g = groups[id] { return g }
        let g = ConsumerGroup(id: id, initialRebalanceDelay: delay)
        groups[id] = g
        return g
    }

    /// Validates a topic name as Kafka does: 1–249 characters of [a-zA-Z0-9._-], not "." or "..".
    static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 249, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._-".unicodeScalars.contains($0) }
    }
}
