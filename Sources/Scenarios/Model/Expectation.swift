public enum Expectation: Sendable, Equatable {
    /// Per key, invocations ran in the order the records were produced. O(n log n) in the
    /// subscription's completed attempts (a sort per key), as are the next two.
    case orderedPerKey(subscription: String)
    /// No two invocations of one key overlapped in time.
    case noOverlapPerKey(subscription: String)
    /// At some instant at least this many invocations of the subscription ran at once.
    /// O(n log n): a sweep over sorted starts and ends.
    case parallelismAtLeast(subscription: String, count: Int)
    /// Every record of the subscription's topic was invoked exactly once (or at least once).
    /// O(records produced + attempts).
    case delivered(subscription: String, exactlyOnce: Bool)
    /// The kafka.* and restate.subscription.id headers equal each record's coordinates. O(attempts).
    case headersMatchRecords(subscription: String)
    /// After its deletion: group empty, nothing produced later invoked, everything earlier completed.
    /// O(attempts).
    case deletionHonoured(subscription: String)
    /// This many completed attempts (exactly, at most or at least). O(1) once observations are gathered.
    case invocationCount(subscription: String, count: Int, bound: CountBound = .exactly)
    /// Per record key, the output of the key's last completed invocation (the handler's final
    /// answer, e.g. a counter's total); keys not listed are not checked. O(attempts + keys
    /// listed × log).
    case finalOutputs(subscription: String, outputs: [String: String])
    /// The consumer group exists with these members (checked after the steps, before shutdown).
    /// O(members).
    case consumerGroup(ConsumerGroupExpectation)
    /// Per partition, invocations started in offset order (each record at its first start).
    /// O(n log n).
    case orderedPerPartition(subscription: String)
    /// Every completed invocation carries (or lacks) these headers. O(attempts × rules).
    case headers(subscription: String, rules: [HeaderRule])
    /// Records that must never start: those of `produce` steps with this label, or (with no
    /// label) those at or beyond the group's committed offset once a delete had left the group.
    /// O(attempts).
    case neverInvoked(subscription: String, label: String?)
    /// The group's committed offset per partition after the steps: as the records consumed
    /// (`nil` offsets: past the last consumable record the scenario wrote, as a consumer that
    /// read everything commits), or these offsets. O(partitions).
    case committedOffsets(subscription: String, offsets: [Int32: Int64]?)
    /// Every invocation ran on the object key this template renders for its record (e.g.
    /// `{key}`; a null-keyed record's key is the ingress's choice, which this pins down). O(attempts).
    case objectKey(subscription: String, template: String)
    /// A Prometheus series at the ingress's `/metrics` reaches this value (checked after the steps).
    case metric(MetricExpectation)
}

/// How `invocation_count` compares.
public enum CountBound: String, Sendable, Equatable {
    case exactly, atMost = "at_most", atLeast = "at_least"
}

/// One header rule of a `headers` expectation.
public struct HeaderRule: Sendable, Equatable {
    public enum Condition: Sendable, Equatable {
        case present
        case absent
        /// Equal to a template of the record: `{key}`, `{key_base64}` (URL-safe base64, as Restate
        /// sends keys), `{topic}`, `{partition}`, `{offset}`, `{timestamp}`, `{value}`, `{header.NAME}`.
        case equals(String)
    }

    public var name: String
    public var condition: Condition

    public init(_ name: String, _ condition: Condition) {
        self.name = name
        self.condition = condition
    }
}

/// A Prometheus sample the ingress must expose at `/metrics` once the steps have run.
public struct MetricExpectation: Sendable, Hashable {
    public var name: String
    /// Labels the series must carry (others may be present too).
    public var labels: [String: String]
    public var value: Double
    public var bound: CountBound

    public init(name: String, labels: [String: String] = [:], value: Double, bound: CountBound = .exactly) {
        self.name = name
        self.labels = labels
        self.value = value
        self.bound = bound
    }
}

/// What a consumer group must look like: proves options such as `group.id` and `client.id`
/// reached librdkafka, and that the defaults are Restate's.
public struct ConsumerGroupExpectation: Sendable, Hashable {
    /// The group, by name; or, when nil, the group the ingress uses by default for `subscription`
    /// (its subscription id).
    public var group: String?
    public var subscription: String?
    public var members: Int?
    public var clientID: String?
    /// With `group`: the cluster (nil: the default one). With `subscription`: the subscription's.
    public var cluster: String?

    public init(group: String? = nil, subscription: String? = nil, members: Int? = nil, clientID: String? = nil, cluster: String? = nil) {
        self.group = group
        self.cluster = cluster
        self.subscription = subscription
        self.members = members
        self.clientID = clientID
    }
}

