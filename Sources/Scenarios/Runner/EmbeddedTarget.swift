import FakeKafka
import Foundation
import KafkaIngress
import Logging
import Recorder
import RestateProtocol

/// FakeKafka, the reference ingress and the recorder in this process, on free loopback ports.
final class EmbeddedTarget {
    let cluster: FakeKafkaCluster
    let recorder: InvocationRecorder
    private(set) var ingress: KafkaIngress
    private let recorderServer: Task<Void, Error>
    let recorderURL: String
    let dataDirectory: String
    private let configuration: IngressConfiguration
    private let defects: Set<DeliberateDefect>

    static let clusterName = "scenario"
    /// librdkafka settings that keep group changes and fetches quick on loopback.
    static let consumerProperties = [
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "100",
        "fetch.wait.max.ms": "50",
        "topic.metadata.refresh.interval.ms": "1000",
        "reconnect.backoff.ms": "50",
        "log_level": "3",
    ]

    init(_ scenario: Scenario, defects: Set<DeliberateDefect>) async throws {
        self.defects = defects
        var config = FakeKafkaCluster.Configuration(brokers: scenario.cluster.brokers, defaultPartitions: scenario.cluster.partitions)
        config.logger.logLevel = .warning
        cluster = try await FakeKafkaCluster.start(config)
        recorder = InvocationRecorder(configuration: RecorderConfiguration(services: scenario.services.map(\.recorderService)))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = RecorderServer(recorder: recorder)
        var quiet = Logger(label: "recorder")
        quiet.logLevel = .warning
        recorderServer = Task { [quiet] in try await server.run(host: "127.0.0.1", port: 0, logger: quiet) { continuation.yield($0) } }
        var port = 0
        for await p in ports { port = p; break }
        recorderURL = "http://127.0.0.1:\(port)"
        dataDirectory = NSTemporaryDirectory() + "scenario-" + UUID().uuidString
        configuration = IngressConfiguration(kafkaClusters: [
            KafkaClusterConfiguration(name: Self.clusterName, brokers: [cluster.bootstrapServers], properties: Self.consumerProperties)
        ])
        ingress = try Self.makeIngress(configuration, dataDirectory, defects)
        try await ingress.start()
        _ = try await ingress.registerDeployment(uri: recorderURL)
    }

    private static func makeIngress(_ configuration: IngressConfiguration, _ dataDirectory: String, _ defects: Set<DeliberateDefect>) throws -> KafkaIngress {
        var logger = Logger(label: "ingress")
        logger.logLevel = .error
        return try KafkaIngress(settings: .init(configuration: configuration, dataDirectory: dataDirectory,
                                                retry: RetryPolicy(initialDelayMs: 20, maxDelayMs: 500), defects: defects), logger: logger)
    }

    /// Stops the ingress gracefully and starts a new one on the same journal.
    func restartIngress() async throws {
        await ingress.shutdown()
        ingress = try Self.makeIngress(configuration, dataDirectory, defects)
        try await ingress.start()
    }

    func shutdown() async {
        await ingress.shutdown()
        recorderServer.cancel()
        _ = try? await recorderServer.value
        try? await cluster.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
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
