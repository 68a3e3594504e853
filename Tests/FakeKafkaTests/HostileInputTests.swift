import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaProtocol
import Logging
import NIOCore
import RdKafka
import Synchronization
import Testing

/// Clients that try to exhaust the broker: huge frame sizes, too many connections, frames that
/// stop halfway. Each is bounded, says so in the log, and costs the other clients nothing.
@Suite("Hostile input", .guarded)
struct HostileInputTests {
    /// An ApiVersions v0 request: a broker that answers it is serving this connection.
    private static func apiVersions(correlationId: Int32) -> ByteBuffer {
        RawKafkaClient.frame(apiKey: ApiKey.apiVersions.rawValue, version: 0, correlationId: correlationId, flexible: false)
    }

    private static func isServed(_ raw: RawKafkaClient, correlationId: Int32 = 1) async throws -> Bool {
        try await raw.sendRaw(apiVersions(correlationId: correlationId))
        guard var response = await raw.nextFrame() else { return false }
        return try ResponseHeader(from: &response, flexible: false).correlationId == correlationId
    }

    @Test("a frame above maxFrameSize closes its connection with a warning naming the size")
    func oversizedFrame() async throws {
        let log = LogCapture()
        try await withCluster(configure: { $0.maxFrameSize = 1024; $0.logger = log.logger }) { cluster in
            let broker = cluster.brokers[0]
            // Up to the limit is served: a frame of exactly 1024 bytes is read whole.
            let atLimit = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            let metadata = RawKafkaClient.frame(apiKey: ApiKey.metadata.rawValue, version: 4, correlationId: 9, flexible: false) {
                $0.writeInteger(Int32(1))
                // 18 header bytes, then 7 bytes around the name: 1024 in all.
                $0.writeKafkaString(String(repeating: "t", count: 999), compact: false)
                $0.writeKafkaBool(false)
            }
            try #require(metadata.readableBytes == 4 + 1024)
            try await atLimit.sendRaw(metadata)
            var answer = try #require(await atLimit.nextFrame(), "a 1024-byte frame is answered")
            #expect(try ResponseHeader(from: &answer, flexible: false).correlationId == 9)
            await atLimit.close()

            let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            var frame = ByteBuffer()
            frame.writeInteger(Int32(1025))
            frame.writeBytes([0, 18, 0, 0])
            try await raw.sendRaw(frame)
            #expect(await raw.nextFrame() == nil, "connection closed")
            #expect(log.contains("closing connection: frame of 1025 bytes exceeds the limit of 1024 bytes"), "\(log.lines)")
            await raw.close()
            let other = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            #expect(try await Self.isServed(other))
            await other.close()
        }
    }

    @Test("connections beyond maxConnectionsPerBroker are closed with a warning; a freed slot is reused")
    func connectionLimit() async throws {
        let log = LogCapture()
        try await withCluster(configure: { $0.maxConnectionsPerBroker = 2; $0.logger = log.logger }) { cluster in
            let broker = cluster.brokers[0]
            let first = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            let second = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            #expect(try await Self.isServed(first))
            #expect(try await Self.isServed(second))
            let third = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            #expect(try await !Self.isServed(third), "the third connection is closed unanswered")
            #expect(log.contains("broker 0 already has 2 client connections (maxConnectionsPerBroker)"), "\(log.lines)")
            #expect(cluster.connectionCount == 2)
            await third.close()

            await first.close()
            try await eventually("the closed connection's slot is free") { cluster.connectionCount == 1 }
            let fourth = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            #expect(try await Self.isServed(fourth, correlationId: 4))
            #expect(try await Self.isServed(second, correlationId: 5), "the established connection was never disturbed")
            await second.close()
            await fourth.close()
        }
    }

    @Test("a client stalled in the middle of a frame holds up no one: librdkafka produces and consumes meanwhile")
    func stalledClient() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("stall")
            try cluster.createTopic(topic, partitions: 1)
            let broker = cluster.brokers[0]
            let stalled = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            // A size prefix promising 200 bytes, then only part of a header.
            var half = ByteBuffer()
            half.writeInteger(Int32(200))
            half.writeBytes([0, 3, 0, 4, 0, 0])
            try await stalled.sendRaw(half)

            let producer = try RdKafkaProducer(cluster.clientConfig())
            let sent = (0..<20).map { OutgoingRecord(topic: topic, key: "k\($0)", value: "v\($0)") }
            _ = try await producer.sendAll(sent)
            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            let received = try await consume(consumer, count: sent.count)
            #expect(received.map { $0.value.map { String(decoding: $0, as: UTF8.self) } } == sent.map { $0.value.map { String(decoding: $0, as: UTF8.self) } })
            try await consumer.close()

            // The stalled connection is still open and, once it finishes its frame, answered.
            var rest = ByteBuffer()
            rest.writeBytes([0, 7, 0, 0])  // the rest of correlation id 7, an empty client id
            rest.writeInteger(Int32(0))  // no topics
            rest.writeKafkaBool(false)  // allow_auto_topic_creation
            rest.writeBytes([UInt8](repeating: 0, count: 200 - 6 - 4 - 4 - 1))
            try await stalled.sendRaw(rest)
            var answer = try #require(await stalled.nextFrame())
            #expect(try ResponseHeader(from: &answer, flexible: false).correlationId == 7)
            await stalled.close()
        }
    }

    @Test("a connection silent for connectionIdleTimeout is closed, half-sent frame and all")
    func idleTimeout() async throws {
        let log = LogCapture()
        try await withCluster(configure: { $0.connectionIdleTimeout = .milliseconds(300); $0.logger = log.logger }) { cluster in
            let broker = cluster.brokers[0]
            let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            var half = ByteBuffer()
            half.writeInteger(Int32(200))
            half.writeBytes([0, 3])
            try await raw.sendRaw(half)
            let started = ContinuousClock.now
            #expect(await raw.nextFrame() == nil, "closed by the broker")
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(log.contains("idle for 300 ms without a byte either way (connectionIdleTimeout)"), "\(log.lines)")
            await raw.close()
        }
    }
}

/// A logger whose lines a test can read back.
private final class LogCapture: Sendable {
    private let store = Mutex<[String]>([])

    var lines: [String] { store.withLock { $0 } }
    func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }

    var logger: Logger {
        var logger = Logger(label: "fakekafka") { _ in Handler(capture: self) }
        logger.logLevel = .warning
        return logger
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.store.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}
