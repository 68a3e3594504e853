import KafkaProtocol

extension FaultStep {
    /// The step's flow-style YAML, as a scenario file writes it.
    public var yaml: String {
        switch self {
        case .rebalance(let s): "{rebalance: \(s)}"
        case .moveLeader(let t, let p, let b): "{move_leader: {topic: \(t), partition: \(p), to: \(b)}}"
        case .stopBroker(let b): "{stop_broker: \(b)}"
        case .startBroker(let b): "{start_broker: \(b)}"
        case .inject(let f):
            { () -> String in
                let action = switch f.action {
                case .dropResponse: "drop_response: true"
                case .disconnect: "disconnect: true"
                case .delayMs(let ms): "delay_ms: \(ms)"
                case .error(let code): "error: \(code.name)"
                }
                let frequency = switch f.frequency {
                case .times(let n): "times: \(n)"
                case .always: "always: true"
                case .probability(let p): "probability: \(p)"
                }
                return "{inject: {api: \(f.api), \(action), \(frequency)}}"
            }()
        case .clearFaults: "{clear_faults: true}"
        case .dropConnections(let b): "{drop_connections: \(b.map(String.init) ?? "all")}"
        case .moveCoordinator(let s, let b): "{move_coordinator: {subscription: \(s), to: \(b)}}"
        case .capVersion(let api, let max): "{cap_version: {api: \(api), max: \(max.map(String.init) ?? "none")}}"
        case .onCluster(let c, let inner): String(inner.yaml.dropLast()) + ", cluster: \(c)}"
        }
    }
}

