import KafkaProtocol

/// Dynamic broker configs, as Kafka keeps them: overrides per broker id, and cluster-wide ones
/// under the empty name. They are stored and described, not acted on (a broker config of
/// FakeKafka's own, like `num.partitions`, comes from its configuration and is not dynamic).
enum BrokerConfigs {
    /// The settings the cluster really has, which Kafka does not update dynamically either.
    static let staticNames: Set<String> = ["auto.create.topics.enable", "broker.id", "default.replication.factor", "num.partitions"]

    /// Why `name` cannot be changed on a running broker, in Kafka's words, or nil.
    static func problem(names: [String]) -> (KafkaErrorCode, String)? {
        let refused = names.filter(staticNames.contains)
        guard refused.isEmpty else { return (.invalidRequest, "Cannot update these configs dynamically: \(refused.sorted().joined(separator: ", "))") }
        return nil
    }
}

extension ClusterState {
    /// Checks a broker resource name: a broker's id, or empty for the cluster-wide defaults.
    func brokerResourceProblem(_ name: String) -> (KafkaErrorCode, String)? {
        guard name.isEmpty || brokers.contains(where: { String($0.id) == name }) else {
            return (.invalidRequest, "Unexpected broker id '\(name)': the cluster's brokers are \(brokers.map { String($0.id) }.joined(separator: ", ")).")
        }
        return nil
    }

    /// The dynamic overrides a broker resource shows, each with where it comes from: the
    /// broker's own, then the cluster-wide ones it does not override.
    func dynamicBrokerConfigs(_ name: String) -> [(name: String, value: String, source: ConfigSource)] {
        let own = name.isEmpty ? [:] : brokerConfigs[name] ?? [:]
        let defaults = brokerConfigs[""] ?? [:]
        return own.map { ($0.key, $0.value, ConfigSource.dynamicBrokerConfig) }
            + defaults.filter { own[$0.key] == nil }.map { ($0.key, $0.value, ConfigSource.dynamicDefaultBrokerConfig) }
    }
}
