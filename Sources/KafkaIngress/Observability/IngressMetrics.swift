import Foundation
import Metrics
import Prometheus

/// The Kafka ingress metrics Restate exports, through swift-metrics into a Prometheus registry
/// of this ingress's own (so several ingresses in one process, as in tests, count apart).
///
/// `restate.kafka_ingress.requests.total` counts records ingested (journaled as new
/// invocations; a deduplicated redelivery is not counted), per subscription, topic and
/// partition, as Restate counts them once appended. The Prometheus exposition writes the name
/// with underscores, as Restate's exporter does.
final class IngressMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    static let requestsTotal = "restate.kafka_ingress.requests.total"
    static let consumerLag = "restate.kafka_ingress.consumer.lag"

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (name.replacingOccurrences(of: ".", with: "_"), labels)
        }
        self.factory = factory
    }

    func ingested(_ count: Int, subscription: String, topic: String, partition: Int32) {
        Counter(label: Self.requestsTotal, dimensions: [("subscription", subscription), ("topic", topic), ("partition", String(partition))],
                factory: factory).increment(by: count)
    }

    /// `restate.kafka_ingress.consumer.lag` per partition from librdkafka's statistics, which it
    /// emits only when `statistics.interval.ms` is set (Restate sets no default either).
    func statistics(_ json: String, subscription: String) {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let topics = document["topics"] as? [String: [String: Any]] else { return }
        for (topic, details) in topics {
            for (partition, stats) in details["partitions"] as? [String: [String: Any]] ?? [:] where partition != "-1" {
                guard let lag = (stats["consumer_lag"] as? NSNumber)?.doubleValue else { continue }
                Gauge(label: Self.consumerLag, dimensions: [("subscription", subscription), ("topic", topic), ("partition", partition)],
                      factory: factory).record(lag)
            }
        }
    }

    /// The Prometheus text exposition of everything recorded so far.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
