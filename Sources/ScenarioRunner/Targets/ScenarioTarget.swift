import PlantedDefects
import Scenarios

/// Where a scenario runs: which Kafka, and which ingress. Each side is a provider that says what
/// it can do; `ScenarioTarget.embedded` (module `EmbeddedIngressTarget`) is FakeKafka and the
/// reference ingress in this process.
public struct ScenarioTarget: Sendable {
    public var kafka: any KafkaTargetProvider
    public var ingress: any IngressTargetProvider

    public init(kafka: some KafkaTargetProvider, ingress: some IngressTargetProvider) {
        self.kafka = kafka
        self.ingress = ingress
    }

    /// Either side chosen at run time (`harness run`'s flags).
    public init(anyKafka kafka: any KafkaTargetProvider, ingress: any IngressTargetProvider) {
        self.kafka = kafka
        self.ingress = ingress
    }

    /// For the dry run and reports: "FakeKafka + the embedded ingress".
    public var name: String { "\(kafka.name) + \(ingress.name)" }

    /// The provider that would plant a defect of this component.
    public func canPlant(_ component: PlantedDefect.Component) -> Bool {
        switch component {
        case .broker: kafka.capabilities.contains(.plantedDefects)
        case .ingress: ingress.capabilities.contains(.plantedDefects)
        }
    }

    /// This target with exactly these defects planted, each in the provider of its component
    /// (the other defects of those providers removed); nil when a provider cannot plant them.
    public func planting(_ defects: Set<PlantedDefect>) -> ScenarioTarget? {
        guard let kafka = kafka.planting(defects.filter { $0.component == .broker }),
              let ingress = ingress.planting(defects.filter { $0.component == .ingress }) else { return nil }
        return ScenarioTarget(anyKafka: kafka, ingress: ingress)
    }
}

/// `.external(bootstrapServers:)` in a `ScenarioTarget`.
extension KafkaTargetProvider where Self == ExternalKafkaProvider {
    /// A Kafka cluster the harness did not start. Topics get a per-run suffix, since a real
    /// cluster keeps what earlier runs wrote; faults are unavailable.
    public static func external(bootstrapServers: String) -> ExternalKafkaProvider { ExternalKafkaProvider(bootstrapServers: bootstrapServers) }
}

/// `.remote(adminURL:kafkaCluster:advertisedHost:)` in a `ScenarioTarget`.
extension IngressTargetProvider where Self == RemoteIngressProvider {
    /// An external ingress (a real Restate server, `harness ingress`) at this admin URL, whose
    /// configuration names the scenario's Kafka as cluster `kafkaCluster`; it reaches the
    /// recorder (and FakeKafka, when that is the Kafka) at `advertisedHost`. `ingressURL`: its
    /// HTTP API, for `call` steps (nil: the admin URL's host on Restate's port 8080).
    public static func remote(adminURL: String, kafkaCluster: String, advertisedHost: String, ingressURL: String? = nil) -> RemoteIngressProvider {
        RemoteIngressProvider(adminURL: adminURL, kafkaCluster: kafkaCluster, advertisedHost: advertisedHost, ingressURL: ingressURL)
    }
}
