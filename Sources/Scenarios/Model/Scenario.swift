import KafkaProtocol

/// A retry policy with the knobs of Restate's `[default-retry-policy]`. Restate's default waits
/// 500 ms, then twice as long each time, so scenarios whose handlers fail on purpose set a fast
/// one to stay quick.
public struct RetryPolicySpec: Sendable, Equatable {
    public enum OnMaxAttempts: String, Sendable, Equatable, CaseIterable { case pause, kill }

    public var initialIntervalMs = 500
    public var exponentiationFactor = 2.0
    public var maxIntervalMs = 60_000
    /// nil: unlimited.
    public var maxAttempts: Int? = 70
    public var onMaxAttempts = OnMaxAttempts.pause

    public init() {}
}

/// A scenario: what to set up, what to do, and what must hold afterwards. YAML files and the
/// Swift builder both produce this.
public struct Scenario: Sendable, Equatable {
    public var name: String
    /// The default Kafka cluster: topics, subscriptions and steps that name no cluster use it.
    public var cluster: ClusterSpec
    /// Further clusters (the ingress is configured with all of them), named by `cluster:` fields.
    public var additionalClusters: [ClusterSpec]
    public var topics: [TopicSpec]
    public var services: [ServiceSpec]
    /// Endpoints written with a Restate SDK; their services are discovered, not declared.
    public var deployments: [DeploymentSpec] = []
    public var subscriptions: [SubscriptionSpec]
    public var steps: [Located<Step>]
    public var expectations: [Located<Expectation>]
    /// How the embedded ingress retries failing invocations; nil: Restate's default policy.
    public var retryPolicy: RetryPolicySpec?
    /// Run it several times with faults drawn from a seed (see `ExploreSpec`).
    public var explore: ExploreSpec?
    /// The seed of a run's random choices (faults injected with a probability); nil: unseeded.
    public var seed: UInt64?
    /// `mutation: none  # why`: the scenario is not meant to catch any planted defect, for the
    /// reason its comment gives (`harness mutate` then accepts that it catches none).
    public var mutationExemption: String?
    /// Steps an exploration inserted (by index): their injected faults need not act.
    public var exploredSteps: Set<Int> = []
    /// Where the scenario came from (a file, or a Swift source location).
    public var source: SourceLocation

    public init(name: String, cluster: ClusterSpec = ClusterSpec(), additionalClusters: [ClusterSpec] = [], topics: [TopicSpec] = [], services: [ServiceSpec] = [],
                subscriptions: [SubscriptionSpec] = [], steps: [Located<Step>] = [], expectations: [Located<Expectation>] = [],
                source: SourceLocation) {
        self.name = name
        self.cluster = cluster
        self.additionalClusters = additionalClusters
        self.topics = topics
        self.services = services
        self.subscriptions = subscriptions
        self.steps = steps
        self.expectations = expectations
        self.source = source
    }

    /// Every cluster, the default first.
    public var clusters: [ClusterSpec] { [cluster] + additionalClusters }

    /// Subscriptions a `subscribe` step creates; the others exist before the first step.
    public var subscribedByStep: Set<String> {
        Set(steps.compactMap { if case .subscribe(let name) = $0.value { name } else { nil } })
    }
}

/// A file (or Swift source file), line and column, for errors and failed expectations.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A value and where it was written.
public struct Located<Value: Sendable & Equatable>: Sendable, Equatable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

public struct SASLSpec: Sendable, Equatable {
    public var mechanisms: [String]
    public var users: [String: String]
    /// The user the ingress authenticates as, with the first mechanism: written into the
    /// ingress's cluster properties as restate.toml would hold them (with OAUTHBEARER, as the
    /// OAuth client of `sasl.oauthbearer.method=oidc`). nil: subscriptions bring credentials in
    /// their options.
    public var ingressUser: String?
    /// OAUTHBEARER: scope every token must carry.
    public var requiredScope: [String]
    /// OAUTHBEARER: the `sasl.oauthbearer.scope` the ingress asks the token endpoint for.
    public var ingressScope: String?

