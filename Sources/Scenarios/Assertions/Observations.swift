import Recorder
import RestateProtocol

/// A record the scenario produced, and when.
public struct ProducedRecord: Sendable, Equatable {
    public var index: Int
    /// The scenario's name for the cluster.
    public var cluster: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The key as text (lossy when the bytes are not UTF-8), and as bytes.
    public var key: String?
    public var keyBytes: [UInt8]?
    /// nil: a null value (a tombstone).
    public var value: String?
    /// Epoch milliseconds as the broker stored it (a LogAppendTime topic's own); -1: none.
    public var timestamp: Int64
    /// Subscriptions (by scenario name) already deleted when this record was produced.
    public var producedAfterDeleting: Set<String>
    /// Written by a transaction that aborted: not due to any subscription (a read_uncommitted
    /// one may still invoke it).
    public var aborted = false
    /// Written by a transaction still open at the end: not due to a read_committed subscription,
    /// nor is anything after it on its partition.
    public var inOpenTransaction = false
    /// Headers it was produced with.
    public var headers: [String: String] = [:]
    /// Its `produce` step's label, if the step has one.
    public var label: String?

    public init(index: Int, cluster: String, topic: String, partition: Int32, offset: Int64, key: String?, keyBytes: [UInt8]?, value: String?, timestamp: Int64, producedAfterDeleting: Set<String>) {
        self.index = index
        self.cluster = cluster
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.keyBytes = keyBytes
        self.value = value
        self.timestamp = timestamp
        self.producedAfterDeleting = producedAfterDeleting
    }
}

/// Everything the assertions look at once the steps have run. What the completed runs are
/// resolved from is constant, so they cannot go stale.
public struct Observations: Sendable {
    public let produced: [ProducedRecord]
    /// Every attempt the recorder saw (completed and failed).
    public let attempts: [RecordedInvocation]
    /// Scenario subscription name → the id the ingress gave it.
    public let subscriptionIDs: [String: Set<String>]
    /// Scenario subscription name → its cluster and topic.
    public let subscriptionTopics: [String: TopicOnCluster]
    /// Subscriptions whose sink is a workflow's run handler: one run per workflow id (key).
    public var workflowRuns: Set<String> = []
    /// Group members left after a deletion, per deleted subscription.
    public var groupMembersAfterDelete: [String: Int]
    /// Invocations journaled before a subscription was deleted and not completed at the end.
    public var unfinishedAfterDelete: [String: Int]
    /// The groups `consumer_group` expectations name, as they were after the steps (nil: no such group).
    var consumerGroups: [ConsumerGroupExpectation: GroupSnapshot?]
    /// Injected faults that acted less often than written (reported as failures at their steps).
    public var unfiredFaults: [ExpectationFailure]
    /// The scenario's subscriptions by name, and its default cluster's name.
    public var subscriptionSpecs: [String: SubscriptionSpec] = [:]
    public var defaultCluster = ClusterSpec.defaultName
    /// Each group's committed offsets per partition, after the steps (for subscriptions that
    /// `committed_offsets` names) and once a deleted subscription's consumer had left.
    public var committedAfterSteps: [String: [Int32: Int64]] = [:]
    public var committedAfterDelete: [String: [Int32: Int64]] = [:]
    /// The ingress's `/metrics` text after the steps, when an expectation reads it.
    public var metricsText: String?
    /// When each step acted (the report draws them on the timeline).
    public var steps: [StepRecord] = []
    /// Produced records by where they were written, built once.
    private let producedIndex: [RecordAddress: ProducedRecord]
    /// Which cluster an invocation's record came from, by the subscription id in its headers.
    private let clusterOfSubscriptionID: [String: String]
    /// The completed attempts of each subscription (by scenario name), each with its record,
    /// resolved once: every assertion walks them, and resolving means parsing headers.
    private let completedRunsBySubscription: [String: [Run]]

    /// A completed attempt and the produced record it came from (nil when its headers name none).
    public struct Run: Sendable {
        public var invocation: RecordedInvocation
        public var record: ProducedRecord?
    }

