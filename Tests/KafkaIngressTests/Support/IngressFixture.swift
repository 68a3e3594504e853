import AsyncHTTPClient
import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import KafkaProtocol
import Logging
import NIOCore
import NIOHTTP1
import Recorder
import Testing

/// A FakeKafka cluster, a recorder and our ingress (with its admin API) on free loopback
/// ports, wired together: the cluster is configured as Kafka cluster "test" and the recorder is
/// registered as a deployment.
final class IngressFixture: Sendable {
    static let clusterName = "test"

    let cluster: FakeKafkaCluster
    let recorder: InvocationRecorder
    let recorderURL: String
    let ingress: KafkaIngress
    let adminURL: String
    let dataDirectory: String
    let admin: AdminClient
    private let adminServer: Task<Void, Error>

    private init(cluster: FakeKafkaCluster, recorder: InvocationRecorder, recorderURL: String, ingress: KafkaIngress,
                 adminURL: String, dataDirectory: String, adminServer: Task<Void, Error>) {
        self.cluster = cluster
        self.recorder = recorder
        self.recorderURL = recorderURL
        self.ingress = ingress
        self.adminURL = adminURL
        self.dataDirectory = dataDirectory
        self.admin = AdminClient(base: adminURL)
        self.adminServer = adminServer
    }

    /// Runs `body` with a fresh fixture and tears everything down afterwards.
    static func with<T>(
        services: [RecorderConfiguration.Service], partitions: Int32 = 4, brokers: Int = 1,
        concurrency: Int = 64, retry: RetryPolicy = RetryPolicy(initialDelayMs: 20, maxDelayMs: 200),
        _ body: (IngressFixture) async throws -> T
    ) async throws -> T {
        try await withRecorder(services) { recorder, recorderPort in
            try await withCluster(brokers: brokers, partitions: partitions) { cluster in
                let dataDirectory = NSTemporaryDirectory() + uniqueName("ingress")
                defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
                let ingress = try makeIngress(cluster: cluster, dataDirectory: dataDirectory, concurrency: concurrency, retry: retry)
                try await ingress.start()
                let (adminTask, adminPort) = try await serve { ready in
                    try await AdminAPI(ingress: ingress).run(host: "127.0.0.1", port: 0, onReady: ready)
                }
                let fixture = IngressFixture(
                    cluster: cluster, recorder: recorder, recorderURL: "http://127.0.0.1:\(recorderPort)", ingress: ingress,
                    adminURL: "http://127.0.0.1:\(adminPort)", dataDirectory: dataDirectory, adminServer: adminTask)
                do {
                    let registered = try await fixture.request(.POST, "/deployments", json: ["uri": fixture.recorderURL, "use_http_11": true])
                    try #require(registered.status == 201, "registering the recorder: \(registered.body)")
                    let result = try await body(fixture)
                    await fixture.tearDown()
                    return result
                } catch {
                    await fixture.tearDown()
                    throw error
                }
            }
        }
    }

    static func makeIngress(cluster: FakeKafkaCluster, dataDirectory: String, concurrency: Int = 64,
                            retry: RetryPolicy = RetryPolicy(initialDelayMs: 20, maxDelayMs: 200)) throws -> KafkaIngress {
        let configuration = IngressConfiguration(kafkaClusters: [
            KafkaClusterConfiguration(name: clusterName, brokers: ["PLAINTEXT://\(cluster.bootstrapServers)"], properties: testConsumerProperties)
        ])
        var logger = Logger(label: "ingress")
        logger.logLevel = .warning
        return try KafkaIngress(settings: .init(configuration: configuration, dataDirectory: dataDirectory, concurrency: concurrency, retry: retry),
                                logger: logger)
    }

    static let testConsumerProperties = KafkaClusterConfiguration.quickOnLoopback

    private func tearDown() async {
        await ingress.shutdown()
        adminServer.cancel()
        _ = await adminServer.result
    }

