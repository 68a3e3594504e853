import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import KafkaProtocol
import LiveResources
import Logging
import RdKafka
import Recorder
import Testing

/// Restate 1.7's spans of invocations from Kafka records, exported over OTLP/HTTP to a real
/// receiver, with the `traceparent` the deployment gets.
@Suite("Tracing", .guarded)
struct TracingTests {
    static let services = [
        RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record")]),
        RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [.init(name: "add", behaviour: .init(failFirstAttempts: 1))]),
    ]

    @Test("ingress_kafka, invocation-start, -attempt and -end spans with Restate's names, attributes and parents; the attempt's traceparent reaches the deployment",
          arguments: [OTLPReceiver.Transport.grpc, .http])
    func spansOfInvocations(_ transport: OTLPReceiver.Transport) async throws {
        try await withTracedSetup(transport) { receiver, recorder, proxy, cluster in
            // As Restate reads the endpoint: http:// is OTLP over gRPC, otlp+http:// protobuf over HTTP.
            let endpoint = transport == .grpc ? receiver.url : receiver.endpoint(scheme: "otlp+http")
            let tracing = TracingConfiguration(endpoint: endpoint, headers: ["authorization": "Bearer s3cret"], nodeName: "node-a")
            let (logTopic, counterTopic) = (uniqueName("log"), uniqueName("counter"))
            var deploymentID = ""
            var groups: [String: String] = [:]
            try await withIngress(cluster, tracing: tracing) { ingress in
                #expect(LiveResources.open().contains { $0.kind == "OTLP span exporter" && $0.owner == LiveResources.owner })
                deploymentID = try await ingress.registerDeployment(uri: proxy.url).id
                for (topic, sink) in [(logTopic, "Log/record"), (counterTopic, "Counter/add")] {
                    try cluster.createTopic(topic, partitions: 1)
                    groups[topic] = try await ingress.createSubscription(source: "kafka://\(IngressFixture.clusterName)/\(topic)", sink: "service://\(sink)", options: [:]).groupID
                }
                let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0"]))
                _ = try await producer.sendAll([
                    OutgoingRecord(topic: logTopic, key: nil as String?, value: "\"first\""),
                    OutgoingRecord(topic: logTopic, key: nil as String?, value: "\"second\""),
                    OutgoingRecord(topic: counterTopic, key: "k1", value: "1"),
                ])
                try await eventually("3 invocations completed") { recorder.records.filter { $0.outcome == .completed }.count == 3 }
            }
            // Shutting down exported everything.
            let spans = receiver.spans
            let byInvocation = Dictionary(grouping: spans) { $0.attributes["restate.invocation.id"] ?? .other }
            let ids = Set(recorder.records.map(\.invocationID))
            #expect(Set(byInvocation.keys) == Set(ids.map { ReceivedSpan.Value.string($0) }), "\(spans)")
            #expect(receiver.authorizations.allSatisfy { $0 == "Bearer s3cret" } && !receiver.authorizations.isEmpty, "tracing-headers go with every export")

            var attemptParents: Set<String> = []
            for id in ids {
                let invocation = byInvocation[.string(id)] ?? []
                let record = try #require(recorder.records.first { $0.invocationID == id })
                let keyed = record.service == "Counter"
                let (short, target) = keyed ? ("Counter/{key}/add", "Counter/k1/add") : ("Log/record", "Log/record")
                let topic = keyed ? counterTopic : logTopic
                let ingress = try #require(invocation.first { $0.name == "ingress_kafka \(short)" }, "\(invocation)")
                let start = try #require(invocation.first { $0.name == "invocation-start \(short)" }, "\(invocation)")
                let end = try #require(invocation.first { $0.name == "invocation-end \(short)" }, "\(invocation)")
                let attempts = invocation.filter { $0.name == "invocation-attempt \(short)" }.sorted { $0.startNs < $1.startNs }
                #expect(invocation.count == 3 + attempts.count, "only Restate's spans: \(invocation)")
                #expect(attempts.count == (keyed ? 2 : 1), "one span per attempt: \(invocation)")

                // One trace, parented as Restate parents it.
                #expect(ingress.parentSpanID.isEmpty, "a record's span starts the trace")
                #expect(invocation.allSatisfy { $0.traceID == ingress.traceID })
                #expect(start.parentSpanID == ingress.spanID)
                #expect(end.parentSpanID == start.spanID)
                #expect(attempts.allSatisfy { $0.parentSpanID == start.spanID })
                #expect(start.startNs <= start.endNs && start.endNs <= attempts[0].startNs && attempts.last!.endNs <= end.startNs)

                for span in invocation {
                    #expect(span.attributes["rpc.service"] == .string(record.service))
                    #expect(span.attributes["rpc.method"] == .string(record.handler))
                    #expect(span.attributes["restate.invocation.target"] == .string(target))
                    #expect(span.resource["service.name"] == .string("Restate") && span.resource["service.namespace"] == .string("Restate"))
                    #expect(span.resource["service.instance.id"] == .string("localcluster/node-a"))
                }
                #expect(ingress.attributes["messaging.system"] == .string("kafka"))
                #expect(ingress.attributes["messaging.operation.type"] == .string("process"))
                #expect(ingress.attributes["messaging.source.name"] == .string(topic))
                #expect(ingress.attributes["messaging.source.partition.id"] == .int(0))
                #expect(ingress.attributes["messaging.kafka.offset"] == .int(Int64(record.headers["kafka.offset"] ?? "") ?? -1))
                #expect(ingress.attributes["messaging.consumer.group.name"] == groups[topic].map { .string($0) })
                for attempt in attempts {
                    #expect(attempt.attributes["rpc.system"] == .string("restate"))
                    #expect(attempt.attributes["restate.deployment.id"] == .string(deploymentID))
                    #expect(attempt.attributes["restate.deployment.address"] == .string(proxy.url))
                    if case .int(let version)? = attempt.attributes["restate.deployment.service_protocol_version"] {
                        #expect(version >= 1)
                    } else {
                        Issue.record("no restate.deployment.service_protocol_version: \(attempt)")
                    }
                    attemptParents.insert("00-\(attempt.traceID)-\(attempt.spanID)-01")
                }
                #expect(attempts.last?.statusCode == 1)
                if keyed {
                    #expect(attempts[0].statusCode == 2 && attempts[0].statusMessage == "transient failure", "the failed first attempt: \(attempts[0])")
                }
                #expect(end.attributes["restate.invocation.result"] == .string("success") && end.statusCode == 1)
            }
            #expect(Set(proxy.traceParents.compactMap { $0 }) == attemptParents, "each request names its attempt span")
            #expect(proxy.traceParents.allSatisfy { $0 != nil })
        }
    }

    @Test("After a restart, attempts of an open invocation join the trace its record started (the journal keeps it)")
    func traceSurvivesRestart() async throws {
        try await withTracedSetup { receiver, recorder, proxy, cluster in
            let tracing = TracingConfiguration(endpoint: receiver.endpoint(scheme: "otlp+http"))
            let topic = uniqueName("restart")
            try cluster.createTopic(topic, partitions: 1)
            let dataDirectory = NSTemporaryDirectory() + uniqueName("ingress")
            defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
            proxy.failing = true
            // A short grace period: the failing invocation would hold the shutdown for all of it.
            try await withIngress(cluster, tracing: tracing, dataDirectory: dataDirectory, gracePeriod: .seconds(1)) { ingress in
                _ = try await ingress.registerDeployment(uri: proxy.url)
                _ = try await ingress.createSubscription(source: "kafka://\(IngressFixture.clusterName)/\(topic)", sink: "service://Log/record", options: [:])
                try cluster.append([KafkaRecord(timestamp: 1, key: nil, value: Array("\"x\"".utf8))], to: TopicPartition(topic, 0))
                try await eventually("a failed attempt") { proxy.traceParents.count >= 1 }
            }
            proxy.failing = false
            try await withIngress(cluster, tracing: tracing, dataDirectory: dataDirectory) { _ in
                try await eventually("the invocation completed after the restart") { recorder.records.contains { $0.outcome == .completed } }
            }
            let spans = receiver.spans
            let recordSpans = spans.filter { $0.name == "ingress_kafka Log/record" }
            #expect(recordSpans.count == 1, "\(spans)")
            let recordSpan = try #require(recordSpans.first)
            let starts = spans.filter { $0.name == "invocation-start Log/record" }
            // One before the restart, one after: the first is not known any more.
            #expect(starts.count == 2 && Set(starts.map(\.parentSpanID)) == [recordSpan.spanID], "\(spans)")
            let attempts = spans.filter { $0.name == "invocation-attempt Log/record" }
            #expect(attempts.contains { $0.statusCode == 2 } && attempts.contains { $0.statusCode == 1 }, "\(attempts)")
            #expect(Set(attempts.map(\.parentSpanID)).isSubset(of: starts.map(\.spanID)), "\(spans)")
            #expect(Set(spans.map(\.traceID)) == [recordSpan.traceID], "one trace: \(spans)")
            let end = try #require(spans.first { $0.name == "invocation-end Log/record" })
            #expect(end.attributes["restate.invocation.result"] == .string("success"))
            let traceParents = Set(attempts.map { "00-\($0.traceID)-\($0.spanID)-01" })
            #expect(Set(proxy.traceParents.compactMap { $0 }) == traceParents && !proxy.traceParents.contains(nil), "\(proxy.traceParents)")
        }
    }

    @Test("Two ingresses in one process export to their own endpoints")
    func ingressesExportApart() async throws {
        try await OTLPReceiver.with { other in
            try await withTracedSetup { receiver, recorder, proxy, cluster in
                let topic = uniqueName("apart")
                try cluster.createTopic(topic, partitions: 1)
                try await withIngress(cluster, tracing: TracingConfiguration(endpoint: receiver.endpoint(scheme: "otlp+http"))) { first in
                    try await withIngress(cluster, tracing: TracingConfiguration(servicesEndpoint: other.endpoint(scheme: "otlp+http"))) { second in
                        for (ingress, group) in [(first, "first"), (second, "second")] {
                            _ = try await ingress.registerDeployment(uri: proxy.url)
                            _ = try await ingress.createSubscription(source: "kafka://\(IngressFixture.clusterName)/\(topic)", sink: "service://Log/record",
                                                                     options: ["group.id": uniqueName(group)])
                        }
                        try cluster.append([KafkaRecord(timestamp: 1, key: nil, value: Array("\"x\"".utf8))], to: TopicPartition(topic, 0))
                        try await eventually("each ingress invoked the record") { recorder.records.count == 2 }
                    }
                }
                let mine = receiver.spans.compactMap { $0.attributes["restate.invocation.id"] }
                let theirs = other.spans.compactMap { $0.attributes["restate.invocation.id"] }
                #expect(Set(mine).count == 1 && Set(theirs).count == 1 && Set(mine) != Set(theirs), "\(receiver.spans) / \(other.spans)")
                #expect(receiver.spans.count == 4 && other.spans.count == 4)
            }
        }
    }

    @Test("Without tracing-endpoint nothing is exported, no exporter runs, and requests carry no traceparent")
    func offByDefault() async throws {
        try await withTracedSetup { receiver, recorder, proxy, cluster in
            let topic = uniqueName("untraced")
            try cluster.createTopic(topic, partitions: 1)
            try await withIngress(cluster, tracing: TracingConfiguration()) { ingress in
                #expect(!LiveResources.open().contains { $0.kind == "OTLP span exporter" && $0.owner == LiveResources.owner })
                _ = try await ingress.registerDeployment(uri: proxy.url)
                _ = try await ingress.createSubscription(source: "kafka://\(IngressFixture.clusterName)/\(topic)", sink: "service://Log/record", options: [:])
                try cluster.append([KafkaRecord(timestamp: 1, key: nil, value: Array("\"x\"".utf8))], to: TopicPartition(topic, 0))
                try await eventually("the invocation completed") { recorder.records.contains { $0.outcome == .completed } }
            }
            #expect(proxy.traceParents == [nil])
            #expect(receiver.requests == 0)
        }
    }

    @Test("harness ingress: --tracing-services-endpoint wins over tracing-endpoint in restate.toml; SIGTERM exports what is left")
    func command() async throws {
        try await OTLPReceiver.with { receiver in
            try await IngressFixture.withRecorder(Self.services) { recorder, recorderPort in
                try await withCluster(partitions: 1) { cluster in
                    let topic = uniqueName("cli")
                    try cluster.createTopic(topic, partitions: 1)
                    // Nothing listens there: were it used, no span would arrive.
                    let toml = "tracing-endpoint = \"http://127.0.0.1:9\"\nnode-name = \"cli\"\n"
                    try await IngressFixture.withIngressFiles(cluster: cluster, moreTOML: toml) { files in
                        let arguments = files + ["--tracing-services-endpoint", receiver.endpoint(scheme: "otlp+http")]
                        let ingress = try await IngressProcess.start(arguments: arguments)
                        let status = try await ingress.child.stopping {
                            let admin = AdminClient(base: ingress.adminURL)
                            #expect(try await admin.post("/deployments", ["uri": "http://127.0.0.1:\(recorderPort)", "use_http_11": true]).status == 201)
                            #expect(try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://Log/record"]).status == 201)
                            try cluster.append([KafkaRecord(timestamp: 1, key: nil, value: Array("\"x\"".utf8))], to: TopicPartition(topic, 0))
                            try await eventually("the invocation completed") { recorder.records.contains { $0.outcome == .completed } }
                            ingress.child.signal(SIGTERM)
                            return await ingress.child.waitForExit(timeout: .seconds(10))
                        }
                        #expect(status == 0)
                    }
                    let names = receiver.spans.map(\.name).sorted()
                    #expect(names == ["ingress_kafka Log/record", "invocation-attempt Log/record", "invocation-end Log/record", "invocation-start Log/record"])
                    #expect(receiver.spans.allSatisfy { $0.resource["service.instance.id"] == .string("localcluster/cli") })
                }
            }
        }
    }

    // MARK: Setup

    /// A receiver, a recorder behind a header-recording proxy, and a cluster.
    private func withTracedSetup(_ transport: OTLPReceiver.Transport = .http,
                                 _ body: (OTLPReceiver, InvocationRecorder, HeaderRecordingProxy, FakeKafkaCluster) async throws -> Void) async throws {
        try await OTLPReceiver.with(transport) { receiver in
            try await IngressFixture.withRecorder(Self.services) { recorder, port in
                try await HeaderRecordingProxy.with(upstream: "http://127.0.0.1:\(port)") { proxy in
                    try await withCluster(partitions: 1) { cluster in
                        try await body(receiver, recorder, proxy, cluster)
                    }
                }
            }
        }
    }

    /// A started ingress on `cluster` (as Kafka cluster "test") for `body`, shut down after it.
    private func withIngress(_ cluster: FakeKafkaCluster, tracing: TracingConfiguration, dataDirectory: String? = nil,
                             gracePeriod: Duration = .seconds(8), _ body: (KafkaIngress) async throws -> Void) async throws {
        let directory = dataDirectory ?? NSTemporaryDirectory() + uniqueName("ingress")
        defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let configuration = IngressConfiguration(
            kafkaClusters: [KafkaClusterConfiguration(name: IngressFixture.clusterName, brokers: ["PLAINTEXT://\(cluster.bootstrapServers)"],
                                                      properties: IngressFixture.testConsumerProperties)],
            tracing: tracing)
        var logger = Logger(label: "ingress")
        logger.logLevel = .warning
        let ingress = try KafkaIngress(settings: .init(configuration: configuration, dataDirectory: directory, concurrency: 16,
                                                       retry: RetryPolicy(initialDelayMs: 20, maxDelayMs: 200)), logger: logger)
        do {
            try await ingress.start()
            try await body(ingress)
            await ingress.shutdown(gracePeriod: gracePeriod)
        } catch {
            await ingress.shutdown(gracePeriod: gracePeriod)
            throw error
        }
    }
}

extension OTLPReceiver {
    /// The receiver's URL as a `tracing-endpoint` with this scheme.
    func endpoint(scheme: String) -> String { scheme + url.dropFirst("http".count) }
}
