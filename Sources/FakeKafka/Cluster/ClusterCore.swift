import KafkaProtocol
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The shared heart of a running cluster: its state behind one lock, its configuration, and the
/// event loops its brokers and timers run on. Every request handler goes through `withState`.
final class ClusterCore: Sendable {
    let configuration: FakeKafkaCluster.Configuration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let state: Mutex<ClusterState>
    let connections = ConnectionRegistry()
    /// The brokers' TLS server context, when the listeners use TLS.
    let tlsContext: NIOSSLContext?
    /// Signs and checks OAUTHBEARER tokens (used when SASL offers OAUTHBEARER).
    let oauthIssuer = OAuthTokenIssuer(issuer: "fake-kafka")

    init(configuration: FakeKafkaCluster.Configuration, eventLoopGroup: any EventLoopGroup, logger: Logger, tlsContext: NIOSSLContext? = nil) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.state = Mutex(ClusterState(requestLogCapacity: configuration.requestLogCapacity, faultRandomness: configuration.faultRandomness,
                                        sasl: configuration.sasl))
    }

    /// Runs `body` with exclusive access to the state, then runs the effects it queued (promise
    /// completions) after the lock is released, so no callback can re-enter the lock.
    func withState<R: Sendable>(_ body: (inout ClusterState, inout ConsumerGroup.Effects) throws -> R) rethrows -> R {
        var effects: ConsumerGroup.Effects = []
        let result = try state.withLock { state in try body(&state, &effects) }
        for effect in effects { effect() }
        return result
    }

    /// Periodic work: session expiry and rebalance deadlines of every group.
    func tick() {
        withState { state, effects in
            let now = NIODeadline.now()
            for group in state.groups.values { group.tick(now: now, effects: &effects) }
            if !state.modernGroups.isEmpty {
                let topics = state.topicCatalog
                for group in state.modernGroups.values { group.tick(now: now, topics: topics) }
            }
        }
    }
}

/// The open client connections, by broker, so controls can drop them.
final class ConnectionRegistry: Sendable {
    struct Entry: Sendable {
        var broker: Int32
        var channel: any Channel
        var clientId: String?
    }

    private let entries = Mutex<[Int: Entry]>([:])
    private let counter = Atomic<Int>(0)

    /// Registers a new connection; nil, and not registered, when `broker` already has `limit`.
    func add(broker: Int32, channel: any Channel, limit: Int = .max) -> Int? {
        let id = counter.add(1, ordering: .relaxed).newValue
        return entries.withLock { entries in
            guard entries.values.lazy.filter({ $0.broker == broker }).count < limit else { return nil }
            entries[id] = Entry(broker: broker, channel: channel)
            return id
        }
    }

    func setClientId(_ clientId: String?, for id: Int) {
        entries.withLock { $0[id]?.clientId = clientId }
    }

    func remove(_ id: Int) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Closes matching connections and returns how many there were.
    @discardableResult
    func close(broker: Int32? = nil, clientId: String? = nil) -> Int {
        let matching = entries.withLock { entries in
            entries.values.filter { (broker == nil || $0.broker == broker) && (clientId == nil || $0.clientId == clientId) }
        }
        for entry in matching { entry.channel.close(promise: nil) }
        return matching.count
    }

    var count: Int { entries.withLock { $0.count } }
}
