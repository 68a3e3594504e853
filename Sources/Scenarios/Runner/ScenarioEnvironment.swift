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
        switch target {
        case .embedded:
            ingress = try await EmbeddedIngress(clusterName: Self.clusterName, bootstrapServers: cluster.bootstrapServers,
                                                properties: KafkaClusterConfiguration.quickOnLoopback, defects: defects)
            try await ingress.register(recorderURL: "http://127.0.0.1:\(port)")
        case .remote(let adminURL, let kafkaCluster, let advertisedHost, _):
            ingress = RemoteIngress(adminURL: adminURL, clusterName: kafkaCluster)
            try await ingress.register(recorderURL: "http://\(advertisedHost):\(port)")
        }
    }

    func shutdown() async {
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
