import PlantedDefects
import Scenarios
import FakeKafka
import Foundation
import KafkaIngress
import Logging
import Recorder
import RestateProtocol

/// Where a scenario runs: which ingress, and which Kafka.
public struct ScenarioTarget: Sendable, Equatable {
    public enum Ingress: Sendable, Equatable {
        /// Our ingress, in this process.
        case embedded
        /// An external ingress (a real Restate server, `harness ingress`) at this admin URL, whose
        /// configuration names the scenario's Kafka as cluster `kafkaCluster`; it reaches the
        /// recorder (and FakeKafka, when that is the Kafka) at `advertisedHost`.
        case remote(adminURL: String, kafkaCluster: String, advertisedHost: String)
    }

    public enum Kafka: Sendable, Equatable {
        /// FakeKafka in this process; the first broker on `brokerPort` (0: any free port).
        case fake(brokerPort: Int)
        /// A Kafka cluster the harness did not start. Topics get a per-run suffix, since a real
        /// cluster keeps what earlier runs wrote; faults are unavailable.
        case external(bootstrapServers: String)
    }

    public var ingress: Ingress
    public var kafka: Kafka
    /// A remote ingress's HTTP API, for `call` steps; nil: its admin URL's host on port 8080.
    public var ingressURL: String?

    public init(ingress: Ingress, kafka: Kafka) {
        self.ingress = ingress
        self.kafka = kafka
    }

    /// FakeKafka, our ingress and the recorder, all in this process.
    public static let embedded = ScenarioTarget(ingress: .embedded, kafka: .fake(brokerPort: 0))

    /// An external ingress fed by FakeKafka, which listens on `brokerPort` and is reached at `advertisedHost`.
    public static func remote(adminURL: String, kafkaCluster: String, advertisedHost: String, brokerPort: Int) -> ScenarioTarget {
        ScenarioTarget(ingress: .remote(adminURL: adminURL, kafkaCluster: kafkaCluster, advertisedHost: advertisedHost), kafka: .fake(brokerPort: brokerPort))
    }
}

/// What a scenario runs in: the Kafka clusters, the recorder in this process, and the ingress under test.
final class ScenarioEnvironment {
    /// By scenario cluster name.
    let kafka: [String: any KafkaTarget]
    let recorder: InvocationRecorder
    let ingress: any IngressTarget
    /// Services written with a Restate SDK, behind the recorder's pass-through.
    let deployments: RealDeployments
    private let recorderURL: String
    private let recorderServer: Task<Void, Error>
    /// Holds the CA certificates of TLS clusters, for the ingress's `ssl.ca.location`.
    private let certificateDirectory = NSTemporaryDirectory() + "scenario-tls-" + UUID().uuidString