    private struct RecordAddress: Hashable {
        var cluster: String
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    public init(produced: [ProducedRecord], attempts: [RecordedInvocation], subscriptionIDs: [String: Set<String>], subscriptionTopics: [String: TopicOnCluster],
         groupMembersAfterDelete: [String: Int], unfinishedAfterDelete: [String: Int],
         consumerGroups: [ConsumerGroupExpectation: GroupSnapshot?], unfiredFaults: [ExpectationFailure]) {
        self.produced = produced
        self.attempts = attempts
        self.subscriptionIDs = subscriptionIDs
        self.subscriptionTopics = subscriptionTopics
        self.consumerGroups = consumerGroups
        self.unfiredFaults = unfiredFaults
        self.groupMembersAfterDelete = groupMembersAfterDelete
        self.unfinishedAfterDelete = unfinishedAfterDelete
        clusterOfSubscriptionID = subscriptionIDs.reduce(into: [:]) { all, entry in
            for id in entry.value { all[id] = subscriptionTopics[entry.key]?.cluster }
        }
        let producedIndex = Dictionary(produced.map { (RecordAddress(cluster: $0.cluster, topic: $0.topic, partition: $0.partition, offset: $0.offset), $0) },
                                       uniquingKeysWith: { a, _ in a })
        self.producedIndex = producedIndex
        let clusterOfSubscriptionID = self.clusterOfSubscriptionID
        var subscriptionsOfID: [String: [String]] = [:]
        for (name, ids) in subscriptionIDs { for id in ids { subscriptionsOfID[id, default: []].append(name) } }
        var runs: [String: [Run]] = [:]
        for attempt in attempts where attempt.outcome == .completed {
            let id = attempt.headers[KafkaIngressHeader.subscriptionID] ?? ""
            guard let names = subscriptionsOfID[id] else { continue }
            let run = Run(invocation: attempt, record: Self.record(of: attempt, clusterOfSubscriptionID, producedIndex))
            for name in names { runs[name, default: []].append(run) }
        }
        completedRunsBySubscription = runs
    }

    /// Completed attempts of one subscription, with their records, in the order they ended. O(1).
    public func completedRuns(_ subscription: String) -> [Run] {
        completedRunsBySubscription[subscription] ?? []
    }

    /// Every attempt of one subscription (completed, failed or suspended), with its record. O(attempts).
    func attempts(of subscription: String) -> [Run] {
        let ids = subscriptionIDs[subscription] ?? []
        return attempts.filter { ids.contains($0.headers[KafkaIngressHeader.subscriptionID] ?? "") }.map { Run(invocation: $0, record: record(of: $0)) }
    }

    /// Completed attempts of one subscription.
    func completed(_ subscription: String) -> [RecordedInvocation] {
        completedRuns(subscription).map(\.invocation)
    }

    /// The produced record an invocation came from.
    func record(of invocation: RecordedInvocation) -> ProducedRecord? {
        Self.record(of: invocation, clusterOfSubscriptionID, producedIndex)
    }

    private static func record(of invocation: RecordedInvocation, _ clusterOfSubscriptionID: [String: String],
                               _ producedIndex: [RecordAddress: ProducedRecord]) -> ProducedRecord? {
        let h = invocation.headers
        guard let topic = h[KafkaIngressHeader.topic], let p = h[KafkaIngressHeader.partition].flatMap(Int32.init), let o = h[KafkaIngressHeader.offset].flatMap(Int64.init),
              let cluster = clusterOfSubscriptionID[h[KafkaIngressHeader.subscriptionID] ?? ""] else { return nil }
        return producedIndex[RecordAddress(cluster: cluster, topic: topic, partition: p, offset: o)]
    }
}

/// A topic of one of the scenario's clusters.
public struct TopicOnCluster: Sendable, Equatable {
    public var cluster: String
    public var topic: String

    public init(cluster: String, topic: String) {
        self.cluster = cluster
        self.topic = topic
    }
}

/// A consumer group's members as the runner's checks need them.
public struct GroupSnapshot: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var clientID: String
        public var assignedPartitions: Int

        public init(clientID: String, assignedPartitions: Int) {
            self.clientID = clientID
            self.assignedPartitions = assignedPartitions
        }
    }

    public var members: [Member]
    /// The group's generation, and whether it is stable (FakeKafka only: a rebalance fault waits
    /// for a new stable generation).
    public var generation: Int32?
    public var stable: Bool

    public init(members: [Member], generation: Int32? = nil, stable: Bool = true) {
        self.members = members
        self.generation = generation
        self.stable = stable
    }
}
