import Scenarios
import ScenarioRunner
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
