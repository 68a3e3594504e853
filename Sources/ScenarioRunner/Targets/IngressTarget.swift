import PlantedDefects
import Scenarios

/// What an ingress target can do beyond the admin API every Restate-compatible ingress has. The
/// runner asks for these instead of looking at what the target is, and skips a scenario that
/// needs more.
public struct IngressCapabilities: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A graceful restart (`restart: ingress`).
    public static let restart = IngressCapabilities(rawValue: 1 << 0)
    /// A crash: no drain, in-flight work lost (`restart: {ingress: kill}`).
    public static let kill = IngressCapabilities(rawValue: 1 << 1)
    /// Several instances in the subscriptions' groups (`instances: N`).
    public static let nodes = IngressCapabilities(rawValue: 1 << 2)
    /// Configured with more than one Kafka cluster.
    public static let multipleClusters = IngressCapabilities(rawValue: 1 << 3)
    /// Its cluster configuration is written per run: a generated CA (`ssl.ca.location`) and the
    /// ingress's own SASL user can go into it.
    public static let perRunClusterConfiguration = IngressCapabilities(rawValue: 1 << 4)
    /// Says when what it ingested has finished, and how many invocations of a subscription have not.
    public static let idleTracking = IngressCapabilities(rawValue: 1 << 5)
    /// Ingress defects can be planted (for proving scenarios catch them).
    public static let plantedDefects = IngressCapabilities(rawValue: 1 << 6)
}

/// A Kafka cluster as the ingress's configuration names it when it starts.
public struct ClusterConnection: Sendable {
    public var bootstrapServers: String
    /// What a Restate user would write in the cluster's entry of restate.toml: security.protocol, ssl.*, sasl.*.
    public var properties: [String: String]

    public init(bootstrapServers: String, properties: [String: String]) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }
}

/// Where the ingress under test comes from. The reference ingress plugs in from the
/// `EmbeddedIngressTarget` module; `.remote` is any ingress with Restate's admin API.
public protocol IngressTargetProvider: Sendable {
    var capabilities: IngressCapabilities { get }
    /// For messages: "the embedded ingress", "the ingress at http://…".
    var name: String { get }
    /// The host the ingress reaches the harness's servers (recorder, FakeKafka) at.
    var advertisedHost: String { get }
    /// Starts (or connects to) the ingress. `clusters`: the scenario's clusters that its
    /// configuration names (by scenario name), not those registered at run time.
    func start(_ scenario: Scenario, clusters: [String: ClusterConnection]) async throws -> any IngressTarget
    /// The same provider with these ingress defects planted (and no others), or nil when it
    /// cannot plant them (no `.plantedDefects`).
    func planting(_ defects: Set<PlantedDefect>) -> (any IngressTargetProvider)?
}

extension IngressTargetProvider {
    public func planting(_ defects: Set<PlantedDefect>) -> (any IngressTargetProvider)? { defects.isEmpty ? self : nil }
}

/// The ingress a scenario exercises, through a Restate-style admin API; what only some ingresses
/// can do is behind `IngressTargetProvider.capabilities`.
public protocol IngressTarget: Sendable {
    /// Registers a deployment (the recorder, or the recorder's pass-through to a real one).
    func registerDeployment(url: String) async throws
    /// Registers a Kafka cluster at run time (`POST /kafka-clusters`), as Restate's own Kafka
    /// tests do, instead of naming it in the configuration.
    func registerKafkaCluster(name: String, bootstrapServers: String, properties: [String: String]) async throws
    /// The base URL of the admin API (Restate's port 9070), for `admin` steps.
    func adminURL() async throws -> String
    /// The base URL of the ingress's HTTP API (Restate's port 8080), for `call` steps.
    func httpIngressURL() async throws -> String
    /// Creates a subscription of the topic of a cluster (by scenario name) to `Service/handler`; returns its id.
    func subscribe(cluster: String, topic: String, sink: String, options: [String: String]) async throws -> String
    func delete(subscription id: String) async throws
    /// Needs `.restart` (graceful) or `.kill` (a crash: nothing drained, in-flight work lost).
    func restart(kill: Bool) async throws
    /// Needs `.nodes`: runs this many instances in the subscriptions' groups.
    func setNodes(_ count: Int) async throws
    /// Waits (bounded) until what was ingested has finished, where the ingress can tell.
    func settle() async
    /// Invocations of a subscription that have not completed, where the ingress can tell.
    func unfinished(subscription id: String) async throws -> Int?
    func shutdown() async
}
