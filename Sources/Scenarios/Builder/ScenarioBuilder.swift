import KafkaProtocol

/// The Swift way to write a scenario: the same model as a YAML file, with each step and
/// expectation located at the Swift line that wrote it (so a failure points there).
///
/// ```swift
/// let scenario = Scenario("per-key order") {
///     Topic("orders", partitions: 4)
///     Service("Counter", .object) { Handler("add", latencyMs: 2) }
///     Subscribe("counter", topic: "orders", sink: "Counter/add")
///     Produce(topic: "orders", count: 100, key: "k-{i % 10}")
///     Wait(invocations: 100, subscription: "counter")
///     Expect.orderedPerKey("counter")
/// }
/// ```
@resultBuilder
public enum ScenarioBuilder {
    public static func buildExpression(_ component: any ScenarioComponent) -> [any ScenarioComponent] { [component] }
    public static func buildBlock(_ parts: [any ScenarioComponent]...) -> [any ScenarioComponent] { parts.flatMap { $0 } }
    public static func buildArray(_ parts: [[any ScenarioComponent]]) -> [any ScenarioComponent] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any ScenarioComponent]?) -> [any ScenarioComponent] { part ?? [] }
    public static func buildEither(first: [any ScenarioComponent]) -> [any ScenarioComponent] { first }
    public static func buildEither(second: [any ScenarioComponent]) -> [any ScenarioComponent] { second }
}

/// Anything that can appear in a scenario body.
public protocol ScenarioComponent: Sendable {
    func apply(to scenario: inout Scenario)
}

extension Scenario {
    public init(_ name: String, cluster: ClusterSpec = ClusterSpec(), filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column,
                @ScenarioBuilder _ body: () -> [any ScenarioComponent]) {
        self.init(name: name, cluster: cluster, source: SourceLocation(file: "\(filePath)", line: Int(line), column: Int(column)))
        for component in body() { component.apply(to: &self) }
    }
}

/// A further Kafka cluster (the scenario's `cluster:` is the default one).
public struct Cluster: ScenarioComponent {
    let spec: ClusterSpec
    public init(_ name: String, brokers: Int = 1, partitions: Int32 = 4) { spec = ClusterSpec(name: name, brokers: brokers, partitions: partitions) }
    public func apply(to scenario: inout Scenario) { scenario.additionalClusters.append(spec) }
}

public struct Topic: ScenarioComponent {
    let spec: TopicSpec
    public init(_ name: String, partitions: Int32? = nil, cluster: String? = nil) { spec = TopicSpec(name: name, partitions: partitions, cluster: cluster) }
    public func apply(to scenario: inout Scenario) { scenario.topics.append(spec) }
}

public struct Handler: Sendable {
    let spec: ServiceSpec.Handler
    public init(_ name: String, _ kind: ServiceSpec.Handler.Kind? = nil, latencyMs: Int = 0, failFirstAttempts: Int = 0) {
        spec = .init(name: name, kind: kind, latencyMs: latencyMs, failFirstAttempts: failFirstAttempts)
    }
}

@resultBuilder
public enum HandlerBuilder {
    public static func buildBlock(_ handlers: Handler...) -> [Handler] { handlers }
}

public struct Service: ScenarioComponent {
    let spec: ServiceSpec
    public init(_ name: String, _ kind: ServiceSpec.Kind, @HandlerBuilder handlers: () -> [Handler]) {
        spec = ServiceSpec(name: name, kind: kind, handlers: handlers().map(\.spec))
    }
    public func apply(to scenario: inout Scenario) { scenario.services.append(spec) }
}

public struct Subscribe: ScenarioComponent {
    let spec: SubscriptionSpec
    public init(_ name: String, topic: String, sink: String, options: [String: String] = [:], cluster: String? = nil) {
        spec = SubscriptionSpec(name: name, topic: topic, sink: sink, options: options, cluster: cluster)
    }
    public func apply(to scenario: inout Scenario) { scenario.subscriptions.append(spec) }
}

