import FakeKafka
import Foundation
import KafkaProtocol
import NIOCore
import RdKafka
import Testing

/// Runs `body` against a fresh cluster on free loopback ports, shutting it down afterwards.
public func withCluster<T>(
    brokers: Int = 1, partitions: Int32 = 4,
    configure: (inout FakeKafkaCluster.Configuration) -> Void = { _ in },
    _ body: (FakeKafkaCluster) async throws -> T
) async throws -> T {
    var config = FakeKafkaCluster.Configuration(brokers: brokers, defaultPartitions: partitions)
    config.logger.logLevel = ProcessInfo.processInfo.environment["FAKEKAFKA_LOG"].map { .init(rawValue: $0) ?? .warning } ?? .warning
    configure(&config)
    let cluster = try await FakeKafkaCluster.start(config)
    do {
        let result = try await body(cluster)
        try await cluster.shutdown()
        return result
    } catch {
        try? await cluster.shutdown()
        throw error
    }
}

extension FakeKafkaCluster {
    /// librdkafka settings for fast, quiet tests against this cluster.
    public func clientConfig(_ extra: [String: String] = [:]) -> [String: String] {
        var config = [
            "bootstrap.servers": bootstrapServers,
            "topic.metadata.refresh.interval.ms": "1000",
            "retry.backoff.ms": "50",
            "reconnect.backoff.ms": "50",
            "reconnect.backoff.max.ms": "500",
            "log_level": "3",
        ]
        config.merge(extra) { $1 }
        return config
    }

    public func consumerConfig(group: String, _ extra: [String: String] = [:]) -> [String: String] {
        clientConfig([
            "group.id": group,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "100",
            "fetch.wait.max.ms": "100",
            "enable.auto.commit": "false",
        ].merging(extra) { $1 })
    }
}

/// Checks `condition` every `interval` until it holds, `timeout` has passed or the task is
/// cancelled; returns whether it held. The one polling loop of the test support: `eventually` and the child-process and leak
/// waits are built on it.
public func waitUntil(timeout: Duration, every interval: Duration = .milliseconds(20),
                      _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline || Task.isCancelled { return false }
        try? await Task.sleep(for: interval)
    }
}

/// Waits until `condition` holds, polling; fails the test with `message` after `timeout`.
public func eventually(
    _ message: @autoclosure () -> String, timeout: Duration = .seconds(30),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    if try await waitUntil(timeout: timeout, condition) { return }
    try Task.checkCancellation()
    Issue.record("timed out after \(timeout): \(message())", sourceLocation: sourceLocation)
    throw TimedOut()
}

public struct TimedOut: Error {
    public init() {}
}

/// Polls until `count` records arrived, tolerating transient client errors (a reconnect, a
/// leader or coordinator change), and fails after `timeout` naming how many came.
public func consume(_ consumer: RdKafkaConsumer, count: Int, timeout: Duration = .seconds(30),
             sourceLocation: SourceLocation = #_sourceLocation) async throws -> [RdKafkaRecord] {
    var records: [RdKafkaRecord] = []
    let deadline = ContinuousClock.now + timeout
    while records.count < count {
        guard ContinuousClock.now < deadline else {
            Issue.record("consumed \(records.count) of \(count) records within \(timeout)", sourceLocation: sourceLocation)
            throw TimedOut()
        }
        do {
            if let r = try await consumer.poll(timeoutMs: 100) { records.append(r) }
        } catch let error as RdKafkaError where error.code < 0 || coordinatorMoving.contains(error.code) {
            continue  // transient: librdkafka recovers by itself
        }
    }
    return records
}

/// librdkafka reports these while it looks the group's coordinator up again, then carries on.
private let coordinatorMoving = Set([KafkaErrorCode.coordinatorLoadInProgress, .coordinatorNotAvailable, .notCoordinator].map { Int32($0.rawValue) })

public func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A unique name per test, so parallel tests never share topics or groups.
public func uniqueName(_ prefix: String = "t") -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }
