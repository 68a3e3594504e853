/// A scenario: what to set up, what to do, and what must hold afterwards. YAML files and the
/// Swift builder both produce this.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var cluster: ClusterSpec
    public var topics: [TopicSpec]
    public var services: [ServiceSpec]
    public var subscriptions: [SubscriptionSpec]
    public var steps: [Located<Step>]
    public var expectations: [Located<Expectation>]
    /// Where the scenario came from (a file, or a Swift source location).
    public var source: SourceLocation

    public init(name: String, cluster: ClusterSpec = ClusterSpec(), topics: [TopicSpec] = [], services: [ServiceSpec] = [],
                subscriptions: [SubscriptionSpec] = [], steps: [Located<Step>] = [], expectations: [Located<Expectation>] = [],
                source: SourceLocation) {
        self.name = name
        self.cluster = cluster
        self.topics = topics
        self.services = services
        self.subscriptions = subscriptions
        self.steps = steps
        self.expectations = expectations
        self.source = source
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

public struct ClusterSpec: Sendable, Equatable {
    public var brokers: Int
    public var partitions: Int32

    public init(brokers: Int = 1, partitions: Int32 = 4) {
        self.brokers = brokers
        self.partitions = partitions
    }
}

public struct TopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int32?

    public init(name: String, partitions: Int32? = nil) {
        self.name = name
        self.partitions = partitions
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
    public var options: [String: String]

    public init(name: String, topic: String, sink: String, options: [String: String] = [:]) {
        self.name = name
        self.topic = topic
        self.sink = sink
        self.options = options
    }
}

public enum Step: Sendable, Equatable {
    case produce(ProduceStep)
    /// Until this many invocations completed (of one subscription, or in all), within the timeout.
    case waitForInvocations(count: Int, subscription: String?, timeoutMs: Int)
    /// Until the subscription's consumer group has this many members with partitions assigned.
    case waitForGroupMembers(count: Int, subscription: String, timeoutMs: Int)
    case deleteSubscription(String)
    case restartIngress
    /// Runs this many ingress instances in the subscriptions' groups (embedded target): adding
    /// one makes the groups rebalance onto it; removing one makes it leave gracefully.
    case ingressInstances(Int)
    /// A FakeKafka control.
    case fault(FaultStep)
    /// Discouraged: prefer waiting for a condition.
    case sleep(ms: Int)
}

/// Faults a scenario can cause on the embedded cluster.
public enum FaultStep: Sendable, Equatable {
    case moveLeader(topic: String, partition: Int32, toBroker: Int32)
    /// Forces the subscription's consumer group to rebalance.
    case rebalance(subscription: String)
    case stopBroker(Int32)
    case startBroker(Int32)
}

public struct ProduceStep: Sendable, Equatable {
    public var topic: String
    public var count: Int
    /// Templates: `{i}` is the record's index, `{i % N}` its remainder; nil key = null key.
    public var key: String?
    public var value: String
    public var headers: [String: String]
    public var partition: Int32?
    /// The codec of the batches written (none, gzip, snappy, lz4, zstd).
    public var compression: String
    /// Raw key bytes in hex (e.g. "c328", not valid UTF-8), instead of `key`.
    public var keyHex: String?

    public init(topic: String, count: Int = 1, key: String? = nil, value: String = "{i}", headers: [String: String] = [:],
                partition: Int32? = nil, compression: String = "none") {
        self.topic = topic
        self.count = count
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.compression = compression
    }
}

public enum Expectation: Sendable, Equatable {
    /// Per key, invocations ran in the order the records were produced.
    case orderedPerKey(subscription: String)
    /// No two invocations of one key overlapped in time.
    case noOverlapPerKey(subscription: String)
    /// At some instant at least this many invocations of the subscription ran at once.
    case parallelismAtLeast(subscription: String, count: Int)
    /// Every record of the subscription's topic was invoked exactly once (or at least once).
    case delivered(subscription: String, exactlyOnce: Bool)
    /// The kafka.* and restate.subscription.id headers equal each record's coordinates.
    case headersMatchRecords(subscription: String)
    /// After its deletion: group empty, nothing produced later invoked, everything earlier completed.
    case deletionHonoured(subscription: String)
    case invocationCount(subscription: String, count: Int)
}