    init(_ scenario: Scenario, target: ScenarioTarget, embedded: EmbeddedIngress.Options) async throws {
        var advertisedHost = "127.0.0.1"
        if case .remote(_, _, let host) = target.ingress { advertisedHost = host }
        // An external ingress may connect from elsewhere: then listen on every interface.
        let listenHost = ["127.0.0.1", "localhost"].contains(advertisedHost) ? "127.0.0.1" : "0.0.0.0"

        let deployments = try await RealDeployments.start(scenario)
        self.deployments = deployments
        do {
            kafka = try await Self.startKafka(scenario, target, listenHost: listenHost, advertisedHost: advertisedHost, certificateDirectory: certificateDirectory,
                                              defects: embedded.defects.filter { $0.component == .broker })
        } catch {
            await deployments.stop()
            throw error
        }
        recorder = InvocationRecorder(configuration: RecorderConfiguration(services: scenario.services.map(\.recorderService)))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = RecorderServer(recorder: recorder, deployments: deployments.upstreams)
        var quiet = Logger(label: "recorder")
        quiet.logLevel = .warning
        recorderServer = Task { [quiet] in try await server.run(host: listenHost, port: 0, logger: quiet) { continuation.yield($0) } }
        var port = 0
        for await p in ports { port = p; break }
        recorderURL = "http://\(advertisedHost):\(port)"
        switch target.ingress {
        case .embedded:
            let configured = Set(scenario.clusters.filter { !$0.registeredAtRuntime }.map(\.name))
            do {
                let clusters = try kafka.filter { configured.contains($0.key) }.map { name, cluster in
                    (name, EmbeddedIngress.Cluster(bootstrapServers: cluster.bootstrapServers,
                                                   properties: try Self.securityProperties(scenario.clusters.first { $0.name == name }, cluster)))
                }
                ingress = try await EmbeddedIngress(clusters: Dictionary(uniqueKeysWithValues: clusters), options: embedded)
            } catch {
                // Nothing started so far may outlive a failed set-up (a deployment is a process).
                recorderServer.cancel()
                await deployments.stop()
                for cluster in kafka.values { await cluster.shutdown() }
                throw error
            }
        case .remote(let adminURL, let kafkaCluster, _):
            // A cluster registered at run time is known to the ingress by the scenario's name for it.
            ingress = RemoteIngress(adminURL: adminURL, clusterNames: [scenario.cluster.name: scenario.cluster.registeredAtRuntime ? scenario.cluster.name : kafkaCluster],
                                    ingressURL: target.ingressURL)
        }
        do {
            for spec in scenario.clusters where spec.registeredAtRuntime {
                guard let cluster = kafka[spec.name] else { continue }
                do {
                    try await ingress.registerKafkaCluster(name: spec.name, bootstrapServers: cluster.bootstrapServers,
                                                           properties: try Self.securityProperties(spec, cluster))
                } catch {
                    throw ScenarioError("registering Kafka cluster '\(spec.name)' through /kafka-clusters: \(error)")
                }
            }
            // The simulated services are one deployment; each real one is another, reached through
            // the recorder so that its attempts are recorded.
            if !scenario.services.isEmpty || scenario.deployments.isEmpty { try await ingress.registerDeployment(url: recorderURL) }
            for name in scenario.deployments.map(\.name) {
                do {
                    try await ingress.registerDeployment(url: "\(recorderURL)/deployments/\(name)")
                } catch {
                    throw ScenarioError("registering deployment '\(name)' (at \(deployments.upstreams[name] ?? "?"), through the recorder): \(error)")
                }
            }
        } catch {
            await shutdown()
            throw error
        }
    }

    /// What a Restate user would write in the cluster's entry of restate.toml to reach it:
    /// `security.protocol`, the CA to trust, and the ingress's own SASL credentials if it has any.
    static func securityProperties(_ spec: ClusterSpec?, _ cluster: any KafkaTarget) throws -> [String: String] {
        guard let spec else { return [:] }
        let securityProtocol = spec.effectiveSecurityProtocol
        guard securityProtocol != .plaintext else { return [:] }
        var properties = ["security.protocol": securityProtocol.rawValue]
        if securityProtocol.usesTLS {
            guard let file = (cluster as? FakeKafkaTarget)?.certificateAuthorityFile else {
                throw ScenarioError("cluster \(spec.name): \(securityProtocol.rawValue) needs FakeKafka, whose CA the runner generates")
            }
            properties["ssl.ca.location"] = file
        }
        if let sasl = spec.sasl, let user = sasl.ingressUser, let password = sasl.users[user], sasl.mechanisms.first == "OAUTHBEARER" {
            // As Restate's documentation configures Confluent Cloud: the client-credentials flow.
            guard let endpoint = (cluster as? FakeKafkaTarget)?.cluster.oauthTokenEndpoint else {
                throw ScenarioError("cluster \(spec.name): OAUTHBEARER needs FakeKafka, whose token endpoint the runner starts")
            }
            properties["sasl.mechanism"] = "OAUTHBEARER"
            properties["sasl.oauthbearer.method"] = "oidc"
            properties["sasl.oauthbearer.client.id"] = user
            properties["sasl.oauthbearer.client.secret"] = password
            properties["sasl.oauthbearer.token.endpoint.url"] = endpoint
            if let scope = sasl.ingressScope { properties["sasl.oauthbearer.scope"] = scope }
        } else if let sasl = spec.sasl, let user = sasl.ingressUser, let password = sasl.users[user], let mechanism = sasl.mechanisms.first {
            properties["sasl.mechanisms"] = mechanism
            properties["sasl.username"] = user
            properties["sasl.password"] = password
        }
        return properties
    }

