import Scenarios
import Foundation
import Logging
import Recorder
import RestateProtocol

/// What a scenario runs in: the Kafka clusters, the recorder in this process, and the ingress under test.
final class ScenarioEnvironment {
    /// By scenario cluster name.
    let kafka: [String: any KafkaTarget]
    let recorder: InvocationRecorder
    let ingress: any IngressTarget
    let target: ScenarioTarget
    /// Services written with a Restate SDK, behind the recorder's pass-through.
    let deployments: RealDeployments
    private let recorderServer: RunningServer
    /// Where the ingress reaches the recorder (its registered deployment).
    var recorderURL: String { recorderServer.url }
    /// Librdkafka producers of `produce` steps, per cluster, made when first needed.
    let producers: ScenarioProducers

    /// Starts everything or nothing: what started before a failure is stopped again.
    init(_ scenario: Scenario, target: ScenarioTarget) async throws {
        self.target = target
        let advertisedHost = target.ingress.advertisedHost
        // An external ingress may connect from elsewhere: then listen on every interface.
        let listenHost = ["127.0.0.1", "localhost"].contains(advertisedHost) ? "127.0.0.1" : "0.0.0.0"
        var stops: [@Sendable () async -> Void] = []
        func rollBack() async { for stop in stops.reversed() { await stop() } }
        do {
            let deployments = try await RealDeployments.start(scenario)
            self.deployments = deployments
            stops.append { await deployments.stop() }
            let kafka = try await target.kafka.start(scenario, listenHost: listenHost, advertisedHost: advertisedHost)
            self.kafka = kafka
            stops.append { for cluster in kafka.values { await cluster.shutdown() } }
            producers = ScenarioProducers(scenario: scenario, clusters: kafka)
            stops.append { [producers] in await producers.shutdown() }
            recorder = InvocationRecorder(configuration: RecorderConfiguration(services: scenario.services.map(\.recorderService)))
            let server = RecorderServer(recorder: recorder, deployments: deployments.upstreams)
            var quiet = Logger(label: "recorder")
            quiet.logLevel = .warning
            let recorderServer = try await RunningServer.start("the recorder", host: advertisedHost) { [quiet] ready in
                try await server.run(host: listenHost, port: 0, logger: quiet, onReady: ready)
            }
            self.recorderServer = recorderServer
            stops.append { await recorderServer.stop() }
            var configured: [String: ClusterConnection] = [:]
            for spec in scenario.clusters where !spec.registeredAtRuntime {
                guard let cluster = kafka[spec.name] else { continue }
                configured[spec.name] = ClusterConnection(bootstrapServers: cluster.bootstrapServers,
                                                          properties: spec.properties.merging(try Self.securityProperties(spec, cluster)) { $1 })
            }
            let ingress = try await target.ingress.start(scenario, clusters: configured)
            self.ingress = ingress
            stops.append { await ingress.shutdown() }
            for spec in scenario.clusters where spec.registeredAtRuntime {
                guard let cluster = kafka[spec.name] else { continue }
                do {
                    try await ingress.registerKafkaCluster(name: spec.name, bootstrapServers: cluster.bootstrapServers,
                                                           properties: spec.properties.merging(try Self.securityProperties(spec, cluster)) { $1 })
                } catch {
                    throw ScenarioError("registering Kafka cluster '\(spec.name)' through /kafka-clusters: \(error)")
                }
            }
            // The simulated services are one deployment; each real one is another, reached through
            // the recorder so that its attempts are recorded.
            if !scenario.services.isEmpty || scenario.deployments.isEmpty { try await ingress.registerDeployment(url: recorderServer.url) }
            for name in scenario.deployments.map(\.name) {
                do {
                    try await ingress.registerDeployment(url: "\(recorderServer.url)/deployments/\(name)")
                } catch {
                    throw ScenarioError("registering deployment '\(name)' (at \(deployments.upstreams[name] ?? "?"), through the recorder): \(error)")
                }
            }
        } catch {
            await rollBack()
            throw error
        }
    }

    /// What a Restate user would write in the cluster's entry of restate.toml to reach it:
    /// `security.protocol`, the CA to trust, and the ingress's own SASL credentials if it has any.
    /// `user`: whose credentials (nil: the ingress user's, if the scenario gives one); `scope`: the
    /// OAuth scope to ask for (nil: the ingress's `ingress_scope`).
    static func securityProperties(_ spec: ClusterSpec?, _ cluster: any KafkaTarget, user clientUser: String? = nil,
                                   scope clientScope: String? = nil) throws -> [String: String] {
        guard let spec else { return [:] }
        let securityProtocol = spec.effectiveSecurityProtocol
        guard securityProtocol != .plaintext else { return [:] }
        var properties = ["security.protocol": securityProtocol.rawValue]
        if securityProtocol.usesTLS {
            guard let file = cluster.certificateAuthorityFile else {
                throw ScenarioError("cluster \(spec.name): \(securityProtocol.rawValue) needs a Kafka whose CA the runner generates (FakeKafka)")
            }
            properties["ssl.ca.location"] = file
        }
        let user = clientUser ?? spec.sasl?.ingressUser
        if let sasl = spec.sasl, let user, let password = sasl.users[user], sasl.mechanisms.first == "OAUTHBEARER" {
            // As Restate's documentation configures Confluent Cloud: the client-credentials flow.
            guard let endpoint = cluster.oauthTokenEndpoint else {
                throw ScenarioError("cluster \(spec.name): OAUTHBEARER needs a Kafka whose token endpoint the runner starts (FakeKafka)")
            }
            properties["sasl.mechanism"] = "OAUTHBEARER"
            properties["sasl.oauthbearer.method"] = "oidc"
            properties["sasl.oauthbearer.client.id"] = user
            properties["sasl.oauthbearer.client.secret"] = password
            properties["sasl.oauthbearer.token.endpoint.url"] = endpoint
            if let scope = clientScope ?? sasl.ingressScope { properties["sasl.oauthbearer.scope"] = scope }
        } else if let sasl = spec.sasl, let user, let password = sasl.users[user], let mechanism = sasl.mechanisms.first {
            properties["sasl.mechanisms"] = mechanism
            properties["sasl.username"] = user
            properties["sasl.password"] = password
        }
        return properties
    }

    /// The cluster a topic, subscription or step names (nil: the default one).
    func kafka(_ name: String?, in scenario: Scenario) throws -> any KafkaTarget {
        let name = name ?? scenario.cluster.name
        guard let cluster = kafka[name] else { throw ScenarioError("unknown cluster '\(name)'") }
        return cluster
    }

    func shutdown() async {
        await ingress.shutdown()
        await producers.shutdown()
        await deployments.stop()
        await recorderServer.stop()
        for cluster in kafka.values { await cluster.shutdown() }
    }
}

/// `SCENARIO_INGRESS_LOG=debug` (or info, warning, error) shows the logs of the embedded ingress,
/// its librdkafka and FakeKafka. Otherwise they are quiet: scenarios cause failures on purpose
/// (faults, poison keys), and the outcome belongs in the report, not between the progress lines.
public enum ScenarioLog {
    public static let level = ProcessInfo.processInfo.environment["SCENARIO_INGRESS_LOG"].flatMap(Logger.Level.init(rawValue:))
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
