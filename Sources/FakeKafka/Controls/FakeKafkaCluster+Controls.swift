import KafkaProtocol
import NIOCore

/// Controls: ways a test breaks the cluster on purpose, each observed by clients as they would
/// observe the real failure.
extension FakeKafkaCluster {
    /// Injects a fault; requests matching it fail (or wait, or lose their connection).
    @discardableResult
    public func inject(_ fault: Fault) -> FaultID {
        core.withState { state, _ in state.faults.add(fault) }
    }

    public func removeFault(_ id: FaultID) {
        core.withState { state, _ in state.faults.remove(id) }
    }

    public func removeAllFaults() {
        core.withState { state, _ in state.faults.removeAll() }
    }

    /// How many requests an injected fault has acted on so far (also after it was used up or
    /// removed): a test can tell a fault that never fired from one that did.
    public func timesFired(_ id: FaultID) -> Int {
        core.withState { state, _ in state.faults.fired[id] ?? 0 }
    }

    /// Delays every answer to `apiKey` by `amount` until removed.
    @discardableResult
    public func delay(_ apiKey: ApiKey, by amount: TimeAmount, _ frequency: Fault.Frequency = .always) -> FaultID {
        inject(Fault(apiKey: apiKey, action: .delay(amount), frequency: frequency))
    }

    /// Closes client connections: all of them, those to one broker, or those of one client id.
    /// Returns how many were closed.
    @discardableResult
    public func dropConnections(broker: Int32? = nil, clientId: String? = nil) -> Int {
        core.connections.close(broker: broker, clientId: clientId)
    }

    /// Takes a broker down: it stops listening, its connections close, Metadata stops listing it,
    /// and its partitions report no leader until it is back or their leaders move.
    public func stopBroker(_ id: Int32) async throws {
        guard brokers.contains(where: { $0.id == id }) else { throw FakeKafkaError.unknownBroker(id) }
        let channel = listenerTable.withLock { $0.removeValue(forKey: id) }
        try? await channel?.close()
        core.connections.close(broker: id)
        core.withState { state, effects in
            if let i = state.brokers.firstIndex(where: { $0.id == id }) { state.brokers[i].isUp = false }
            for group in state.groups.values where state.coordinator(for: group.id) == id {
                group.abandonParkedRequests(code: .notCoordinator, effects: &effects)
            }
            state.wakeFetchers(for: nil, effects: &effects)
        }
    }

    /// Brings a stopped broker back on the same port.
    public func startBroker(_ id: Int32) async throws {
        guard let info = brokers.first(where: { $0.id == id }) else { throw FakeKafkaError.unknownBroker(id) }
        guard !info.isUp else { return }
        let channel = try await BrokerListener.bind(core: core, broker: id, host: core.configuration.host, port: info.port)
        listenerTable.withLock { $0[id] = channel }
        let losesLastBatch = core.configuration.plantedDefects.contains(.loseLastBatchOnBrokerRestart)
        core.withState { state, _ in
            if let i = state.brokers.firstIndex(where: { $0.id == id }) { state.brokers[i].isUp = true }
            if losesLastBatch { state.loseLastBatches(ledBy: id) }
        }
    }

    /// Moves a partition's leadership to another broker; requests to the old leader get
    /// NOT_LEADER_OR_FOLLOWER, and clients find the new one through Metadata.
    public func moveLeader(of tp: TopicPartition, to broker: Int32) throws {
        try core.withState { state, effects in
            guard state.partition(tp) != nil else { throw FakeKafkaError.unknownPartition(tp) }
            guard state.brokers.contains(where: { $0.id == broker }) else { throw FakeKafkaError.unknownBroker(broker) }
            var log = state.partition(tp)!
            // A leader is always one of the replicas: one from outside takes the old leader's place.
            if !log.replicas.contains(broker), let old = log.replicas.firstIndex(of: log.leader) { log.replicas[old] = broker }
            log.leader = broker
            state.topics[tp.topic]!.partitions[Int(tp.partition)] = log
            state.wakeFetchers(for: tp, effects: &effects)
        }
    }

    /// The broker leading a partition.
    public func leader(of tp: TopicPartition) throws -> Int32 {
        try core.withState { state, _ in
            guard let log = state.partition(tp) else { throw FakeKafkaError.unknownPartition(tp) }
            return log.leader
        }
    }

    /// Moves a group's coordinator to another broker; members get NOT_COORDINATOR and look it up
    /// again (KIP-848 members at their next heartbeat, which then goes to the new coordinator
    /// with their epoch intact).
    public func moveCoordinator(of group: String, to broker: Int32) throws {
        try core.withState { state, effects in
            guard state.brokers.contains(where: { $0.id == broker }) else { throw FakeKafkaError.unknownBroker(broker) }
            state.coordinatorOverrides[group] = broker
            state.groups[group]?.abandonParkedRequests(code: .notCoordinator, effects: &effects)
        }
    }

    /// The broker coordinating a group.
    public func coordinator(of group: String) -> Int32 {
        core.withState { state, _ in state.coordinator(for: group) }
    }

    /// Starts a rebalance of a group now. Classic members rejoin when their next heartbeat says
    /// so. A KIP-848 consumer group gets a new group epoch whose assignment moves every partition
    /// to another member (when there are two or more): each goes through revocation by its owner
    /// before its new owner gets it, at the members' next heartbeats.
    public func forceRebalance(of group: String) throws {
        try core.withState { state, effects in
            if let modern = state.modernGroups[group] {
                modern.forceRebalance(topics: state.topicCatalog)
                return
            }
            guard let g = state.groups[group] else { throw FakeKafkaError.unknownGroup(group) }
            g.forceRebalance(now: .now(), effects: &effects)
        }
    }

    /// Caps the highest version advertised for an API (nil removes the cap). An API capped below
    /// its lowest version is not advertised at all.
    public func capVersion(_ apiKey: ApiKey, at max: Int16?) {
        core.withState { state, _ in state.versionCaps[apiKey] = max }
    }
}