    private static func startKafka(_ scenario: Scenario, _ target: ScenarioTarget, listenHost: String, advertisedHost: String,
                                   certificateDirectory: String, defects: Set<PlantedDefect> = []) async throws -> [String: any KafkaTarget] {
        if !scenario.additionalClusters.isEmpty {
            let names = scenario.clusters.map(\.name).joined(separator: ", ")
            if case .external = target.kafka {
                throw ScenarioError("the scenario uses \(scenario.clusters.count) Kafka clusters (\(names)); --bootstrap-servers provides one")
            }
            if case .remote = target.ingress {
                throw ScenarioError("the scenario uses \(scenario.clusters.count) Kafka clusters (\(names)); an external ingress is configured with one")
            }
        }
        switch target.kafka {
        case .external(let servers):
            return [scenario.cluster.name: try await ExternalKafka(bootstrapServers: servers)]
        case .fake(let brokerPort):
            var started: [String: any KafkaTarget] = [:]
            for spec in scenario.clusters {
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
                var caFile: String?
                if spec.effectiveSecurityProtocol.usesTLS {
                    let tls = try TLSSettings()
                    try FileManager.default.createDirectory(atPath: certificateDirectory, withIntermediateDirectories: true)
                    let file = certificateDirectory + "/\(spec.name)-ca.pem"
                    try tls.authority.certificatePEM.write(toFile: file, atomically: true, encoding: .utf8)
                    config.tls = tls
                    caFile = file
                }
                if spec.name == scenario.cluster.name {
                    // The ingress is configured with the first broker only; it learns the others.
                    config.port = brokerPort
                    config.laterBrokerPorts = .any
                }
                started[spec.name] = FakeKafkaTarget(try await FakeKafkaCluster.start(config), certificateAuthorityFile: caFile)
            }
            return started
        }
    }

    /// The cluster a topic, subscription or step names (nil: the default one).
    func kafka(_ name: String?, in scenario: Scenario) throws -> any KafkaTarget {
        let name = name ?? scenario.cluster.name
        guard let cluster = kafka[name] else { throw ScenarioError("unknown cluster '\(name)'") }
        return cluster
    }

    /// Runs `count` ingress instances: nodes of one embedded cluster, each with a consumer of
    /// every subscription in its group, sharing the journal as Restate's nodes share partition
    /// processors. A removed one leaves gracefully.
    func scale(to count: Int) async throws {
        guard let embedded = ingress as? EmbeddedIngress else {
            throw ScenarioError("instances: only the embedded target can add or remove ingress instances")
        }
        await embedded.setNodes(count)
    }

    func shutdown() async {
        await ingress.shutdown()
        await deployments.stop()
        recorderServer.cancel()
        _ = try? await recorderServer.value
        for cluster in kafka.values { await cluster.shutdown() }
        try? FileManager.default.removeItem(atPath: certificateDirectory)
    }
}

/// `SCENARIO_INGRESS_LOG=debug` (or info, warning, error) shows the logs of the embedded ingress,
/// its librdkafka and FakeKafka. Otherwise they are quiet: scenarios cause failures on purpose
/// (faults, poison keys), and the outcome belongs in the report, not between the progress lines.
enum ScenarioLog {
    static let level = ProcessInfo.processInfo.environment["SCENARIO_INGRESS_LOG"].flatMap(Logger.Level.init(rawValue:))
}


extension ServiceSpec {
    var recorderService: RecorderConfiguration.Service {
        let type: EndpointManifest.ServiceType = switch kind {
        case .service: .service
        case .object: .virtualObject
        case .workflow: .workflow
        }
        return RecorderConfiguration.Service(name: name, type: type, handlers: handlers.map { h in
            RecorderConfiguration.Handler(
                name: h.name, type: h.kind.map { .init(rawValue: $0.rawValue.uppercased())! },
                behaviour: .init(latencyMs: h.latencyMs, failFirstAttempts: h.failFirstAttempts))
        })
    }
}