/// Steps, each located where it was written.
public struct Produce: ScenarioComponent {
    let step: Located<Step>
    /// `value: nil` writes tombstones; `timestamp: -1` records without a timestamp. See
    /// `ProduceStep` for `via`, `expectError`, `eventually` and `label`.
    public init(topic: String, count: Int = 1, key: String? = nil, value: String? = "{i}", headers: [String: String] = [:],
                partition: Int32? = nil, compression: CompressionCodec = .none, timestamp: Int64? = nil, cluster: String? = nil,
                transaction: TransactionOutcome? = nil, via: ProduceVia = .producer, expectError: String? = nil, eventually: Bool = false,
                label: String? = nil, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        var p = ProduceStep(topic: topic, count: count, key: key, value: value, headers: headers, partition: partition, compression: compression)
        p.timestamp = timestamp
        p.cluster = cluster
        p.transaction = transaction
        p.via = via
        p.expectError = expectError
        p.eventually = eventually
        p.label = label
        step = located(.produce(p), filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

public struct Wait: ScenarioComponent {
    let step: Located<Step>
    public init(invocations: Int, subscription: String? = nil, timeoutMs: Int = 60_000,
                filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.waitForInvocations(count: invocations, subscription: subscription, timeoutMs: timeoutMs), filePath, line, column)
    }
    /// `wait: {group_members: N, subscription: S}`.
    public init(groupMembers: Int, subscription: String, timeoutMs: Int = 60_000,
                filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.waitForGroupMembers(count: groupMembers, subscription: subscription, timeoutMs: timeoutMs), filePath, line, column)
    }
    /// `wait: {committed: S}`.
    public init(committed subscription: String, timeoutMs: Int = 60_000,
                filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.waitForCommitted(subscription: subscription, timeoutMs: timeoutMs), filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

/// Creates a declared subscription at this point instead of before the first step.
public struct StartSubscription: ScenarioComponent {
    let step: Located<Step>
    public init(_ subscription: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.subscribe(subscription), filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

/// A FakeKafka control, e.g. `KafkaFault(.inject(InjectedFault(api: .fetch, action: .error(.notLeaderOrFollower))))`.
public struct KafkaFault: ScenarioComponent {
    let step: Located<Step>
    public init(_ fault: FaultStep, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.fault(fault), filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

public struct Delete: ScenarioComponent {
    let step: Located<Step>
    public init(_ subscription: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.deleteSubscription(subscription), filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

public struct RestartIngress: ScenarioComponent {
    let step: Located<Step>
    public init(filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.restartIngress, filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

/// `restart: {ingress: kill}`: a crash and a start on the same journal.
public struct KillIngress: ScenarioComponent {
    let step: Located<Step>
    public init(filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.killIngress, filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

/// `admin:`: a request to the ingress's admin API and the answer it must give.
public struct Admin: ScenarioComponent {
    let step: Located<Step>
    public init(_ method: String, _ path: String, body: String? = nil, status: Int? = nil, expect: String? = nil,
                filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        step = located(.admin(AdminStep(method: method, path: path, body: body, status: status, expectBody: expect)), filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}

func located<T>(_ value: T, _ filePath: StaticString, _ line: UInt, _ column: UInt) -> Located<T> {
    Located(value, at: SourceLocation(file: "\(filePath)", line: Int(line), column: Int(column)))
}

/// An expectation, located where it was written.
public struct Expect: ScenarioComponent {
    let expectation: Located<Expectation>
    init(_ e: Expectation, _ filePath: StaticString, _ line: UInt, _ column: UInt) {
        expectation = located(e, filePath, line, column)
    }
    public func apply(to scenario: inout Scenario) { scenario.expectations.append(expectation) }

    public static func orderedPerKey(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.orderedPerKey(subscription: s), filePath, line, column)
    }
    public static func noOverlapPerKey(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.noOverlapPerKey(subscription: s), filePath, line, column)
    }
    public static func parallelism(atLeast n: Int, _ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.parallelismAtLeast(subscription: s, count: n), filePath, line, column)
    }
    public static func exactlyOnce(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.delivered(subscription: s, exactlyOnce: true), filePath, line, column)
    }
    public static func atLeastOnce(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.delivered(subscription: s, exactlyOnce: false), filePath, line, column)
    }
    public static func headersMatchRecords(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.headersMatchRecords(subscription: s), filePath, line, column)
    }
    public static func deletionHonoured(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.deletionHonoured(subscription: s), filePath, line, column)
    }
    public static func finalOutputs(_ outputs: [String: String], _ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.finalOutputs(subscription: s, outputs: outputs), filePath, line, column)
    }
    public static func consumerGroup(_ e: ConsumerGroupExpectation, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.consumerGroup(e), filePath, line, column)
    }
    public static func invocationCount(_ n: Int, _ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.invocationCount(subscription: s, count: n), filePath, line, column)
    }
    public static func invocationCount(atMost n: Int, _ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.invocationCount(subscription: s, count: n, bound: .atMost), filePath, line, column)
    }
    public static func invocationCount(atLeast n: Int, _ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.invocationCount(subscription: s, count: n, bound: .atLeast), filePath, line, column)
    }
    public static func orderedPerPartition(_ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.orderedPerPartition(subscription: s), filePath, line, column)
    }
    /// `rules`: header name → `.present`, `.absent` or `.equals("{key}")`.
    public static func headers(_ rules: KeyValuePairs<String, HeaderRule.Condition>, _ s: String,
                               filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.headers(subscription: s, rules: rules.map { HeaderRule($0.key, $0.value) }), filePath, line, column)
    }
    /// Records of the `Produce` steps labelled `label` never start; with no label, nothing at or
    /// beyond what the group committed when the subscription was deleted.
    public static func neverInvoked(_ s: String, label: String? = nil, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.neverInvoked(subscription: s, label: label), filePath, line, column)
    }
    /// nil `offsets`: past the last record the subscription could consume.
    public static func committedOffsets(_ s: String, _ offsets: [Int32: Int64]? = nil, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.committedOffsets(subscription: s, offsets: offsets), filePath, line, column)
    }
    public static func objectKey(_ template: String, _ s: String, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.objectKey(subscription: s, template: template), filePath, line, column)
    }
    public static func metric(_ m: MetricExpectation, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Expect {
        Expect(.metric(m), filePath, line, column)
    }
}
