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

    /// The Prometheus text exposition of everything recorded so far.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
