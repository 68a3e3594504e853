import Scenarios
import FakeKafka
import KafkaProtocol
import NIOCore

extension FaultStep {
    /// Applies the fault to a FakeKafka cluster. `groupOf` gives a subscription's consumer group.
    /// `onCluster` is resolved by the runner, which picks the cluster first. For an injected
    /// fault, returns its id, so the runner can tell whether it ever acted.
    @discardableResult
    func apply(to cluster: FakeKafkaCluster, groupOf: (String) -> String) async throws -> FaultID? {
        switch self {
        case .moveLeader(let topic, let partition, let broker):
            try cluster.moveLeader(of: TopicPartition(topic, partition), to: broker)
        case .rebalance(let subscription):
            try cluster.forceRebalance(of: groupOf(subscription))
        case .stopBroker(let id):
            try await cluster.stopBroker(id)
        case .startBroker(let id):
            try await cluster.startBroker(id)
        case .inject(let fault):
            return cluster.inject(fault.fakeKafkaFault)
        case .clearFaults:
            cluster.removeAllFaults()
        case .dropConnections(let broker):
            cluster.dropConnections(broker: broker)
        case .moveCoordinator(let subscription, let broker):
            try cluster.moveCoordinator(of: groupOf(subscription), to: broker)
        case .capVersion(let api, let max):
            cluster.capVersion(api, at: max)
        case .onCluster(_, let fault):
            return try await fault.apply(to: cluster, groupOf: groupOf)
        }
        return nil
    }
}

extension InjectedFault {
    /// How many requests it must act on for the scenario to have tested what it says.
    var expectedFirings: Int {
        if case .times(let n) = frequency { return n }
        return 1
    }

    /// For messages: "Fetch answered NOT_LEADER_OR_FOLLOWER on events/0 (3 times)".
    var summary: String {
        let what = switch action {
        case .error(let code): "answered \(code.name)"
        case .delayMs(let ms): "delayed \(ms) ms"
        case .disconnect: "disconnected"
        case .dropResponse: "lost its answer"
        }
        let scope = [topic.flatMap { t in partition.map { " on \(t)/\($0)" } }, broker.map { " at broker \($0)" }].compactMap { $0 }.joined()
        let how = switch frequency {
        case .times(let n): n == 1 ? "once" : "\(n) times"
        case .always: "always"
        case .probability(let p): "with probability \(p)"
        }
        return "\(api) \(what)\(scope) (\(how))"
    }

    var fakeKafkaFault: Fault {
        let action: Fault.Action = switch action {
        case .error(let code): .error(code)
        case .delayMs(let ms): .delay(.milliseconds(Int64(ms)))
        case .disconnect: .disconnect
        case .dropResponse: .dropResponse
        }
        let frequency: Fault.Frequency = switch frequency {
        case .times(let n): .times(n)
        case .always: .always
        case .probability(let p): .probability(p)
        }
        var only: TopicPartition?
        if let topic, let partition { only = TopicPartition(topic, partition) }
        return Fault(apiKey: api, action: action, frequency: frequency, topicPartition: only, broker: broker)
    }
}