    public init(mechanisms: [String], users: [String: String], ingressUser: String? = nil, requiredScope: [String] = [], ingressScope: String? = nil) {
        self.mechanisms = mechanisms
        self.users = users
        self.ingressUser = ingressUser
        self.requiredScope = requiredScope
        self.ingressScope = ingressScope
    }
}

/// Kafka's `security.protocol` names for what a cluster's listeners speak.
public enum SecurityProtocolSpec: String, Sendable, Equatable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSSL = "SASL_SSL"

    public var usesTLS: Bool { self == .ssl || self == .saslSSL }
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
}

public struct ClusterSpec: Sendable, Equatable {
    /// The default cluster's name is only a label; on an external ingress its name there counts.
    public static let defaultName = "default"

    public var name: String
    public var brokers: Int
    /// Partitions of topics that do not say.
    public var partitions: Int32
    /// SASL on the cluster's listeners (SASL_PLAINTEXT): mechanisms offered (PLAIN,
    /// SCRAM-SHA-256, SCRAM-SHA-512) and users. Clients bring their own credentials, as in
    /// Restate: a subscription's `options` carry `security.protocol` and `sasl.*`.
    public var sasl: SASLSpec?
    /// What the listeners speak; nil: SASL_PLAINTEXT with `sasl`, PLAINTEXT without. With TLS
    /// the runner generates a CA and gives the ingress `ssl.ca.location` in the cluster's properties.
    public var securityProtocol: SecurityProtocolSpec?

    public var effectiveSecurityProtocol: SecurityProtocolSpec { securityProtocol ?? (sasl == nil ? .plaintext : .saslPlaintext) }
    /// librdkafka properties of the cluster's entry in the ingress's configuration (restate.toml's
    /// `[[ingress.kafka-clusters]]`, or the body of `POST /kafka-clusters`): every subscription of
    /// the cluster gets them.
    public var properties: [String: String] = [:]
    /// The ingress learns this cluster at run time, through the admin API's `POST
    /// /kafka-clusters` (as Restate's own Kafka tests register theirs), not from its
    /// configuration.
    public var registeredAtRuntime = false

    public init(name: String = ClusterSpec.defaultName, brokers: Int = 1, partitions: Int32 = 4) {
        self.name = name
        self.brokers = brokers
        self.partitions = partitions
    }
}

public struct TopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int32?
    /// nil: the default cluster.
    public var cluster: String?
    /// Topic configs it is created with, as CreateTopics takes them (e.g.
    /// `message.timestamp.type: LogAppendTime`, which `timestamp_type: log_append` writes).
    public var configs: [String: String] = [:]

    public init(name: String, partitions: Int32? = nil, cluster: String? = nil, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.cluster = cluster
        self.configs = configs
    }
}

public struct ServiceSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case service, object, workflow
    }

    public struct Handler: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable, CaseIterable {
            case exclusive, shared, workflow
        }

        public var name: String
        public var kind: Kind?
        public var latencyMs: Int
        public var failFirstAttempts: Int

        public init(name: String, kind: Kind? = nil, latencyMs: Int = 0, failFirstAttempts: Int = 0) {
            self.name = name
            self.kind = kind
            self.latencyMs = latencyMs
            self.failFirstAttempts = failFirstAttempts
        }
    }

    public var name: String
    public var kind: Kind
    public var handlers: [Handler]

    public init(name: String, kind: Kind, handlers: [Handler]) {
        self.name = name
        self.kind = kind
        self.handlers = handlers
    }
}

public struct SubscriptionSpec: Sendable, Equatable {
    /// The scenario's name for it (steps and expectations refer to it); the ingress assigns the id.
    public var name: String
    public var topic: String
    /// `Service/handler`
    public var sink: String
    /// Passed with the subscription; the ingress hands what it does not know to librdkafka.
    public var options: [String: String]
    /// nil: the default cluster.
    public var cluster: String?

    public init(name: String, topic: String, sink: String, options: [String: String] = [:], cluster: String? = nil) {
        self.name = name
        self.topic = topic
        self.sink = sink
        self.options = options
        self.cluster = cluster
    }
}

