import KafkaProtocol
import LiveResources
import Logging
import NIOCore
import NIOPosix
import PlantedDefects
import Synchronization

/// An in-process Kafka cluster speaking the real wire protocol on loopback sockets, so unmodified
/// clients (librdkafka, kafka-python, aiokafka) can produce to it and consume from it.
///
/// Besides serving clients, the cluster offers tests controls (faults, broker outages, leader and
/// coordinator moves, forced rebalances, version caps) and introspection (records, watermarks,
/// committed offsets, groups, a request log).
public final class FakeKafkaCluster: Sendable {
    public struct Configuration: Sendable {
        /// Number of brokers; partition leaders and group coordinators are spread over them.
        public var brokers: Int = 1
        /// Address the brokers listen on.
        public var host: String = "127.0.0.1"
        /// Port of the first broker; the others follow it. 0 picks free ports.
        public var port: Int = 0
        /// Host put in Metadata for clients to connect to (for Docker); defaults to `host`.
        public var advertisedHost: String?
        /// Partitions of auto-created topics and of CreateTopics with -1.
        public var defaultPartitions: Int32 = 4
        /// Whether Metadata creates unknown topics.
        public var autoCreateTopics: Bool = true
        /// How long an empty group waits for more members before its first generation
        /// (Kafka's group.initial.rebalance.delay.ms). 0 makes tests fast.
        public var initialRebalanceDelay: TimeAmount = .zero
        /// The Kafka release clients see: which request versions ApiVersions advertises.
        public var kafkaVersion: KafkaVersion = .v3_9
        /// Session timeouts accepted from clients. Kafka's minimum is 6 s; ours is lower so tests
        /// of session expiry are quick.
        public var minSessionTimeout: TimeAmount = .milliseconds(1000)
        public var maxSessionTimeout: TimeAmount = .seconds(1800)
        /// KIP-848 consumer groups (`group.protocol=consumer`): how often members heartbeat, how
        /// long a silent member keeps its place, and the assignors offered, the first being the
        /// default (Kafka's group.consumer.heartbeat.interval.ms, .session.timeout.ms, .assignors).
        public var consumerGroupHeartbeatInterval: TimeAmount = .seconds(5)
        public var consumerGroupSessionTimeout: TimeAmount = .seconds(45)
        public var consumerGroupAssignors: [String] = ["uniform", "range"]
        /// Largest request frame accepted; larger ones close the connection.
        public var maxFrameSize: Int = 100 * 1024 * 1024
        /// Client connections each broker keeps open at once; one more is closed as soon as it
        /// is accepted, with a warning. Kafka's `max.connections` is unlimited by default; a
        /// bound keeps a runaway client from exhausting the test process's file descriptors.
        public var maxConnectionsPerBroker: Int = 1000
        /// A connection that sends and receives nothing for this long is closed, half-sent frame
        /// or not (Kafka's `connections.max.idle.ms`, 10 minutes); nil keeps idle connections.
        public var connectionIdleTimeout: TimeAmount? = .minutes(10)
        /// Sees every request frame as it arrives (without its size prefix), before it is
        /// decoded, on the connection's event loop: `harness broker --capture-requests` keeps
        /// them as fuzzing seeds.
        public var requestTap: (@Sendable (_ broker: Int32, _ frame: ByteBuffer) -> Void)?
        /// How many requests the request log keeps (it reports how many it dropped).
        public var requestLogCapacity: Int = 10_000
        /// Where brokers after the first listen when `port` is not 0: on the ports that follow it
        /// (what `harness broker --port` promises), or on any free port, for when only the first
        /// broker's address is written down elsewhere (an ingress's configuration).
        public var laterBrokerPorts: LaterBrokerPorts = .following
        public var clusterId: String = "fake-kafka-cluster"
        /// Broker bugs to exhibit, for measuring whether scenarios catch them (empty otherwise).
        public var plantedDefects: Set<PlantedDefect> = []
        /// Decides faults injected with a probability; give a seeded generator to make a run's
        /// choices repeatable (the scenario runner passes the scenario's seed).
        public var faultRandomness: (any RandomNumberGenerator & Sendable)?
        /// SASL on every listener (SASL_PLAINTEXT, or SASL_SSL with `tls`); nil: no SASL.
        public var sasl: SASLConfiguration?
        /// TLS on every listener (SSL, or SASL_SSL with `sasl`); nil: no TLS.
        public var tls: TLSSettings?
        public var logger: Logger = Logger(label: "fakekafka")

