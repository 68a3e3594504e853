import Scenarios
import Foundation
import KafkaProtocol
import RdKafka
import Synchronization

/// The producers of `produce` steps: real librdkafka clients (idempotent, acks=all) on every
/// target, so broker outages, leader moves and `Produce` faults act on the records a scenario
/// writes as they would on an application's.
final class ScenarioProducers: Sendable {
    private let scenario: Scenario
    private let clusters: [String: any KafkaTarget]
    /// One per cluster and codec (`compression.codec` is per producer), made when first needed.
    private let plain = Mutex<[String: RdKafkaProducer]>([:])
    /// One transactional producer per cluster and codec, its transactions initialised once.
    private let transactional = Mutex<[String: RdKafkaProducer]>([:])
    /// Producers whose transaction a step left open: kept (and their transaction with them)
    /// until the run ends.
    private let leftOpen = Mutex<[RdKafkaProducer]>([])

    init(scenario: Scenario, clusters: [String: any KafkaTarget]) {
        self.scenario = scenario
        self.clusters = clusters
    }

    /// Delivers the records in order; the broker's error (after librdkafka's own retries) is
    /// thrown. `isolated`: on a producer of its own, dropped afterwards, so that a failure the step
    /// expects cannot leave the shared producer's idempotence state behind for later steps.
    func send(_ records: [OutgoingRecord], cluster: String, compression: CompressionCodec, isolated: Bool = false) async throws -> [Delivery] {
        let settings = [
            "acks": "all", "enable.idempotence": "true", "linger.ms": "1",
            // Bounded, so a step producing to a cluster that cannot take records fails
            // within the scenario's patience rather than after librdkafka's five minutes.
            "message.timeout.ms": "15000",
        ]
        if isolated { return try await RdKafkaProducer(try properties(cluster, compression, settings)).sendAll(records) }
        let key = "\(cluster)/\(compression)"
        let producer = try plain.withLock { producers in
            if let existing = producers[key] { return existing }
            let made = try RdKafkaProducer(try properties(cluster, compression, settings))
            producers[key] = made
            return made
        }
        return try await producer.sendAll(records)
    }

    /// Writes the records in one transaction, then commits, aborts or leaves it open.
    func sendTransaction(_ records: [OutgoingRecord], cluster: String, compression: CompressionCodec,
                         outcome: TransactionOutcome) async throws -> [Delivery] {
        let producer: RdKafkaProducer
        if outcome == .open {
            producer = try RdKafkaProducer(try properties(cluster, compression, transactionalSettings()))
            leftOpen.withLock { $0.append(producer) }
            try await producer.initTransactions()
        } else {
            let key = "\(cluster)/\(compression)"
            let (existing, made) = try transactional.withLock { producers -> (RdKafkaProducer, Bool) in
                if let existing = producers[key] { return (existing, false) }
                let made = try RdKafkaProducer(try properties(cluster, compression, transactionalSettings()))
                producers[key] = made
                return (made, true)
            }
            if made { try await existing.initTransactions() }
            producer = existing
        }
        try producer.beginTransaction()
        let deliveries = try await producer.sendAll(records)
        switch outcome {
        case .commit: try await producer.commitTransaction()
        case .abort: try await producer.abortTransaction()
        case .open: break
        }
        return deliveries
    }

    private func transactionalSettings() -> [String: String] {
        ["transactional.id": "harness-scenario-\(UUID().uuidString.prefix(8))", "linger.ms": "1",
         // Kafka aborts a transaction left open this long after it began; a scenario that leaves
         // one open expects it to stay open for the whole run.
         "transaction.timeout.ms": "900000"]
    }

    /// What a client of this cluster needs: its bootstrap servers, TLS trust and SASL
    /// credentials (the ingress's user, or else the first the scenario declares), with OAUTHBEARER
    /// the scope the cluster requires: the scenario's producer writes its records even when the
    /// ingress is the one configured wrongly.
    private func properties(_ cluster: String, _ compression: CompressionCodec, _ extra: [String: String]) throws -> [String: String] {
        guard let target = clusters[cluster] else { throw ScenarioError("unknown cluster '\(cluster)'") }
        let spec = scenario.clusters.first { $0.name == cluster }
        let required = spec?.sasl.flatMap { $0.requiredScope.isEmpty ? nil : $0.requiredScope.joined(separator: " ") }
        var properties = try ScenarioEnvironment.securityProperties(spec, target, user: spec?.sasl.flatMap { $0.ingressUser ?? $0.users.keys.sorted().first },
                                                                    scope: required)
        properties["bootstrap.servers"] = target.bootstrapServers
        properties["compression.codec"] = compression.description
        properties["log_level"] = ScenarioLog.level == nil ? "0" : "6"
        return properties.merging(extra) { $1 }
    }

    /// Drops the cluster's producers (they flush first): after its topics grew, new ones start
    /// with metadata that knows the new partitions, where the old ones would refuse them until
    /// their next refresh.
    func forget(cluster: String) async {
        let prefix = "\(cluster)/"
        let dropped = plain.withLock { p in
            let gone = p.filter { $0.key.hasPrefix(prefix) }
            for key in gone.keys { p[key] = nil }
            return Array(gone.values)
        }
        await flush(dropped)
    }

    /// Open transactions are abandoned (the broker aborts them); others flush what is queued.
    func shutdown() async {
        let producers = plain.withLock { p in defer { p = [:] }; return Array(p.values) }
            + transactional.withLock { p in defer { p = [:] }; return Array(p.values) }
            + leftOpen.withLock { p in defer { p = [] }; return p }
        await flush(producers)
    }

    private func flush(_ producers: [RdKafkaProducer]) async {
        // Flushing waits on librdkafka: on a thread of its own, not the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                for producer in producers { try? producer.flush(timeoutMs: 5_000) }
                done.resume()
            }
        }
    }
}
