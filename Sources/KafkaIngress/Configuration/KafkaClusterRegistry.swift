import Foundation

/// A Kafka cluster registered through the admin API (`POST /kafka-clusters`, Restate 1.7): its
/// properties are librdkafka's, brokers included (`bootstrap.servers` or `metadata.broker.list`).
struct RegisteredKafkaCluster: Sendable, Equatable {
    var name: String
    var properties: [String: String]
    /// Epoch milliseconds.
    var createdAt: Int64

    var configuration: KafkaClusterConfiguration {
        KafkaClusterConfiguration(name: name, brokers: [], properties: properties)
    }
}

/// The clusters subscriptions may name: those registered through the admin API, then those of
/// `restate.toml` (deprecated in Restate 1.7, still read), a registered one winning a name both
/// have. The rules and texts of Restate's schema registry.
struct KafkaClusterRegistry: Sendable {
    let configured: [KafkaClusterConfiguration]
    private(set) var registered: [RegisteredKafkaCluster]

    init(configured: [KafkaClusterConfiguration], registered: [RegisteredKafkaCluster]) {
        self.configured = configured
        self.registered = registered
    }

    /// Every cluster, configured ones first (in file order), then registered ones.
    var all: [KafkaClusterConfiguration] {
        configured.filter { c in !registered.contains { $0.name == c.name } } + registered.map(\.configuration)
    }

    func cluster(named name: String) -> KafkaClusterConfiguration? {
        registered.first { $0.name == name }?.configuration ?? configured.first { $0.name == name }
    }

    func isConfigured(_ name: String) -> Bool { configured.contains { $0.name == name } }

    static func checkBrokers(_ name: String, _ properties: [String: String]) throws(KafkaClusterError) {
        guard properties["bootstrap.servers"] != nil || properties["metadata.broker.list"] != nil else { throw .noBrokers(name) }
    }

    mutating func add(_ cluster: RegisteredKafkaCluster) throws(KafkaClusterError) {
        try Self.checkBrokers(cluster.name, cluster.properties)
        if registered.contains(where: { $0.name == cluster.name }) { throw .exists(cluster.name) }
        if isConfigured(cluster.name) { throw .conflictsWithConfiguration(cluster.name) }
        registered.append(cluster)
    }

    /// Replaces the properties (Restate's PATCH does not merge); returns whether they changed.
    mutating func update(_ name: String, properties: [String: String]) throws(KafkaClusterError) -> RegisteredKafkaCluster? {
        try Self.checkBrokers(name, properties)
        guard let index = registered.firstIndex(where: { $0.name == name }) else {
            throw isConfigured(name) ? .configuredInFile(name) : .notFound("kafka cluster '\(name)'")
        }
        guard registered[index].properties != properties else { return nil }
        registered[index].properties = properties
        return registered[index]
    }

    /// `usedBy`: ids of the subscriptions on this cluster, refused unless `force`.
    mutating func remove(_ name: String, usedBy: [String], force: Bool) throws(KafkaClusterError) {
        guard let index = registered.firstIndex(where: { $0.name == name }) else {
            throw isConfigured(name) ? .configuredInFile(name) : .notFound("kafka cluster named '\(name)'")
        }
        if !force, let first = usedBy.first { throw .inUse(name, subscription: first) }
        registered.remove(at: index)
    }

    /// Why a name is not a cluster name (one that `http::uri::Authority` parses), in the http
    /// crate's words; nil when it is one.
    static func nameError(_ name: String) -> String? {
        if name.isEmpty { return "empty string" }
        if name.unicodeScalars.contains(where: { !URICharacters.authority.contains($0) }) { return "invalid uri character" }
        if let colon = name.lastIndex(of: ":"), !name.hasSuffix("]") {
            let port = name[name.index(after: colon)...]
            if !port.isEmpty && (port.count > 5 || UInt16(port) == nil) { return "invalid port" }
        }
        return nil
    }
}

/// Refusals of the cluster registry, with Restate's texts.
enum KafkaClusterError: Error, Equatable, CustomStringConvertible {
    case noBrokers(String)
    case exists(String)
    case conflictsWithConfiguration(String)
    case configuredInFile(String)
    case notFound(String)
    case inUse(String, subscription: String)

    var description: String {
        switch self {
        case .noBrokers(let n): "kafka cluster '\(n)' properties must contain either 'bootstrap.servers' or 'metadata.broker.list'"
        case .exists(let n): "kafka cluster '\(n)' already exists in schema registry"
        case .conflictsWithConfiguration(let n):
            "kafka cluster '\(n)' conflicts with static configuration. Cluster names in schema registry cannot override statically configured clusters."
        case .configuredInFile(let n):
            "kafka cluster '\(n)' cannot be updated, because it was defined in the restate configuration file. Update the configuration file directly, or remove the configuration file"
        case .notFound(let what): "not found in the schema registry: \(what)"
        case .inUse(let n, let sub): "Removing the kafka cluster '\(n)' leads to subscription '\(sub)' being orphan. Remove the subscription first, or use the 'force' flag."
        }
    }

    var status: Int {
        switch self {
        case .noBrokers: 400
        case .notFound: 404
        case .exists, .conflictsWithConfiguration, .configuredInFile, .inUse: 409
        }
    }
}

/// A cluster as the admin API shows it.
public struct KafkaClusterView: Sendable, Equatable {
    public var name: String
    public var properties: [String: String]
    /// Epoch milliseconds; 0 for a cluster of the configuration file.
    public var createdAt: Int64
    /// Notes Restate attaches (a deprecated configuration-file cluster).
    public var info: [String]

    static let fromConfiguration = "This Kafka cluster was configured in the static cluster configuration, this is deprecated. Please register it using the new Kafka Admin functionalities."
    static let shadowsConfiguration = "A Kafka cluster with the same name exists in the static cluster configuration, please remove it from the static configuration as it's deprecated."
}