        public init(brokers: Int = 1, defaultPartitions: Int32 = 4) {
            self.brokers = brokers
            self.defaultPartitions = defaultPartitions
        }

        /// What the listeners speak, as `tls` and `sasl` make it.
        public var securityProtocol: SecurityProtocol { SecurityProtocol(tls: tls != nil, sasl: sasl != nil) }
    }

    public enum LaterBrokerPorts: Sendable {
        case following
        case any
    }

    let core: ClusterCore
    private let registration: Registration
    /// Listening channels of the brokers that are up.
    let listenerTable = Mutex<[Int32: any Channel]>([:])
    private let ticker = Mutex<RepeatedTask?>(nil)
    /// The OAuth token endpoint's listening channel, when SASL offers OAUTHBEARER.
    private let tokenEndpointChannel = Mutex<(any Channel)?>(nil)

    private init(core: ClusterCore) {
        self.core = core
        registration = LiveResources.opened("FakeKafka cluster", "of \(core.configuration.brokers) broker(s)")
    }

    /// Starts the brokers and returns once all of them are listening.
    ///
    /// - Parameter eventLoopGroup: where the brokers run; by default NIO's process-wide group,
    ///   so that many clusters in one process (a test run) do not each bring threads of their own.
    public static func start(_ configuration: Configuration = Configuration(), eventLoopGroup: (any EventLoopGroup)? = nil) async throws -> FakeKafkaCluster {
        precondition(configuration.brokers >= 1, "a cluster needs at least one broker")
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        // One certificate for every broker, issued before any listens, so that a bad host name
        // fails the start instead of every handshake.
        let tlsContext = try configuration.tls?.serverContext(hosts: [configuration.host, configuration.advertisedHost].compactMap { $0 })
        let core = ClusterCore(configuration: configuration, eventLoopGroup: group, logger: configuration.logger, tlsContext: tlsContext)
        let cluster = FakeKafkaCluster(core: core)
        do {
            for id in 0..<Int32(configuration.brokers) {
                let anyPort = configuration.port == 0 || (id > 0 && configuration.laterBrokerPorts == .any)
                let port = anyPort ? 0 : configuration.port + Int(id)
                let channel = try await BrokerListener.bind(core: core, broker: id, host: configuration.host, port: port)
                let bound = channel.localAddress?.port ?? port
                cluster.listenerTable.withLock { $0[id] = channel }
                core.withState { state, _ in
                    state.brokers.append(BrokerInfo(id: id, host: configuration.advertisedHost ?? configuration.host, port: bound, isUp: true))
                }
            }
            if configuration.sasl?.mechanisms.contains(.oauthBearer) == true {
                let channel = try await OAuthTokenEndpoint.bind(core: core, host: configuration.host)
                cluster.tokenEndpointChannel.withLock { $0 = channel }
            }
        } catch {
            try? await cluster.shutdown()
            throw error
        }
        let task = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { _ in core.tick() }
        cluster.ticker.withLock { $0 = task }
        return cluster
    }

    /// Stops every broker and closes every connection.
    public func shutdown() async throws {
        ticker.withLock { $0?.cancel(); $0 = nil }
        let channels = listenerTable.withLock { l in defer { l.removeAll() }; return Array(l.values) }
        for channel in channels { try? await channel.close() }
        if let endpoint = tokenEndpointChannel.withLock({ c in defer { c = nil }; return c }) { try? await endpoint.close() }
        core.connections.close()
        core.withState { state, effects in
            for group in state.groups.values { group.abandonParkedRequests(code: .coordinatorNotAvailable, effects: &effects) }
            state.wakeFetchers(for: nil, effects: &effects)
        }
        registration.close()
    }

    // MARK: Addresses

    /// The brokers as clients see them.
    public var brokers: [BrokerInfo] { core.withState { state, _ in state.brokers } }

    /// `host:port` of every broker, comma-separated: a `bootstrap.servers` value.
    public var bootstrapServers: String { brokers.map { "\($0.host):\($0.port)" }.joined(separator: ",") }

    // MARK: OAUTHBEARER

    /// Where OAuth clients get tokens (`sasl.oauthbearer.token.endpoint.url`): the cluster's
    /// client-credentials endpoint, served over HTTP when SASL offers OAUTHBEARER; nil otherwise.
    public var oauthTokenEndpoint: String? { endpointURL(OAuthTokenEndpoint.tokenPath) }

