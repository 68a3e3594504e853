import Foundation
import KafkaProtocol
import Yams

/// Reads scenario files. The reference is docs/scenarios.md (and schema/scenario.schema.json);
/// in short (every key is optional unless marked):
///
/// ```yaml
/// name: per-key order                # required
/// cluster: {brokers: 1, partitions: 4}              # the default cluster; or several:
///                                    # registered_at_runtime: true: through POST /kafka-clusters, not the configuration
/// clusters: [{name: main, brokers: 1}, {name: eu, partitions: 2}]   # the first is the default
/// topics: [{name: orders, partitions: 4, cluster: eu}]
/// services:
///   - {name: Counter, kind: object, handlers: [{name: add, kind: exclusive, latency_ms: 2, fail_first_attempts: 0}]}
/// deployments:                       # services written with a Restate SDK; discovered, recorded
///   - {name: sdk, command: "python3 -m hypercorn app:app --bind 127.0.0.1:0", directory: services}
///   - {name: mine, url: "http://127.0.0.1:9080"}
/// subscriptions: [{name: counter, topic: orders, sink: Counter/add, options: {"auto.offset.reset": earliest}, cluster: eu}]
/// retry_policy: {initial_interval_ms: 20, exponentiation_factor: 2, max_interval_ms: 500, max_attempts: 70, on_max_attempts: pause}
///                                    # the embedded ingress's; Restate's default (500 ms … 60 s, 70, pause) when absent
/// steps:
///   - produce: {topic: orders, count: 100, key: "user-{i % 10}", value: "{i}", headers: {h: v}, partition: 0, compression: zstd}
///   - produce: {topic: orders, key_hex: "c328"}          # raw key bytes (here not valid UTF-8)
///   - produce: {topic: orders, value_json: {id: "{i}", n: 1}, timestamp: 1700000000000, cluster: eu}
///   - produce: {topic: orders, value_hex: "00ff"}        # raw value bytes
///   - produce: {topic: orders, count: 5, transaction: abort}  # one transaction, then aborted
///   - subscribe: counter                                 # created here instead of before the steps
///   - wait: {invocations: 100, subscription: counter, timeout_ms: 30000}
///   - wait: {group_members: 2, subscription: counter}     # members with partitions assigned
///   - wait: {committed: counter}                         # its group committed every record so far
///   - delete: counter
///   - restart: ingress
///   - instances: 2                                       # ingress instances sharing the groups
///   - fault: {move_leader: {topic: orders, partition: 0, to: 1}}   # or rebalance: counter, stop_broker: 1, start_broker: 1
///   - fault: {inject: {api: Fetch, error: NOT_LEADER_OR_FOLLOWER, times: 3, topic: orders, partition: 0, broker: 1}}
///   - fault: {inject: {api: OffsetCommit, delay_ms: 500, always: true}}     # or disconnect: true, drop_response: true; probability: 0.1
///   - fault: {clear_faults: true}                        # or drop_connections: all (or a broker id)
///   - fault: {move_coordinator: {subscription: counter, to: 1}}
///   - fault: {cap_version: {api: Fetch, max: 4}}         # max: none lifts the cap
///   - fault: {cluster: eu, stop_broker: 1}               # a fault on another cluster
///   - call: {handler: Counter/get, key: "user-1", output: 91, timeout_ms: 10000}   # through the ingress's HTTP API
///   - call: {workflow: Signup, key: "a", read: attach, output: "done"}   # or read: output
///   - sleep_ms: 100
/// expect:
///   - ordered_per_key: counter
///   - no_overlap_per_key: counter
///   - parallelism_at_least: {subscription: counter, count: 4}
///   - exactly_once: counter          # or at_least_once
///   - headers_match_records: counter
///   - deletion_honoured: counter
///   - invocation_count: {subscription: counter, count: 100}
///   - final_outputs: {subscription: counter, outputs: {user-1: "91"}}    # the last output per record key
///   - consumer_group: {group: my-group, members: 1, client_id: restate}   # or subscription: counter (its default group)
/// ```
public enum ScenarioYAML {
    public static func load(file: String) throws -> Scenario {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ScenarioFileError(location: SourceLocation(file: file, line: 0, column: 0), message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String = "<scenario>") throws -> Scenario {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioFileError(location: SourceLocation(file: file, line: 1, column: 1), message: "the file is empty; expected a scenario mapping")
            }
            root = node
        } catch let error as YamlError {
            throw ScenarioFileError(location: yamlErrorLocation(error, file: file), message: "not valid YAML: \(error)")
        }
        return try ScenarioParser(reader: YAMLNodeReader(file: file, text: text)).scenario(root)
    }

    private static func yamlErrorLocation(_ error: YamlError, file: String) -> SourceLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return SourceLocation(file: file, line: mark.line, column: mark.column)
        default:
            return SourceLocation(file: file, line: 0, column: 0)
        }
    }
}