public enum Step: Sendable, Equatable {
    case produce(ProduceStep)
    /// Until this many invocations completed (of one subscription, or in all), within the timeout.
    case waitForInvocations(count: Int, subscription: String?, timeoutMs: Int)
    /// Until the subscription's consumer group has this many members with partitions assigned.
    case waitForGroupMembers(count: Int, subscription: String, timeoutMs: Int)
    /// Until the subscription's group has committed every record of its topic (what was produced
    /// so far is durably ingested): a condition any ingress shows, also an external one.
    case waitForCommitted(subscription: String, timeoutMs: Int)
    /// Creates a subscription declared in the scenario (those named by such a step are not
    /// created up front), e.g. to produce before the ingress consumes.
    case subscribe(String)
    case deleteSubscription(String)
    case restartIngress
    /// Kills the ingress as a crash would (no drain: in-flight appends and attempts are lost) and
    /// starts it again on the same journal.
    case killIngress
    /// Runs this many ingress instances in the subscriptions' groups (embedded target): adding
    /// one makes the groups rebalance onto it; removing one makes it leave gracefully.
    case ingressInstances(Int)
    /// Grows a topic to `count` partitions mid-stream (CreatePartitions); the ingress must pick
    /// the new partitions up.
    case addPartitions(topic: String, count: Int32, cluster: String?)
    /// A FakeKafka control.
    case fault(FaultStep)
    /// A request to the ingress's HTTP API, repeated until it answers as expected.
    case call(CallStep)
    /// A request to the ingress's admin API (Restate's port 9070), checked against what it must answer.
    case admin(AdminStep)
    /// Discouraged: prefer waiting for a condition.
    case sleep(ms: Int)
}

/// A request to the admin API. Paths and bodies may name `{recorder}` (the recorder's URL, as
/// registered) and `{subscription:NAME}` (the id the ingress gave a scenario subscription).
public struct AdminStep: Sendable, Equatable {
    public var method: String
    public var path: String
    /// JSON text; nil: no body.
    public var body: String?
    /// The status it must answer; nil: any 2xx.
    public var status: Int?
    /// JSON the answer must contain: every key of an object with an equal value (recursively),
    /// arrays element by element.
    public var expectBody: String?

    public init(method: String, path: String, body: String? = nil, status: Int? = nil, expectBody: String? = nil) {
        self.method = method
        self.path = path
        self.body = body
        self.status = status
        self.expectBody = expectBody
    }
}

/// Faults a scenario can cause: FakeKafka's controls (an external Kafka has none).
public indirect enum FaultStep: Sendable, Equatable {
    case moveLeader(topic: String, partition: Int32, toBroker: Int32)
    /// Forces the subscription's consumer group to rebalance.
    case rebalance(subscription: String)
    case stopBroker(Int32)
    case startBroker(Int32)
    /// Matching requests fail, wait, lose their connection or lose their answer.
    case inject(InjectedFault)
    /// Removes every injected fault.
    case clearFaults
    /// Closes client connections (to one broker, or all).
    case dropConnections(broker: Int32?)
    /// Moves the subscription's group coordinator to another broker.
    case moveCoordinator(subscription: String, toBroker: Int32)
    /// Advertises at most this version of an API (nil: the full range again).
    case capVersion(api: ApiKey, max: Int16?)
    /// The fault, on a cluster other than the default one.
    case onCluster(String, FaultStep)
}

extension FaultStep {
    /// The request fault, when this is one (also on another cluster).
    public var injected: InjectedFault? {
        switch self {
        case .inject(let f): f
        case .onCluster(_, let inner): inner.injected
        default: nil
        }
    }
}

/// A request fault: which requests, what happens to them, how often.
public struct InjectedFault: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case error(KafkaErrorCode)
        case delayMs(Int)
        case disconnect
        case dropResponse
    }

    public enum Frequency: Sendable, Equatable {
        case times(Int)
        case always
        case probability(Double)
    }

    public var api: ApiKey
    public var action: Action
    public var frequency: Frequency
    /// Only requests touching this partition (both set, or neither).
    public var topic: String?
    public var partition: Int32?
    public var broker: Int32?

    public init(api: ApiKey, action: Action, frequency: Frequency = .times(1), topic: String? = nil, partition: Int32? = nil, broker: Int32? = nil) {
        self.api = api
        self.action = action
        self.frequency = frequency
        self.topic = topic
        self.partition = partition
        self.broker = broker
    }
}

