import Foundation

/// When a step of a run acted, for the report's timeline: every step is a labelled line there,
/// a wait a band up to when it ended, with its deadline; a fault says how often it acted.
public struct StepRecord: Sendable, Equatable {
    /// The step's position in the scenario (explorations insert steps: see `explored`).
    public var index: Int
    public var location: SourceLocation
    public var label: String
    /// A FakeKafka control (fault, rebalance, broker stop …) rather than a producer or a wait.
    public var isFault: Bool
    /// Inserted by an exploration.
    public var explored: Bool
    /// Epoch microseconds, as the recorder's attempts.
    public var start: Int64
    public var end: Int64
    /// For a wait: when it would have given up.
    public var deadline: Int64?
    /// For an injected fault: how many requests it acted on by the end of the run.
    public var fired: Int?

    public init(index: Int, step: Step, location: SourceLocation, explored: Bool, start: Int64, end: Int64) {
        self.index = index
        self.location = location
        self.label = step.label
        self.explored = explored
        self.start = start
        self.end = end
        if case .fault = step { isFault = true } else { isFault = false }
        switch step {
        case .waitForInvocations(_, _, let timeoutMs), .waitForGroupMembers(_, _, let timeoutMs), .waitForCommitted(_, let timeoutMs):
            deadline = start + Int64(timeoutMs) * 1_000
        default:
            deadline = nil
        }
    }

    public static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
}

extension Step {
    /// A short name for the step as the file would write it (`produce 200 → orders`).
    public var label: String {
        switch self {
        case .produce(let p): return "produce \(p.count) → \(p.topic)" + (p.transaction.map { " (\($0.rawValue))" } ?? "")
        case .waitForInvocations(let count, let subscription, _): return "wait \(count) invocations" + (subscription.map { " of \($0)" } ?? "")
        case .waitForGroupMembers(let count, let subscription, _): return "wait \(count) members of \(subscription)"
        case .waitForCommitted(let subscription, _): return "wait committed \(subscription)"
        case .subscribe(let name): return "subscribe \(name)"
        case .deleteSubscription(let name): return "delete \(name)"
        case .restartIngress: return "restart ingress"
        case .ingressInstances(let count): return "instances: \(count)"
        case .addPartitions(let topic, let count, _): return "add partitions \(topic) → \(count)"
        case .fault(let fault): return fault.label
        case .sleep(let ms): return "sleep \(ms) ms"
        default: return Self.caseName(self)
        }
    }

    /// The case's name in snake_case, for steps without a label of their own.
    static func caseName(_ step: Step) -> String {
        let name = String(describing: step).prefix { $0 != "(" }
        return name.reduce(into: "") { out, c in out += c.isUppercase ? "_" + c.lowercased() : String(c) }
    }
}

extension FaultStep {
    var label: String {
        switch self {
        case .moveLeader(let topic, let partition, let broker): "move leader \(topic)/\(partition) → broker \(broker)"
        case .rebalance(let subscription): "rebalance \(subscription)"
        case .stopBroker(let id): "stop broker \(id)"
        case .startBroker(let id): "start broker \(id)"
        case .inject: "inject \(yaml)"
        case .clearFaults: "clear faults"
        case .dropConnections(let broker): "drop connections" + (broker.map { " of broker \($0)" } ?? "")
        case .moveCoordinator(let subscription, let broker): "move coordinator of \(subscription) → broker \(broker)"
        case .capVersion(let api, let max): "cap \(api) at " + (max.map(String.init) ?? "full range")
        case .onCluster(let cluster, let inner): "\(cluster): \(inner.label)"
        }
    }
}
