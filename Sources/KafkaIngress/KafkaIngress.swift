import Foundation
import LiveResources
import Logging
import PlantedDefects
import RdKafka
import RestateProtocol
import Synchronization

/// The reference Restate-compatible Kafka ingress: subscriptions turn Kafka records into
/// invocations of handlers reached over the Restate service protocol.
///
/// Everything durable lives in the journal under `dataDirectory`; a restart with the same
/// directory resumes subscriptions and open invocations.
///
/// One `KafkaIngress` is one Restate cluster, which may have several nodes (`nodes`, `setNodes`).
/// As in Restate, every node runs a consumer of every subscription, in the subscription's group,
/// while what those consumers ingest goes to one place that all nodes share (Restate's partition
/// processors; here the journal and the dispatcher): a record is deduplicated against what any
/// node ingested, an object key runs one invocation at a time whichever node read its records,
/// and object state is one.
///
/// Nodes may also be other processes on the same data directory (`acceptsNodes`, and
/// `IngressNode` in those processes): their consumers send what they read here.
public actor KafkaIngress {
    public struct Settings: Sendable {
        public var configuration: IngressConfiguration
        public var dataDirectory: String
        /// Attempts running at once, across all subscriptions.
        public var concurrency: Int
        public static let defaultConcurrency = 256
        /// Nodes of the cluster, each with its own consumer of every subscription.
        public var nodes: Int
        /// The configuration's `[default-retry-policy]` unless given.
        public var retry: RetryPolicy
        /// For tests of the harness only: defects to exhibit (see `PlantedDefect`).
        public var defects: Set<PlantedDefect>
        /// Whether other processes given the same data directory may join as nodes (`IngressNode`):
        /// a loopback link for them is served while the ingress runs.
        public var acceptsNodes: Bool

        public init(configuration: IngressConfiguration, dataDirectory: String, concurrency: Int = defaultConcurrency, nodes: Int = 1,
                    retry: RetryPolicy? = nil, defects: Set<PlantedDefect> = [], acceptsNodes: Bool = false) {
            self.configuration = configuration
            self.dataDirectory = dataDirectory
            self.concurrency = concurrency
            self.nodes = max(1, nodes)
            self.retry = retry ?? configuration.defaultRetryPolicy
            self.defects = defects
            self.acceptsNodes = acceptsNodes
        }
    }

    public let settings: Settings
    let logger: Logger
    let journal: Journal
    private let lock: DataDirectoryLock
    let client: ServiceEndpointClient
    let catalog: SharedCatalog
    let dispatcher: Dispatcher
    /// Who waits, through Restate's HTTP ingress, for an invocation to end.
    let outcomeWaiters: OutcomeWaiters
    /// Kills and pauses for the executor to obey.
    let controls: InvocationControls
    let metrics = IngressMetrics()
    /// Spans of invocations, exported while started (`tracing-endpoint`); nil when not tracing.
    private let tracing: InvocationTracing?
    private var subscriptions: [Subscription] = []
    private var clusters: KafkaClusterRegistry
    /// Per node, its consumer of each subscription (by subscription id).
    private var nodes: [[String: SubscriptionConsumer]]
    private var started = false
    /// Serves the nodes of other processes (`acceptsNodes`).
    private var nodeLink: NodeLinkServer?
    /// Where the admin API listens, for nodes of other processes to tell their users.
    private(set) var announcedAdminURL: String?
    /// Open from init (the journal and the HTTP client are) until `shutdown`.
    private let registration: Registration

    public init(settings: Settings, logger: Logger = Logger(label: "ingress")) throws {
        self.settings = settings
        self.logger = logger
        try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        lock = try DataDirectoryLock(directory: settings.dataDirectory)
        let tracing = try InvocationTracing.make(settings.configuration.tracing, logger: logger)
        let journal = try Journal(directory: settings.dataDirectory, tracing: tracing)
        let client = ServiceEndpointClient(maxConnectionsPerHost: settings.concurrency)
        let catalog = SharedCatalog()
        // The executor starts callees and wakes callers through the dispatcher, which runs it:
        // a weak link, or the two would keep each other (and the journal's database) alive.
        let dispatcherRef = WeakDispatcher()
        let waiters = OutcomeWaiters()
        let executor = InvocationExecutor(
            journal: journal, client: client, logger: logger, defects: settings.defects,
            deploymentFor: { service in catalog.state.withLock { $0.lookup(service)?.0 } },
            deploymentWithID: { id in catalog.state.withLock { $0.deployment(id: id) } },
            handlerKind: { service, handler in
                catalog.state.withLock { ($0.isKeyed(service), $0.isExclusive(service, handler)) }
            },
            start: { invocations in
                guard !invocations.isEmpty else { return }
                await dispatcherRef.value?.submit(invocations)
            },
            wake: { id in await dispatcherRef.value?.retryNow(id) },
            deliverSignal: { target, notification in
                try? await Self.deliverSignal(notification, to: target, journal: journal, dispatcher: dispatcherRef.value, logger: logger)
            },
            ended: { id, outcome in
                waiters.ended(id, outcome)
                tracing?.ended(id, outcome)
            },
            awaitEnd: { id in waiters.register(id) },
            workflowRunHandler: { service in
                catalog.state.withLock { catalog in catalog.lookup(service)?.1.handlers.first { catalog.isWorkflowRun(service, $0.name) }?.name }
            },
            retryPolicy: { [retry = settings.retry] service, handler in catalog.state.withLock { $0.retryPolicy(service, handler, default: retry) } },
            stateLoading: { service, handler in catalog.state.withLock { $0.stateLoading(service, handler) } },
            tracing: tracing)
        self.journal = journal
        self.tracing = tracing
        self.client = client
        self.catalog = catalog
        outcomeWaiters = waiters
        controls = executor.controls
        dispatcher = Dispatcher(concurrency: settings.concurrency, attempt: executor.attempt,
                                pausedKeysMoveOn: settings.defects.contains(.pausedKeyMovesOn))
        dispatcherRef.value = dispatcher
        nodes = Array(repeating: [:], count: settings.nodes)
        clusters = KafkaClusterRegistry(configured: settings.configuration.kafkaClusters, registered: [])
        registration = LiveResources.opened("Kafka ingress", "with data in \(settings.dataDirectory)")
    }

    /// Loads deployments and subscriptions, resumes open invocations and starts the consumers.
    public func start() async throws {
        guard !started else { return }
        started = true
        tracing?.start()
        for cluster in settings.configuration.kafkaClusters {
            for key in SubscriptionConsumer.forcedProperties.keys.sorted() where cluster.properties[key] != nil {
                logger.warning("\(key) will be ignored", metadata: ["cluster": "\(cluster.name)"])
            }
        }
        clusters = KafkaClusterRegistry(configured: settings.configuration.kafkaClusters, registered: try await journal.kafkaClusters())
        for deployment in try await journal.deployments() {
            catalog.state.withLock { $0.register(deployment) }
        }
        let open = try await journal.openInvocations()
        if !open.isEmpty { logger.info("resuming \(open.count) open invocations") }
        // Planted `neverInvokeAfterRestart`: what was journaled stays open and is never attempted.
        if !settings.defects.contains(.neverInvokeAfterRestart) { await dispatcher.submit(open) }
        subscriptions = try await journal.subscriptions()
        for node in nodes.indices {
            for subscription in subscriptions { startConsumer(subscription, node: node) }
        }
        if settings.acceptsNodes {
            nodeLink = try await NodeLinkServer.start(for: self, directory: settings.dataDirectory, logger: logger)
        }
    }

    /// Tells nodes of other processes where the admin API is (they print it when they join).
    public func announce(adminURL: String) {
        announcedAdminURL = adminURL
    }

    /// The nodes running now.
    public var nodeCount: Int { nodes.count }

    /// Adds or removes nodes. A new node starts a consumer of every subscription, which joins the
    /// subscription's group (the group rebalances onto it); a removed node leaves gracefully,
    /// waiting for the invocations of its partitions first, as `shutdown` does. Node 0 stays.
    public func setNodes(_ count: Int, gracePeriod: Duration = .seconds(8)) async {
        while nodes.count < max(1, count) {
            nodes.append([:])
            for subscription in subscriptions { startConsumer(subscription, node: nodes.count - 1) }
            logger.info("node \(nodes.count - 1) joined")
        }
        let deadline = ContinuousClock.now + gracePeriod
        while nodes.count > max(1, count), let leaving = nodes.popLast() {
            await withTaskGroup(of: Void.self) { group in
                for consumer in leaving.values { group.addTask { await consumer.stop(drainUntil: deadline) } }
            }
            logger.info("node \(nodes.count) left")
        }
    }

    /// Leaves within about `gracePeriod`: each consumer stops polling, waits for its
    /// subscription's invocations to end, then commits and leaves its group. Attempts still
    /// running when the period is over are abandoned: their invocations stay journaled and
    /// resume on the next start, so nothing is lost.
    public func shutdown(gracePeriod: Duration = .seconds(8)) async {
        await stop(until: ContinuousClock.now + gracePeriod, crashing: false)
    }

    /// Stops as a crashed process would: consumers vanish without committing or leaving their
    /// groups (the coordinator notices at the session timeout), running attempts are abandoned
    /// mid-way and nothing is drained. What the journal holds resumes on the next start; what
    /// was read but not journaled is read again from the committed offsets.
    public func crash() async {
        await stop(until: .now, crashing: true)
    }

    private func stop(until deadline: ContinuousClock.Instant, crashing: Bool) async {
        // First, so other processes' nodes stop sending records and leave their groups too; the
        // first of them to claim the data directory once it is free takes over.
        await nodeLink?.stop()
        nodeLink = nil
        await withTaskGroup(of: Void.self) { group in
            for consumer in nodes.flatMap(\.values) {
                group.addTask { crashing ? await consumer.vanish() : await consumer.stop(drainUntil: deadline) }
            }
        }
        nodes = nodes.map { _ in [:] }
        let dispatcher = self.dispatcher
        // At least a moment, so attempts that are about to end are not reported as abandoned.
        let grace = crashing ? .zero : max(.milliseconds(200), deadline - .now)
        if !(await withTimeout(grace) { await dispatcher.stop() }), !crashing {
            logger.warning("abandoning the attempts still running; their invocations stay journaled and resume on the next start")
        }
        outcomeWaiters.stop()
        // After the attempts: their spans are exported with the rest.
        await tracing?.shutdown(within: max(.seconds(1), deadline - .now))
        try? await client.shutdown()
        lock.release()
        registration.close()
    }

    // MARK: Subscriptions

    public func createSubscription(source: String, sink: String, options: [String: String]) async throws -> Subscription {
        let id = ResourceID.make(prefix: "sub")
        let catalog = self.catalog.state.withLock { $0 }
        let subscription = try Subscription.make(id: id, source: source, sink: sink, options: options,
                                                 configuration: IngressConfiguration(kafkaClusters: clusters.all), handlerExists: catalog.handlerExists)
        for key in SubscriptionConsumer.forcedProperties.keys.sorted() where options[key] != nil {
            logger.warning("\(key) will be ignored")
        }
        try await journal.save(subscription)
        subscriptions.append(subscription)
        for node in nodes.indices { startConsumer(subscription, node: node) }
        logger.info("subscription \(id): \(source) -> \(sink)")
        return subscription
    }

    public func listSubscriptions(sink: String? = nil, source: String? = nil) -> [Subscription] {
        subscriptions.filter { (sink == nil || $0.sink == sink) && (source == nil || $0.source == source) }
    }

    public func subscription(_ id: String) -> Subscription? {
        subscriptions.first { $0.id == id }
    }

    /// Stops the subscription's consumer (it leaves the group). Invocations already journaled
    /// run to completion; nothing read afterwards is invoked. Returns false for an unknown id.
    public func deleteSubscription(_ id: String) async throws -> Bool {
        guard subscriptions.contains(where: { $0.id == id }) else { return false }
        subscriptions.removeAll { $0.id == id }
        try await journal.markDeleted(subscription: id)
        if settings.defects.contains(.keepConsumingAfterDelete) { return true }
        await stopConsumers(of: id)
        logger.info("subscription \(id) deleted")
        return true
    }

    private func startConsumer(_ subscription: Subscription, node: Int) {
        guard let cluster = clusters.cluster(named: subscription.cluster) else {
            // The cluster was removed (forced) or left the configuration; the subscription stays.
            logger.error("subscription \(subscription.id) is not consumed: its Kafka cluster '\(subscription.cluster)' is neither registered nor configured")
            return
        }
        let consumer = SubscriptionConsumer(
            subscription: subscription, cluster: cluster, target: target(for: subscription), ingestingInto: clusterSide,
            logger: nodes.count > 1 || node > 0 ? logger.with("node", "\(node)") : logger,
            metrics: metrics)
        nodes[node][subscription.id] = consumer
        consumer.start()
    }

    /// How the subscription's records become invocations, from its sink as registered now.
    nonisolated func target(for subscription: Subscription) -> Journal.Target {
        var (exclusive, keyed, workflowRun) = catalog.state.withLock {
            ($0.isExclusive(subscription.service, subscription.handler), $0.isKeyed(subscription.service), $0.isWorkflowRun(subscription.service, subscription.handler))
        }
        if settings.defects.contains(.ignoreKeyOrder) { exclusive = false }
        if settings.defects.contains(.runWorkflowTwice) { workflowRun = false }
        return Journal.Target(subscription: subscription, exclusive: exclusive, keyed: keyed, workflowRun: workflowRun,
                              plantedDefects: settings.defects)
    }

    /// Where every node's consumers, in this process or another, hand their records.
    nonisolated var clusterSide: ClusterSide {
        ClusterSide(
            ingest: { [self] records, keys, target in try await ingest(records, keys: keys, target: target) },
            drain: { [dispatcher] sources in await dispatcher.waitUntilDrained(sources) },
            drainSubscription: { [dispatcher] id in await dispatcher.waitUntilDrained(subscription: id) })
    }

    /// Journals one poll's records (a record already ingested by any node is skipped) and starts
    /// the new invocations. Outside the actor: consumers of many subscriptions ingest at once.
    nonisolated func ingest(_ records: [RdKafkaRecord], keys: [String?], target: Journal.Target) async throws {
        // As Restate: a record whose sink is gone (its deployment removed, or re-registered
        // without it) is not ingested; the subscription stalls at it, restarting from the
        // committed offset, until the service is registered again.
        let (service, handler) = (target.subscription.service, target.subscription.handler)
        if let first = records.first, !catalog.state.withLock({ $0.handlerExists(service, handler) }) {
            throw PoisonRecord(record: first, reason: "service and handler \(service)/\(handler) are not registered")
        }
        let invocations = try await journal.append(records, target: target, keys: keys)
        var ingested: [SourcePartition: Int] = [:]
        for invocation in invocations { ingested[invocation.sourcePartition, default: 0] += 1 }
        for (source, count) in ingested {
            metrics.ingested(count, subscription: source.subscription, topic: source.topic, partition: source.partition)
        }
        // Planted `reorderAfterLateQueueSplit` (set by the consumer after a rebalance): last first.
        if !invocations.isEmpty { await dispatcher.submit(target.dispatchesLastFirst ? Array(invocations.reversed()) : invocations) }
    }

    /// What another process's node consumes: every subscription whose cluster is known.
    func consumerPlans() -> [ConsumerPlan] {
        subscriptions.compactMap { subscription in
            clusters.cluster(named: subscription.cluster).map { ConsumerPlan(subscription: subscription, cluster: $0, keyed: target(for: subscription).keyed) }
        }
    }

    // MARK: Kafka clusters

    /// Every cluster subscriptions may name, with where it comes from.
    public func kafkaClusters() -> [KafkaClusterView] {
        clusters.all.map { cluster in
            if let registered = clusters.registered.first(where: { $0.name == cluster.name }) {
                let shadowed = clusters.isConfigured(cluster.name)
                return KafkaClusterView(name: cluster.name, properties: registered.properties, createdAt: registered.createdAt,
                                        info: shadowed ? [KafkaClusterView.shadowsConfiguration] : [])
            }
            var properties = cluster.properties
            // As Restate shows a cluster of the configuration file.
            properties["metadata.broker.list"] = cluster.brokers.joined(separator: ",")
            return KafkaClusterView(name: cluster.name, properties: properties, createdAt: 0, info: [KafkaClusterView.fromConfiguration])
        }
    }

    public func createKafkaCluster(name: String, properties: [String: String]) async throws -> KafkaClusterView {
        let cluster = RegisteredKafkaCluster(name: name, properties: properties, createdAt: Journal.nowMs())
        var updated = clusters
        try updated.add(cluster)
        warnAboutForcedProperties(properties, cluster: name)
        try await journal.save(cluster)
        clusters = updated
        logger.info("kafka cluster '\(name)' registered")
        return KafkaClusterView(name: name, properties: properties, createdAt: cluster.createdAt, info: [])
    }

    /// Replaces the cluster's properties and restarts the subscriptions on it, as Restate does
    /// when a cluster's configuration changes.
    public func updateKafkaCluster(name: String, properties: [String: String]) async throws -> KafkaClusterView {
        var updated = clusters
        if let changed = try updated.update(name, properties: properties) {
            warnAboutForcedProperties(properties, cluster: name)
            try await journal.save(changed)
            clusters = updated
            for subscription in subscriptions where subscription.cluster == name {
                logger.info("kafka cluster '\(name)' changed: restarting subscription \(subscription.id)")
                await stopConsumers(of: subscription.id)
                for node in nodes.indices { startConsumer(subscription, node: node) }
            }
        }
        return kafkaClusters().first { $0.name == name }!
    }

    /// Refused while subscriptions use the cluster, unless `force`: then they stay, stopped.
    public func deleteKafkaCluster(name: String, force: Bool) async throws {
        let users = subscriptions.filter { $0.cluster == name }
        var updated = clusters
        try updated.remove(name, usedBy: users.map(\.id), force: force)
        try await journal.deleteKafkaCluster(named: name)
        clusters = updated
        for subscription in users {
            logger.error("subscription \(subscription.id) is not consumed any more: its Kafka cluster '\(name)' was removed")
            await stopConsumers(of: subscription.id)
        }
    }

    private func warnAboutForcedProperties(_ properties: [String: String], cluster: String) {
        for key in SubscriptionConsumer.forcedProperties.keys.sorted() where properties[key] != nil {
            logger.warning("\(key) will be ignored", metadata: ["cluster": "\(cluster)"])
        }
    }

    private func stopConsumers(of id: String) async {
        let stopping = nodes.indices.compactMap { nodes[$0].removeValue(forKey: id) }
        await withTaskGroup(of: Void.self) { group in
            for consumer in stopping { group.addTask { await consumer.stop(drainUntil: nil) } }
        }
    }

    // MARK: Deployments

    /// Removes a deployment; services it alone served are gone, and subscriptions to them stall
    /// (Restate checks none). Returns false for an unknown id.
    public func removeDeployment(_ id: String) async throws -> Bool {
        guard catalog.state.withLock({ $0.deployments.contains { $0.id == id } }) else { return false }
        try await journal.deleteDeployment(id)
        catalog.state.withLock { $0.remove(id) }
        logger.info("deployment \(id) removed")
        return true
    }

    public func deployments() -> [Deployment] {
        catalog.state.withLock { $0.deployments }
    }

    // MARK: Invocations

    public func invocations(subscription: String? = nil) async throws -> [InvocationView] {
        try await journal.invocations(subscription: subscription)
    }

    public enum ResumeOutcome: Sendable, Equatable {
        case resumed, unknown, completed, inboxed
    }

    /// As Restate's resume: a paused invocation is attempted again, from its first attempt; one
    /// waiting for its next retry is retried now; a running one is left alone. Completed and
    /// failed ones, and ones not yet started (waiting behind their key), are not resumed.
    public func resumeInvocation(_ id: String) async throws -> ResumeOutcome {
        switch try await journal.status(of: id) {
        case nil: return .unknown
        case .completed?, .failed?: return .completed
        case .pending?: return journal.isRunning(id) ? .resumed : .inboxed
        case .running?: return .resumed
        case .retrying?, .suspended?:
            // A suspended one is attempted at once, and suspends again if nothing it waits for is done.
            await dispatcher.retryNow(id)
            return .resumed
        case .paused?:
            guard let invocation = try await journal.resume(id) else { return .resumed }
            logger.info("invocation \(id) resumed")
            _ = await dispatcher.resume(invocation)
            return .resumed
        }
    }

    /// Returns once every invocation submitted so far has completed, failed or paused (and what
    /// waits behind a paused one).
    public func waitUntilIdle() async {
        await dispatcher.waitUntilIdle()
    }

    /// `waitUntilIdle`, giving up after `timeout`; returns whether the ingress became idle.
    public nonisolated func waitUntilIdle(timeout: Duration) async -> Bool {
        let dispatcher = self.dispatcher
        return await withTimeout(timeout) { await dispatcher.waitUntilIdle() }
    }
}

/// The service catalog, shared with invocation attempts that run outside the actor.
final class SharedCatalog: Sendable {
    let state = Mutex(ServiceCatalog())
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}

/// A weak reference to the dispatcher, safe to share.
final class WeakDispatcher: Sendable {
    private struct Weak: Sendable {
        weak var dispatcher: Dispatcher?
    }

    private let link = Mutex(Weak())

    var value: Dispatcher? {
        get { link.withLock { $0.dispatcher } }
        set { link.withLock { $0.dispatcher = newValue } }
    }
}