    /// Serves a recorder of `services` on a free loopback port for `body` (which gets the
    /// recorder and its port) and stops it afterwards.
    static func withRecorder<T>(_ services: [RecorderConfiguration.Service],
                                _ body: (InvocationRecorder, Int) async throws -> T) async throws -> T {
        let recorder = InvocationRecorder(configuration: RecorderConfiguration(services: services))
        let (task, port) = try await serve { ready in
            try await RecorderServer(recorder: recorder).run(host: "127.0.0.1", port: 0, onReady: ready)
        }
        return try await stopping(task) { try await body(recorder, port) }
    }

    /// `withIngressFiles` naming `cluster` as Kafka cluster "test" with the test properties.
    static func withIngressFiles<T>(cluster: FakeKafkaCluster, moreTOML: String = "", _ body: ([String]) async throws -> T) async throws -> T {
        try await HarnessTestSupport.withIngressFiles(cluster: clusterName, brokers: cluster.bootstrapServers,
                                                      properties: testConsumerProperties, moreTOML: moreTOML, body)
    }

    /// Starts a server in a task and waits for its port.
    static func serve(_ run: @escaping @Sendable (@escaping @Sendable (Int) async -> Void) async throws -> Void) async throws -> (Task<Void, Error>, Int) {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            try await run { port in continuation.yield(port) }
        }
        for await port in ports { return (task, port) }
        task.cancel()
        throw TimedOut()
    }

    /// Runs `body`, then stops the server `task` (started by `serve`) however `body` ends.
    static func stopping<T>(_ task: Task<Void, Error>, _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            task.cancel()
            _ = await task.result
            return result
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }

    // MARK: Admin API

    func request(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, raw: String? = nil,
                 contentType: String? = "application/json") async throws -> AdminClient.Result {
        try await admin.request(method, path, json: json, raw: raw, contentType: contentType)
    }

    /// Creates a subscription of `topic` to `service/handler`; returns its id.
    /// A new topic (named from `prefix`) on the fixture's cluster, subscribed to `sink`.
    func subscribedTopic(_ prefix: String, to sink: String, partitions: Int32 = 1, options: [String: String] = [:]) async throws -> (topic: String, id: String) {
        let topic = uniqueName(prefix)
        try cluster.createTopic(topic, partitions: partitions)
        return (topic, try await subscribe(topic, to: sink, options: options))
    }

    func subscribe(_ topic: String, to sink: String, options: [String: String] = [:]) async throws -> String {
        let result = try await request(.POST, "/subscriptions", json: ["source": "kafka://\(Self.clusterName)/\(topic)", "sink": "service://\(sink)", "options": options])
        try #require(result.status == 201, "creating the subscription: \(result.body)")
        return try #require(try result.json()["id"] as? String)
    }

    // MARK: Records

    /// Appends `values` (keyed) to the topic; records of one key go to one partition, in order.
    func produce(_ topic: String, _ records: [(key: String?, value: String)], partitions: Int32) throws {
        var byPartition: [Int32: [KafkaRecord]] = [:]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (i, r) in records.enumerated() {
            let p = r.key.map { Int32(abs(Self.stableHash($0)) % Int(partitions)) } ?? Int32(i % Int(partitions))
            byPartition[p, default: []].append(KafkaRecord(timestamp: now, key: r.key.map { Array($0.utf8) }, value: Array(r.value.utf8)))
        }
        for (p, batch) in byPartition.sorted(by: { $0.key < $1.key }) {
            try cluster.append(batch, to: TopicPartition(topic, p))
        }
    }

    static func stableHash(_ s: String) -> Int {
        Int(s.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 })
    }

    /// Waits until the recorder has seen `count` completed attempts.
    func waitForCompleted(_ count: Int, timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async throws -> [RecordedInvocation] {
        try await eventually("\(recorder.records.filter { $0.outcome == .completed }.count) of \(count) invocations completed",
                             timeout: timeout, sourceLocation: sourceLocation) {
            recorder.records.filter { $0.outcome == .completed }.count >= count
        }
        return recorder.records.filter { $0.outcome == .completed }
    }
}
