import FakeKafka
import Foundation
import KafkaIngress
import Logging
import Recorder
import RestateProtocol

/// Which ingress a scenario runs against.
public enum ScenarioTarget: Sendable, Equatable {
    /// Our ingress, in this process.
    case embedded
    /// An external ingress (a real Restate server, `harness ingress`) at this admin URL, configured
    /// with a Kafka cluster named `kafkaCluster` whose brokers are ours (`brokerPort`, reachable at
    /// `advertisedHost`); it reaches the recorder at `advertisedHost` too.
    case remote(adminURL: String, kafkaCluster: String, advertisedHost: String, brokerPort: Int)
}

/// What a scenario runs in: FakeKafka and the recorder in this process, and the ingress under test.
final class ScenarioEnvironment {
    let cluster: FakeKafkaCluster
    let recorder: InvocationRecorder
    let ingress: any IngressUnderTest
    /// Further embedded instances (`instances: N`), newest last, with their subscription ids.
    private(set) var extraInstances: [(ingress: EmbeddedIngress, ids: [String: String])] = []
    private let recorderURL: String
    private let defects: Set<DeliberateDefect>
    private let isEmbedded: Bool
    private let recorderServer: Task<Void, Error>

    static let clusterName = "scenario"
    init(_ scenario: Scenario, target: ScenarioTarget, defects: Set<DeliberateDefect>) async throws {
        var config = FakeKafkaCluster.Configuration(brokers: scenario.cluster.brokers, defaultPartitions: scenario.cluster.partitions)
        config.logger.logLevel = .warning
        var recorderHost = "127.0.0.1"
        if case .remote(_, _, let advertisedHost, let brokerPort) = target {
            // The external ingress connects from elsewhere: listen on every interface.
            config.host = advertisedHost == "127.0.0.1" || advertisedHost == "localhost" ? "127.0.0.1" : "0.0.0.0"
            config.advertisedHost = advertisedHost
            config.port = brokerPort
            recorderHost = config.host
        }
        cluster = try await FakeKafkaCluster.start(config)
        recorder = InvocationRecorder(configuration: RecorderConfiguration(services: scenario.services.map(\.recorderService)))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = RecorderServer(recorder: recorder)
        var quiet = Logger(label: "recorder")
        quiet.logLevel = .warning
        recorderServer = Task { [quiet, recorderHost] in try await server.run(host: recorderHost, port: 0, logger: quiet) { continuation.yield($0) } }
        var port = 0
        for await p in ports { port = p; break }
        self.defects = defects
        isEmbedded = target == .embedded
        switch target {
        case .embedded:
            recorderURL = "http://127.0.0.1:\(port)"
            ingress = try await EmbeddedIngress(clusterName: Self.clusterName, bootstrapServers: cluster.bootstrapServers,
                                                properties: KafkaClusterConfiguration.quickOnLoopback, defects: defects)
            try await ingress.register(recorderURL: recorderURL)
        case .remote(let adminURL, let kafkaCluster, let advertisedHost, _):
            recorderURL = "http://\(advertisedHost):\(port)"
            ingress = RemoteIngress(adminURL: adminURL, clusterName: kafkaCluster)
            try await ingress.register(recorderURL: recorderURL)
        }
    }

    /// Scales to `count` instances. A new one subscribes like the first, in the same groups
    /// (`groups`: scenario subscription name → group id); a removed one leaves gracefully.
    func scale(to count: Int, subscriptions: [SubscriptionSpec], groups: [String: String]) async throws {
        guard isEmbedded else { throw RemoteIngressError(message: "instances: only the embedded target can add or remove ingress instances") }
        while extraInstances.count + 1 < count {
            let instance = try await EmbeddedIngress(clusterName: Self.clusterName, bootstrapServers: cluster.bootstrapServers,
                                                     properties: KafkaClusterConfiguration.quickOnLoopback, defects: defects)
            try await instance.register(recorderURL: recorderURL)
            var ids: [String: String] = [:]
            for s in subscriptions {
                var options = s.options
                options["group.id"] = groups[s.name]
                ids[s.name] = try await instance.subscribe(topic: s.topic, sink: s.sink, options: options)
            }
            extraInstances.append((instance, ids))
        }
        while extraInstances.count + 1 > count, let last = extraInstances.popLast() {
            await last.ingress.shutdown()
        }
    }

    func shutdown() async {
        for extra in extraInstances { await extra.ingress.shutdown() }
        await ingress.shutdown()
        recorderServer.cancel()
        _ = try? await recorderServer.value
        try? await cluster.shutdown()
    }
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
