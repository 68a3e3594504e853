import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import Recorder
import Testing

/// The Kafka ingress metrics Restate exports, read from `GET /metrics` as Prometheus would.
@Suite("Metrics", .guarded)
struct MetricsTests {
    static let services = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record")])]

    @Test("restate_kafka_ingress_requests_total counts ingested records per subscription, topic and partition")
    func requestsTotal() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let (topic, id) = try await f.subscribedTopic("metrics", to: "Log/record", partitions: 2)
            try f.produce(topic, [(key: "a", value: "1"), (key: "a", value: "2"), (key: "a", value: "3"), (key: "b", value: "4")], partitions: 2)
            _ = try await f.waitForCompleted(4)
            let metrics = try await f.request(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            var counts: [String: Double] = [:]
            for line in metrics.body.split(separator: "\n") where line.hasPrefix("restate_kafka_ingress_requests_total{") {
                let labels = line.drop { $0 != "{" }.prefix { $0 != "}" }
                #expect(labels.contains(#"subscription="\#(id)""#) && labels.contains(#"topic="\#(topic)""#), "\(line)")
                let partition = labels.range(of: #"partition="\d+""#, options: .regularExpression).map { String(labels[$0]) } ?? "?"
                counts[partition] = Double(line.split(separator: " ").last ?? "")
            }
            let stored = try (0..<2).map { try f.cluster.records(TopicPartition(topic, Int32($0))).count }
            #expect(counts == [#"partition="0""#: Double(stored[0]), #"partition="1""#: Double(stored[1])].filter { $0.value > 0 }, "\(metrics.body)")
            #expect(!metrics.body.contains("restate_kafka_ingress_consumer_lag"), "no lag without statistics.interval.ms, as in Restate")
        }
    }

    @Test("restate_kafka_ingress_consumer_lag per partition, from librdkafka's statistics when statistics.interval.ms is set")
    func consumerLag() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let (topic, id) = try await f.subscribedTopic("lag", to: "Log/record", partitions: 1, options: ["statistics.interval.ms": "100"])
            try f.produce(topic, [(key: "a", value: "1"), (key: "a", value: "2")], partitions: 1)
            _ = try await f.waitForCompleted(2)
            let caughtUp = #"restate_kafka_ingress_consumer_lag{subscription="\#(id)",topic="\#(topic)",partition="0"} 0"#
            try await eventually("the lag of partition 0 reported as 0 once everything was read") {
                try await f.request(.GET, "/metrics").body.split(separator: "\n").contains { $0.hasPrefix(caughtUp) }
            }
        }
    }
}