struct ScenarioParser {
    let reader: YAMLNodeReader

    func scenario(_ root: Node) throws -> Scenario {
        let fields = try reader.mapping(root, "scenario", allowed: ScenarioGrammar.keys("scenario"), required: ["name"])
        if fields.contains(where: { $0.key == "cluster" }), let clusters = fields.first(where: { $0.key == "clusters" }) {
            throw reader.fail(clusters.keyNode, "give either 'cluster' (one) or 'clusters' (several), not both")
        }
        var scenario = Scenario(name: "", source: reader.location(root))
        for (key, value, _) in fields {
            switch key {
            case "name": scenario.name = try reader.string(value, "name")
            case "cluster": scenario.cluster = try cluster(value, named: false)
            case "clusters":
                let all = try reader.sequence(value, "clusters").map { try cluster($0, named: true) }
                guard let first = all.first else { throw reader.fail(value, "clusters: give at least one") }
                scenario.cluster = first
                scenario.additionalClusters = Array(all.dropFirst())
            case "topics": scenario.topics = try reader.sequence(value, "topics").map(topic)
            case "services": scenario.services = try reader.sequence(value, "services").map(service)
            case "deployments": scenario.deployments = try reader.sequence(value, "deployments").map(deployment)
            case "subscriptions": scenario.subscriptions = try reader.sequence(value, "subscriptions").map(subscription)
            case "retry_policy": scenario.retryPolicy = try retryPolicy(value)
            case "explore": scenario.explore = try explore(value)
            case "seed": scenario.seed = UInt64(try reader.int(value, "seed", min: 0))
            case "mutation":
                guard value.string == "none" else { throw reader.fail(value, "mutation: the only value is none (mutation: none  # why no planted defect is expected to be caught)") }
                guard let why = reader.comment(on: value) else {
                    throw reader.fail(value, "mutation: none needs a comment on its line saying why (mutation: none  # why)")
                }
                scenario.mutationExemption = why
            case "steps": scenario.steps = try reader.sequence(value, "steps").map { Located(try step($0), at: reader.location($0)) }
            case "expect": scenario.expectations = try reader.sequence(value, "expect").map { Located(try expectation($0), at: reader.location($0)) }
            default: break
            }
        }
        try scenario.checkReferences()
        return scenario
    }

    func retryPolicy(_ node: Node) throws -> RetryPolicySpec {
        var spec = RetryPolicySpec()
        for (key, value, _) in try reader.mapping(node, "retry_policy", allowed: ScenarioGrammar.keys("retry_policy"), required: []) {
            switch key {
            case "initial_interval_ms": spec.initialIntervalMs = try reader.int(value, "retry_policy.initial_interval_ms")
            case "exponentiation_factor":
                spec.exponentiationFactor = try reader.double(value, "retry_policy.exponentiation_factor")
                guard spec.exponentiationFactor >= 1 else { throw reader.fail(value, "retry_policy.exponentiation_factor must be at least 1") }
            case "max_interval_ms": spec.maxIntervalMs = try reader.int(value, "retry_policy.max_interval_ms")
            case "max_attempts":
                spec.maxAttempts = value.string == "unlimited" ? nil : try reader.int(value, "retry_policy.max_attempts (a number or unlimited)", min: 1)
            default: spec.onMaxAttempts = try reader.oneOf(value, "retry_policy.on_max_attempts", RetryPolicySpec.OnMaxAttempts.self)
            }
        }
        return spec
    }