    /// The token endpoint's signing key as a JSON Web Key Set.
    public var oauthJWKSURL: String? { endpointURL(OAuthTokenEndpoint.jwksPath) }

    private func endpointURL(_ path: String) -> String? {
        guard let port = tokenEndpointChannel.withLock({ $0?.localAddress?.port }) else { return nil }
        return "http://\(core.configuration.advertisedHost ?? core.configuration.host):\(port)\(path)"
    }

    /// A token signed as the token endpoint signs them, with claims of the caller's choosing (an
    /// expired one with a negative `lifetime`, a wrongly scoped one, another audience).
    public func issueOAuthToken(subject: String, scope: [String] = [], audience: [String]? = nil, lifetime: Duration = .seconds(3600)) -> String {
        core.oauthIssuer.issueToken(subject: subject, scope: scope, audience: audience ?? core.configuration.sasl?.oauthBearer.expectedAudience ?? [],
                                    lifetime: lifetime)
    }

    /// The OAuth clients the token endpoint issued tokens to, one entry per token.
    public var issuedOAuthTokens: [String] { core.withState { state, _ in state.issuedTokens } }

    /// Token requests the endpoint refused (unknown client, wrong secret), with the reason.
    public var tokenEndpointRefusals: [String] { core.withState { state, _ in state.tokenEndpointRefusals } }

    // MARK: Topics and records

    /// Creates a topic with these topic configs (as CreateTopics would); throws if it exists or
    /// the name is not a valid Kafka topic name.
    public func createTopic(_ name: String, partitions: Int32? = nil, configs: [String: String] = [:]) throws {
        let partitions = partitions ?? core.configuration.defaultPartitions
        try core.withState { state, _ in
            guard ClusterState.isValidTopicName(name) else { throw FakeKafkaError.invalidTopicName(name) }
            guard state.topics[name] == nil else { throw FakeKafkaError.topicExists(name) }
            guard partitions > 0 else { throw FakeKafkaError.invalidPartitionCount(partitions) }
            state.createTopic(name, partitions: partitions, configs: configs)
        }
    }

    /// Grows a topic to `total` partitions, as CreatePartitions does (leaders round-robin).
    public func addPartitions(to topic: String, total: Int32) throws {
        try core.withState { state, _ in
            guard let current = state.topics[topic]?.partitions.count else { throw FakeKafkaError.unknownTopic(topic) }
            guard Int(total) > current else { throw FakeKafkaError.invalidPartitionCount(total) }
            state.addPartitions(to: topic, count: Int(total) - current, replicas: nil)
        }
    }

    /// Deletes a topic and its data; throws if it does not exist.
    public func deleteTopic(_ name: String) throws {
        try core.withState { state, effects in
            guard state.deleteTopic(name, effects: &effects) else { throw FakeKafkaError.unknownTopic(name) }
        }
    }

    /// Topic names with their partition counts.
    public var topics: [String: Int32] {
        core.withState { state, _ in state.topics.mapValues { Int32($0.partitions.count) } }
    }

    /// Appends records directly (no client, no network), as one batch; returns the first offset.
    @discardableResult
    public func append(_ records: [KafkaRecord], to tp: TopicPartition, compression: CompressionCodec = .none) throws -> Int64 {
        guard !records.isEmpty else { return try watermarks(tp).high }
        let batch = try RecordBatch.encode(records, compression: compression)
        let header = try RecordBatchHeader(peekingAt: batch)
        return try core.withState { state, effects in
            guard state.partition(tp) != nil else { throw FakeKafkaError.unknownPartition(tp) }
            let offset = state.appendUnchecked((header, batch), to: tp)
            state.wakeFetchers(for: tp, effects: &effects)
            return offset
        }
    }

