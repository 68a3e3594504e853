import PlantedDefects
import Scenarios
import ScenarioRunner
import FakeKafka
import Foundation
import KafkaProtocol

/// FakeKafka in this process, one cluster per cluster the scenario declares.
public struct FakeKafkaProvider: KafkaTargetProvider {
    /// The default cluster's first broker listens here (0: any free port).
    public var brokerPort: Int
    /// Broker defects every cluster of the run exhibits: only for proving scenarios catch them.
    public var defects: Set<PlantedDefect>

    public init(brokerPort: Int = 0, defects: Set<PlantedDefect> = []) {
        self.brokerPort = brokerPort
        self.defects = defects
    }

    public var capabilities: KafkaCapabilities { [.faults, .addPartitions, .saslUsers, .generatedTLS, .multipleClusters, .directAppend, .plantedDefects] }

    public func planting(_ defects: Set<PlantedDefect>) -> (any KafkaTargetProvider)? {
        var planted = self
        planted.defects = defects
        return planted
    }
    public var name: String { "FakeKafka" }

    public func start(_ scenario: Scenario, listenHost: String, advertisedHost: String) async throws -> [String: any KafkaTarget] {
        var started: [String: any KafkaTarget] = [:]
        do {
            for spec in scenario.clusters {
                started[spec.name] = try await FakeKafkaTarget.start(spec, of: scenario, port: spec.name == scenario.cluster.name ? brokerPort : 0,
                                                                     listenHost: listenHost, advertisedHost: advertisedHost, defects: defects)
            }
        } catch {
            for cluster in started.values { await cluster.shutdown() }
            throw error
        }
        return started
    }
}

extension KafkaTargetProvider where Self == FakeKafkaProvider {
    /// FakeKafka in this process; the default cluster's first broker on `brokerPort` (0: any free
    /// port); `defects`: broker defects planted in every cluster.
    public static func fake(brokerPort: Int = 0, defects: Set<PlantedDefect> = []) -> FakeKafkaProvider {
        FakeKafkaProvider(brokerPort: brokerPort, defects: defects)
    }
}

/// One FakeKafka cluster: records can be appended directly, faults use its controls.
final class FakeKafkaTarget: KafkaTarget {
    var authenticationFailures: [String] { cluster.authenticationFailures }
    var tlsHandshakeFailures: [String] { cluster.tlsHandshakeFailures }
    var tokenEndpointRefusals: [String] { cluster.tokenEndpointRefusals }
    var oauthTokenEndpoint: String? { cluster.oauthTokenEndpoint }

    let cluster: FakeKafkaCluster
    /// The cluster's CA certificate as a file, when its listeners use TLS.
    let certificateAuthorityFile: String?
    private let certificateDirectory: String?

    private init(_ cluster: FakeKafkaCluster, certificateAuthorityFile: String?, certificateDirectory: String?) {
        self.cluster = cluster
        self.certificateAuthorityFile = certificateAuthorityFile
        self.certificateDirectory = certificateDirectory
    }

    static func start(_ spec: ClusterSpec, of scenario: Scenario, port: Int, listenHost: String, advertisedHost: String,
                      defects: Set<PlantedDefect>) async throws -> FakeKafkaTarget {
        var config = FakeKafkaCluster.Configuration(brokers: spec.brokers, defaultPartitions: spec.partitions)
        config.logger.logLevel = ScenarioLog.level ?? .critical
        config.plantedDefects = defects
        config.host = listenHost
        config.advertisedHost = advertisedHost
        config.faultRandomness = scenario.seed.map { SeededGenerator(seed: $0) }
        config.sasl = spec.sasl.map { sasl in
            SASLConfiguration(mechanisms: sasl.mechanisms.compactMap(SASLConfiguration.Mechanism.init(rawValue:)), users: sasl.users,
                              oauthBearer: OAuthBearerSettings(requiredScope: sasl.requiredScope))
        }
        var caFile: String?, directory: String?
        if spec.effectiveSecurityProtocol.usesTLS {
            let tls = try TLSSettings()
            let folder = NSTemporaryDirectory() + "scenario-tls-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let file = folder + "/\(spec.name)-ca.pem"
            try tls.authority.certificatePEM.write(toFile: file, atomically: true, encoding: .utf8)
            config.tls = tls
            (caFile, directory) = (file, folder)
        }
        if port != 0 {
            // The ingress is configured with the first broker only; it learns the others.
            config.port = port
            config.laterBrokerPorts = .any
        }
        return FakeKafkaTarget(try await FakeKafkaCluster.start(config), certificateAuthorityFile: caFile, certificateDirectory: directory)
    }

    var bootstrapServers: String { cluster.bootstrapServers }

    func createTopic(_ name: String, partitions: Int32?, configs: [String: String]) async throws {
        try cluster.createTopic(name, partitions: partitions, configs: configs)
    }

    func partitions(of topic: String) async throws -> Int32? { cluster.topics[topic] }
    func addPartitions(to topic: String, total: Int32) async throws { try cluster.addPartitions(to: topic, total: total) }

    func append(_ records: [RecordToProduce], topic: String, partition: Int32, compression: CompressionCodec) async throws -> [Int64] {
        let base = try cluster.append(records.map { r in
            KafkaRecord(timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers.map { KafkaRecordHeader(key: $0.0, value: $0.1) })
        }, to: TopicPartition(topic, partition), compression: compression)
        return records.indices.map { base + Int64($0) }
    }

    func group(_ id: String) async throws -> GroupSnapshot? {
        cluster.group(id).map { g in
            GroupSnapshot(members: g.members.map { .init(clientID: $0.clientId, assignedPartitions: $0.assignment?.count ?? 0) },
                          generation: g.generation, stable: g.state == .stable)
        }
    }

    func committedOffsets(group: String, topic: String) async throws -> [Int32: Int64] {
        var offsets: [Int32: Int64] = [:]
        for (tp, committed) in cluster.committedOffsets(group: group) where tp.topic == topic { offsets[tp.partition] = committed.offset }
        return offsets
    }

    func apply(_ fault: FaultStep, groupOf subscription: (String) -> String) async throws -> (@Sendable () -> Int)? {
        guard let id = try await fault.apply(to: cluster, groupOf: subscription) else { return nil }
        let cluster = self.cluster
        return { cluster.timesFired(id) }
    }

    func shutdown() async {
        try? await cluster.shutdown()
        if let certificateDirectory { try? FileManager.default.removeItem(atPath: certificateDirectory) }
    }
}

extension ScenarioTarget {
    /// An external ingress fed by FakeKafka, which listens on `brokerPort` and is reached at
    /// `advertisedHost` (as the ingress's configuration names it).
    public static func remote(adminURL: String, kafkaCluster: String, advertisedHost: String, brokerPort: Int, ingressURL: String? = nil) -> ScenarioTarget {
        ScenarioTarget(kafka: .fake(brokerPort: brokerPort),
                       ingress: .remote(adminURL: adminURL, kafkaCluster: kafkaCluster, advertisedHost: advertisedHost, ingressURL: ingressURL))
    }
}