/// How a transactional `produce` step ends: read_committed consumers see its records only if it
/// commits; read_uncommitted consumers see them either way. A transaction left `open` stays so
/// for the rest of the run: read_committed consumers stop at its first record (the last stable
/// offset), so nothing after it on its partitions is consumable either.
public enum TransactionOutcome: String, Sendable, Equatable, CaseIterable {
    case commit
    case abort
    case open
}

/// How a `produce` step writes its records.
public enum ProduceVia: String, Sendable, Equatable, CaseIterable {
    /// Through a real producer client (librdkafka, idempotent, acks=all): broker outages, leader
    /// moves and `Produce` faults act on it, as on an application's producer.
    case producer
    /// Appended to FakeKafka's partition logs in-process, bypassing the protocol: for bulk data
    /// that no fault should touch.
    case log
}

public struct ProduceStep: Sendable, Equatable {
    public var topic: String
    public var count: Int
    /// Templates: `{i}` is the record's index, `{i % N}` its remainder; nil key = null key.
    public var key: String?
    /// A template as `key`; nil: a null value (a tombstone).
    public var value: String?
    public var headers: [String: String]
    public var partition: Int32?
    /// The codec of the batches written (none, gzip, snappy, lz4, zstd).
    public var compression: CompressionCodec
    /// Raw key bytes in hex (e.g. "c328", not valid UTF-8), instead of `key`.
    public var keyHex: String?
    /// Raw value bytes in hex, instead of `value`.
    public var valueHex: String?
    /// The records' CreateTime in epoch milliseconds; nil: the time of producing; -1: no
    /// timestamp (Kafka's "none").
    public var timestamp: Int64?
    /// nil: the default cluster.
    public var cluster: String?
    /// Written in one transaction that then commits, aborts or stays open; nil: no transaction.
    public var transaction: TransactionOutcome?
    public var via = ProduceVia.producer
    /// The step must fail with this error (Kafka's name, e.g. NOT_LEADER_OR_FOLLOWER, or
    /// librdkafka's for local ones, e.g. _MSG_TIMED_OUT); nil: it must succeed.
    public var expectError: String?
    /// Produce again until the records are delivered (within 30 s), as an application retries.
    public var eventually = false
    /// Names the step's records for expectations (`never_invoked: {label: …}`).
    public var label: String?

    public init(topic: String, count: Int = 1, key: String? = nil, value: String? = "{i}", headers: [String: String] = [:],
                partition: Int32? = nil, compression: CompressionCodec = .none) {
        self.topic = topic
        self.count = count
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.compression = compression
    }
}

extension Scenario {
    /// The same scenario with every topic name suffixed (topics, subscriptions, steps).
    public func suffixingTopics(_ suffix: String) -> Scenario {
        var s = self
        s.topics = topics.map { var t = $0; t.name += suffix; return t }
        s.subscriptions = subscriptions.map { var x = $0; x.topic += suffix; return x }
        s.steps = steps.map { step in
            var step = step
            switch step.value {
            case .produce(var p): p.topic += suffix; step.value = .produce(p)
            case .fault(let f): step.value = .fault(f.suffixingTopics(suffix))
            default: break
            }
            return step
        }
        return s
    }
}

extension FaultStep {
    func suffixingTopics(_ suffix: String) -> FaultStep {
        switch self {
        case .moveLeader(let topic, let partition, let broker): .moveLeader(topic: topic + suffix, partition: partition, toBroker: broker)
        case .inject(var f): { f.topic = f.topic.map { $0 + suffix }; return .inject(f) }()
        case .onCluster(let name, let inner): .onCluster(name, inner.suffixingTopics(suffix))
        default: self
        }
    }
}