    /// Every record of a partition from its log start offset, decoded, in offset order.
    public func records(_ tp: TopicPartition) throws -> [KafkaRecord] {
        let (batches, start) = try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return (log.batches.map(\.bytes), log.logStartOffset)
        }
        return try batches.flatMap { try RecordBatch.records(in: $0) }.filter { $0.offset >= start }
    }

    /// Deletes the records of a partition before `offset` (-1: all of them), as DeleteRecords
    /// does, and returns the new log start offset; throws when the offset is past the high
    /// watermark or the topic's cleanup policy forbids deletion.
    @discardableResult
    public func deleteRecords(_ tp: TopicPartition, before offset: Int64) throws -> Int64 {
        try core.withState { state, _ in
            switch state.deleteRecords(tp, before: offset, onBroker: nil) {
            case .success(let start): return start
            case .failure(let refusal):
                if refusal.code == .unknownTopicOrPartition { throw FakeKafkaError.unknownPartition(tp) }
                throw FakeKafkaError.recordsNotDeleted(tp, reason: refusal.reason)
            }
        }
    }

    /// The brokers holding a partition's replicas, its preferred leader first.
    public func replicas(of tp: TopicPartition) throws -> [Int32] {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return log.replicas
        }
    }

    /// Log start offset and high watermark of a partition.
    public func watermarks(_ tp: TopicPartition) throws -> (low: Int64, high: Int64) {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return (log.logStartOffset, log.highWatermark)
        }
    }

    /// The batches of a partition as stored: compression and producer identity per batch.
    public func batchHeaders(_ tp: TopicPartition) throws -> [RecordBatchHeader] {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return try log.batches.map { try RecordBatchHeader(peekingAt: $0.bytes) }
        }
    }

    // MARK: Groups

    /// Offsets a group committed, by partition.
    public func committedOffsets(group: String) -> [TopicPartition: CommittedOffset] {
        core.withState { state, _ in state.offsets[group] ?? [:] }
    }

    /// A group's state, members and assignments; nil when the coordinator never saw it.
    public func group(_ id: String) -> GroupDescription? {
        core.withState { state, _ in state.groups[id]?.describe() ?? state.modernGroups[id]?.describe() }
    }

    /// Ids of every group the cluster knows.
    public var groupIds: [String] { core.withState { state, _ in (Array(state.groups.keys) + state.modernGroups.keys).sorted() } }

    /// The ACLs created through CreateAcls and not deleted, oldest first (never enforced).
    public var acls: [AclBinding] { core.withState { state, _ in state.acls } }

    // MARK: Request log

    /// The most recent requests in arrival order, and how many older ones were dropped.
    public func requestLog() -> (entries: [RequestLogEntry], dropped: Int) {
        core.withState { state, _ in (state.requestLog.ordered, state.requestLog.dropped) }
    }

    /// The SASL authentications refused so far, with the reason (for OAUTHBEARER more than the
    /// client is told): why a client with wrong credentials never got anywhere.
    public var authenticationFailures: [String] {
        core.withState { state, _ in state.authenticationFailures }
    }

    /// The TLS handshakes that failed so far (a client not trusting the CA, one without the
    /// client certificate mutual TLS requires, a plaintext client), each with the client's
    /// address and the reason.
    public var tlsHandshakeFailures: [String] {
        core.withState { state, _ in state.tlsHandshakeFailures }
    }

    /// What the listeners speak.
    public var securityProtocol: SecurityProtocol { core.configuration.securityProtocol }

    /// The authority that signed the brokers' certificate (nil without TLS): clients trust its
    /// `certificatePEM`; with mutual TLS it issues their certificates.
    public var certificateAuthority: CertificateAuthority? { core.configuration.tls?.authority }

    /// Number of open client connections.
    public var connectionCount: Int { core.connections.count }
}

/// Errors of the cluster's Swift API, naming what they are about.
public enum FakeKafkaError: Error, Equatable, CustomStringConvertible {
    case invalidTopicName(String)
    case topicExists(String)
    case unknownTopic(String)
    case unknownPartition(TopicPartition)
    case invalidPartitionCount(Int32)
    case unknownBroker(Int32)
    case unknownGroup(String)
    /// `deleteRecords` refused: the offset is past the high watermark, or the policy forbids it.
    case recordsNotDeleted(TopicPartition, reason: String)
    /// The transaction coordinator refused a transaction written through `appendTransaction`.
    case transactionRefused(transactionalId: String, reason: String)

    public var description: String {
        switch self {
        case .invalidTopicName(let n): "'\(n)' is not a valid topic name (1–249 of [a-zA-Z0-9._-], not '.' or '..')"
        case .topicExists(let n): "topic '\(n)' already exists"
        case .unknownTopic(let n): "no topic '\(n)'"
        case .unknownPartition(let tp): "no partition \(tp)"
        case .invalidPartitionCount(let n): "partition count \(n) must be at least 1"
        case .unknownBroker(let id): "no broker \(id)"
        case .unknownGroup(let g): "no group '\(g)'"
        case .recordsNotDeleted(_, let reason): reason
        case .transactionRefused(let id, let reason): "transaction of '\(id)' refused: \(reason)"
        }
    }
}
