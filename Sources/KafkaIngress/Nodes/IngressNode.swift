import AsyncHTTPClient
import Foundation
import LiveResources
import Logging
import NIOCore
import RdKafka

/// A node of the ingress that holds a data directory, run by another process given the same
/// directory (`harness ingress` twice on one `--data-dir`).
///
/// As a Restate node does, it runs a consumer of every subscription in the subscription's group,
/// and sends what it reads to the one place that deduplicates and orders it: the holder's
/// journal and dispatcher, as if the holder had read it. The holder invokes; the node stores an
/// offset only once the holder has journaled the record. So a partition moving between
/// processes never re-invokes a record, and a key's invocations stay in order.
///
/// When the holder goes away, `run` returns `.holderGone` and the process may claim the
/// directory itself (`KafkaIngress`), or join whoever claimed it first.
public actor IngressNode {
    public enum Ending: Sendable, Equatable {
        /// The task was cancelled: the node left its groups gracefully.
        case left
        /// The holder stopped answering (it stopped or died).
        case holderGone
    }

    public let dataDirectory: String
    /// The process holding the directory, which this node sends its records to.
    public nonisolated let holder: Int32
    private let link: URL
    private let nodes: Int
    private let logger: Logger
    private let http = HTTPClient(eventLoopGroupProvider: .singleton)
    /// Consumer lag of this node's consumers (the holder counts what was ingested).
    private let metrics = IngressMetrics()
    private var running: [String: (plan: ConsumerPlan, consumers: [SubscriptionConsumer])] = [:]
    /// Consumers of removed or changed subscriptions, leaving; awaited before `run` returns.
    private var leaving: [Task<Void, Never>] = []
    private let registration: Registration

    /// How often the node asks the holder what to consume, which is also how soon it notices
    /// the holder is gone.
    static let pollInterval: Duration = .milliseconds(250)
    static let requestTimeout: TimeAmount = .seconds(30)

    /// Finds the holder's link in `dataDirectory`; throws when none is published (the holder
    /// is starting, or gone).
    public init(dataDirectory: String, nodes: Int = 1, logger: Logger) throws {
        guard let file = NodeLinkFile.read(in: dataDirectory), let url = URL(string: file.url) else {
            throw JournalError(message: "no ingress in \(dataDirectory) accepts nodes yet")
        }
        self.dataDirectory = dataDirectory
        holder = file.holder
        link = url
        self.nodes = max(1, nodes)
        var logger = logger
        logger[metadataKey: "node-of"] = "\(file.holder)"
        self.logger = logger
        registration = LiveResources.opened("ingress node", "of pid \(file.holder) on \(dataDirectory)")
    }

    /// Consumes what the holder says until the task is cancelled (leaving gracefully within
    /// `gracePeriod`) or the holder stops answering. `onJoined` gets the holder's admin URL once
    /// it has answered. Throws when the holder never answered.
    public func run(gracePeriod: Duration = .seconds(7), onJoined: @Sendable (String?) -> Void = { _ in }) async throws -> Ending {
        defer { registration.close() }
        let first: NodeTopology
        do {
            first = try await topology()
        } catch {
            try? await http.shutdown()
            throw error
        }
        onJoined(first.adminURL)
        reconcile(first.plans)
        var failures = 0
        // A holder that released the directory (stopped, or died: the kernel releases it) is
        // gone at once. One that holds it but does not answer gets a few chances, since a busy
        // machine may delay its answers.
        while !Task.isCancelled && failures < 3 {
            try? await Task.sleep(for: Self.pollInterval)
            guard !Task.isCancelled, DataDirectoryLock.isClaimed(dataDirectory) else { break }
            do {
                reconcile(try await topology().plans)
                failures = 0
            } catch {
                failures += 1
            }
        }
        let ending: Ending = Task.isCancelled ? .left : .holderGone
        let deadline: ContinuousClock.Instant? = ending == .left ? .now + gracePeriod : nil
        if ending == .holderGone { logger.warning("the ingress holding \(dataDirectory) (pid \(holder)) stopped answering") }
        await withTaskGroup(of: Void.self) { group in
            for consumer in running.values.flatMap(\.consumers) { group.addTask { await consumer.stop(drainUntil: deadline) } }
        }
        running = [:]
        for task in leaving { await task.value }
        leaving = []
        try? await http.shutdown()
        return ending
    }

    /// Starts consumers of new subscriptions, stops those of removed ones, and restarts those
    /// whose subscription or cluster changed.
    private func reconcile(_ plans: [ConsumerPlan]) {
        let wanted = Dictionary(plans.map { ($0.subscription.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, current) in running where wanted[id] != current.plan {
            running[id] = nil
            let consumers = current.consumers
            leaving.append(Task { for consumer in consumers { await consumer.stop(drainUntil: nil) } })
        }
        for (id, plan) in wanted where running[id] == nil {
            let consumers = (0..<nodes).map { node in
                SubscriptionConsumer(
                    subscription: plan.subscription, cluster: plan.cluster,
                    // The holder decides exclusivity and workflow runs when it journals.
                    target: Journal.Target(subscription: plan.subscription, exclusive: false, keyed: plan.keyed),
                    ingestingInto: clusterSide, logger: nodes > 1 ? logger.with("node", "\(node)") : logger, metrics: metrics)
            }
            running[id] = (plan, consumers)
            consumers.forEach { $0.start() }
            logger.info("consuming subscription \(id) for pid \(holder)")
        }
    }

    private var clusterSide: ClusterSide {
        let (http, link) = (self.http, self.link)
        return ClusterSide(
            ingest: { records, keys, target in
                let (status, body) = try await Self.post(IngestRequest(subscription: target.subscription.id, records: records, keys: keys),
                                                         to: link.appendingPathComponent("ingest"), http)
                switch status {
                case 204: return
                case 409:
                    let refusal = try JSONDecoder().decode(IngestRefusal.self, from: body)
                    throw PoisonRecord(record: records[min(max(refusal.record, 0), records.count - 1)], reason: refusal.reason)
                default:
                    throw JournalError(message: "the ingress holding the data directory did not journal \(records.count) records of "
                        + "subscription \(target.subscription.id): \(status) \(String(decoding: body, as: UTF8.self))")
                }
            },
            drain: { sources in
                for (subscription, partitions) in Dictionary(grouping: sources, by: \.subscription) {
                    await Self.drain(DrainRequest(subscription: subscription, partitions: partitions.map { .init(topic: $0.topic, partition: $0.partition) }),
                                     link, http)
                }
            },
            drainSubscription: { id in await Self.drain(DrainRequest(subscription: id, partitions: nil), link, http) })
    }

    private func topology() async throws -> NodeTopology {
        var request = HTTPClientRequest(url: link.appendingPathComponent("topology").absoluteString)
        request.method = .GET
        let response = try await http.execute(request, timeout: .seconds(1))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status.code == 200 else {
            throw JournalError(message: "the ingress holding \(dataDirectory) answered \(response.status.code) for its topology")
        }
        return try JSONDecoder().decode(NodeTopology.self, from: Data(body.readableBytesView))
    }

    /// Asks until the holder answers that the invocations have ended, it stops answering, or
    /// the wait's caller gives up (cancellation) — at most a minute, as a revoke waits.
    private static func drain(_ request: DrainRequest, _ link: URL, _ http: HTTPClient) async {
        let deadline = ContinuousClock.now + .seconds(60)
        while !Task.isCancelled && ContinuousClock.now < deadline {
            guard let (status, _) = try? await post(request, to: link.appendingPathComponent("drain"), http), status == 202 else { return }
        }
    }

    private static func post(_ value: some Encodable, to url: URL, _ http: HTTPClient) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(value)))
        let response = try await http.execute(request, timeout: requestTimeout)
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }
}