    func explore(_ node: Node) throws -> ExploreSpec {
        var spec = ExploreSpec()
        for (key, value, _) in try reader.mapping(node, "explore", allowed: ScenarioGrammar.keys("explore"), required: ["runs", "seed"]) {
            switch key {
            case "runs": spec.runs = try reader.int(value, "explore.runs", min: 1)
            case "seed": spec.seed = UInt64(try reader.int(value, "explore.seed", min: 0))
            case "per_run": spec.perRun = try reader.int(value, "explore.per_run", min: 1)
            default:
                spec.faults = try reader.sequence(value, "explore.faults").map { try reader.oneOf($0, "explore.faults", ExploreSpec.FaultKind.self) }
                guard !spec.faults.isEmpty else { throw reader.fail(value, "explore.faults: name at least one of \(ExploreSpec.FaultKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            }
        }
        return spec
    }

    func cluster(_ node: Node, named: Bool) throws -> ClusterSpec {
        var spec = ClusterSpec()
        let allowed = ScenarioGrammar.keys(named ? "named_cluster" : "cluster")
        for (key, value, _) in try reader.mapping(node, "cluster", allowed: allowed, required: named ? ["name"] : []) {
            switch key {
            case "name": spec.name = try reader.string(value, "cluster.name")
            case "brokers": spec.brokers = try reader.int(value, "cluster.brokers", min: 1)
            case "sasl": spec.sasl = try sasl(value)
            case "security_protocol": spec.securityProtocol = try reader.oneOf(value, "cluster.security_protocol", SecurityProtocolSpec.self)
            case "registered_at_runtime": spec.registeredAtRuntime = try reader.bool(value, "cluster.registered_at_runtime")
            case "properties": spec.properties = try reader.stringMap(value, "cluster.properties")
            default: spec.partitions = Int32(try reader.int(value, "cluster.partitions", min: 1))
            }
        }
        if let declared = spec.securityProtocol, declared.usesSASL != (spec.sasl != nil) {
            throw reader.fail(node, declared.usesSASL
                ? "cluster: security_protocol \(declared.rawValue) needs a sasl block (mechanisms and users)"
                : "cluster: a sasl block needs security_protocol SASL_PLAINTEXT or SASL_SSL, not \(declared.rawValue)")
        }
        return spec
    }

    func sasl(_ node: Node) throws -> SASLSpec {
        var spec = SASLSpec(mechanisms: [], users: [:])
        let known = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
        var ingressUser: Node?
        for (key, value, _) in try reader.mapping(node, "sasl", allowed: ScenarioGrammar.keys("sasl"), required: ["mechanisms", "users"]) {
            if key == "ingress_user" {
                spec.ingressUser = try reader.string(value, "sasl.ingress_user")
                ingressUser = value
                continue
            }
            if key == "required_scope" {
                spec.requiredScope = try reader.sequence(value, "sasl.required_scope").map { try reader.string($0, "sasl.required_scope") }
                continue
            }
            if key == "ingress_scope" {
                spec.ingressScope = try reader.string(value, "sasl.ingress_scope")
                continue
            }
            if key == "users" {
                spec.users = try reader.stringMap(value, "sasl.users")
                guard !spec.users.isEmpty else { throw reader.fail(value, "sasl.users: give at least one, as name: password") }
                continue
            }
            for item in try reader.sequence(value, "sasl.mechanisms") {
                let name = try reader.string(item, "sasl.mechanisms")
                guard known.contains(name) else { throw reader.fail(item, "sasl.mechanisms: '\(name)' is not one of \(known.joined(separator: ", "))") }
                spec.mechanisms.append(name)
            }
        }
        if let node = ingressUser, let name = spec.ingressUser, spec.users[name] == nil {
            throw reader.fail(node, "sasl.ingress_user: '\(name)' is not one of the users (\(spec.users.keys.sorted().joined(separator: ", ")))")
        }
        return spec
    }

    func topic(_ node: Node) throws -> TopicSpec {
        var spec = TopicSpec(name: "")
        for (key, value, _) in try reader.mapping(node, "topic", allowed: ScenarioGrammar.keys("topic"), required: ["name"]) {
            switch key {
            case "name": spec.name = try reader.string(value, "topic name")
            case "cluster": spec.cluster = try reader.string(value, "topic cluster")
            case "configs": spec.configs.merge(try reader.stringMap(value, "topic configs")) { $1 }
            case "timestamp_type":
                // Kafka's message.timestamp.type: the producer's time, or the broker's on append.
                let types = ["create_time": "CreateTime", "log_append": "LogAppendTime"]
                let name = try reader.string(value, "topic timestamp_type")
                guard let type = types[name] else { throw reader.fail(value, "topic timestamp_type: '\(name)' is not one of: create_time, log_append") }
                spec.configs["message.timestamp.type"] = type
            default: spec.partitions = Int32(try reader.int(value, "topic partitions", min: 1))
            }
        }
        return spec
    }

    func service(_ node: Node) throws -> ServiceSpec {
        var spec = ServiceSpec(name: "", kind: .service, handlers: [])
        for (key, value, _) in try reader.mapping(node, "service", allowed: ScenarioGrammar.keys("service"), required: ["name", "kind", "handlers"]) {
            switch key {
            case "name": spec.name = try reader.string(value, "service name")
            case "kind": spec.kind = try reader.oneOf(value, "service kind", ServiceSpec.Kind.self)
            default: spec.handlers = try reader.sequence(value, "handlers").map(handler)
            }
        }
        return spec
    }

    func handler(_ node: Node) throws -> ServiceSpec.Handler {
        var spec = ServiceSpec.Handler(name: "")
        for (key, value, _) in try reader.mapping(node, "handler", allowed: ScenarioGrammar.keys("handler"), required: ["name"]) {
            switch key {
            case "name": spec.name = try reader.string(value, "handler name")
            case "kind": spec.kind = try reader.oneOf(value, "handler kind", ServiceSpec.Handler.Kind.self)
            case "latency_ms": spec.latencyMs = try reader.int(value, "latency_ms")
            default: spec.failFirstAttempts = try reader.int(value, "fail_first_attempts")
            }
        }
        return spec
    }

    func subscription(_ node: Node) throws -> SubscriptionSpec {
        var spec = SubscriptionSpec(name: "", topic: "", sink: "")
        for (key, value, _) in try reader.mapping(node, "subscription", allowed: ScenarioGrammar.keys("subscription"), required: ["name", "topic", "sink"]) {
            switch key {
            case "cluster": spec.cluster = try reader.string(value, "subscription cluster")
            case "name": spec.name = try reader.string(value, "subscription name")
            case "topic": spec.topic = try reader.string(value, "subscription topic")
            case "sink":
                spec.sink = try reader.string(value, "sink")
                guard spec.sink.split(separator: "/").count == 2 else { throw reader.fail(value, "sink must be Service/handler, found '\(spec.sink)'") }
            default: spec.options = try reader.stringMap(value, "options")
            }
        }
        return spec
    }
}

extension Expectation {
    /// The subscription the expectation is about, if one.
    public var subscription: String? {
        switch self {
        case .orderedPerKey(let s), .noOverlapPerKey(let s), .headersMatchRecords(let s), .deletionHonoured(let s): s
        case .parallelismAtLeast(let s, _), .delivered(let s, _), .invocationCount(let s, _, _), .finalOutputs(let s, _): s
        case .consumerGroup(let g): g.subscription
        case .orderedPerPartition(let s), .headers(let s, _), .neverInvoked(let s, _), .committedOffsets(let s, _), .objectKey(let s, _): s
        case .metric: nil
        }
    }
}
