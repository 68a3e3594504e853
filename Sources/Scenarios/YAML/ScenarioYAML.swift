import Foundation
import Yams

/// Reads scenario files. The format (every key is optional unless marked):
///
/// ```yaml
/// name: per-key order                # required
/// cluster: {brokers: 1, partitions: 4}
/// topics: [{name: orders, partitions: 4}]
/// services:
///   - {name: Counter, kind: object, handlers: [{name: add, kind: exclusive, latency_ms: 2, fail_first_attempts: 0}]}
/// subscriptions: [{name: counter, topic: orders, sink: Counter/add, options: {"auto.offset.reset": earliest}}]
/// steps:
///   - produce: {topic: orders, count: 100, key: "user-{i % 10}", value: "{i}", headers: {h: v}, partition: 0, compression: zstd}
///   - produce: {topic: orders, key_hex: "c328"}          # raw key bytes (here not valid UTF-8)
///   - wait: {invocations: 100, subscription: counter, timeout_ms: 30000}
///   - wait: {group_members: 2, subscription: counter}     # members with partitions assigned
///   - delete: counter
///   - restart: ingress
///   - instances: 2                                       # ingress instances sharing the groups
///   - fault: {move_leader: {topic: orders, partition: 0, to: 1}}   # or rebalance: counter, stop_broker: 1, start_broker: 1
///   - sleep_ms: 100
/// expect:
///   - ordered_per_key: counter
///   - no_overlap_per_key: counter
///   - parallelism_at_least: {subscription: counter, count: 4}
///   - exactly_once: counter          # or at_least_once
///   - headers_match_records: counter
///   - deletion_honoured: counter
///   - invocation_count: {subscription: counter, count: 100}
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
        return try ScenarioParser(reader: YAMLNodeReader(file: file)).scenario(root)
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

private struct ScenarioParser {
    let reader: YAMLNodeReader

    func scenario(_ root: Node) throws -> Scenario {
        let fields = try reader.mapping(root, "scenario", allowed: ["name", "cluster", "topics", "services", "subscriptions", "steps", "expect"], required: ["name"])
        var scenario = Scenario(name: "", source: reader.location(root))
        for (key, value, _) in fields {
            switch key {
            case "name": scenario.name = try reader.string(value, "name")
            case "cluster": scenario.cluster = try cluster(value)
            case "topics": scenario.topics = try reader.sequence(value, "topics").map(topic)
            case "services": scenario.services = try reader.sequence(value, "services").map(service)
            case "subscriptions": scenario.subscriptions = try reader.sequence(value, "subscriptions").map(subscription)
            case "steps": scenario.steps = try reader.sequence(value, "steps").map { Located(try step($0), at: reader.location($0)) }
            case "expect": scenario.expectations = try reader.sequence(value, "expect").map { Located(try expectation($0), at: reader.location($0)) }
            default: break
            }
        }
        try checkReferences(scenario, root)
        return scenario
    }

    func cluster(_ node: Node) throws -> ClusterSpec {
        var spec = ClusterSpec()
        for (key, value, _) in try reader.mapping(node, "cluster", allowed: ["brokers", "partitions"]) {
            if key == "brokers" { spec.brokers = try reader.int(value, "cluster.brokers", min: 1) }
            if key == "partitions" { spec.partitions = Int32(try reader.int(value, "cluster.partitions", min: 1)) }
        }
        return spec
    }

    func topic(_ node: Node) throws -> TopicSpec {
        var spec = TopicSpec(name: "")
        for (key, value, _) in try reader.mapping(node, "topic", allowed: ["name", "partitions"], required: ["name"]) {
            if key == "name" { spec.name = try reader.string(value, "topic name") }
            if key == "partitions" { spec.partitions = Int32(try reader.int(value, "topic partitions", min: 1)) }
        }
        return spec
    }

    func service(_ node: Node) throws -> ServiceSpec {
        var spec = ServiceSpec(name: "", kind: .service, handlers: [])
        for (key, value, _) in try reader.mapping(node, "service", allowed: ["name", "kind", "handlers"], required: ["name", "kind", "handlers"]) {
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
        for (key, value, _) in try reader.mapping(node, "handler", allowed: ["name", "kind", "latency_ms", "fail_first_attempts"], required: ["name"]) {
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
        for (key, value, _) in try reader.mapping(node, "subscription", allowed: ["name", "topic", "sink", "options"], required: ["name", "topic", "sink"]) {
            switch key {
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

    func step(_ node: Node) throws -> Step {
        let fields = try reader.mapping(node, "step", allowed: ["produce", "wait", "delete", "restart", "instances", "fault", "sleep_ms"])
        guard fields.count == 1, let (key, value, _) = fields.first else {
            throw reader.fail(node, "a step has exactly one of: produce, wait, delete, restart, instances, fault, sleep_ms")
        }
        switch key {
        case "produce":
            var p = ProduceStep(topic: "")
            for (k, v, _) in try reader.mapping(value, "produce", allowed: ["topic", "count", "key", "key_hex", "value", "headers", "partition", "compression"], required: ["topic"]) {
                switch k {
                case "topic": p.topic = try reader.string(v, "produce.topic")
                case "count": p.count = try reader.int(v, "produce.count", min: 1)
                case "key": p.key = v.null != nil ? nil : try reader.string(v, "produce.key")
                case "value": p.value = try reader.string(v, "produce.value")
                case "headers": p.headers = try reader.stringMap(v, "produce.headers")
                case "key_hex":
                    let hex = try reader.string(v, "produce.key_hex")
                    guard hex.count % 2 == 0, hex.allSatisfy(\.isHexDigit) else { throw reader.fail(v, "produce.key_hex must be an even number of hex digits, found '\(hex)'") }
                    p.keyHex = hex
                case "compression":
                    p.compression = try reader.string(v, "produce.compression")
                    guard ["none", "gzip", "snappy", "lz4", "zstd"].contains(p.compression) else {
                        throw reader.fail(v, "produce.compression: '\(p.compression)' is not one of: none, gzip, snappy, lz4, zstd")
                    }
                default: p.partition = Int32(try reader.int(v, "produce.partition"))
                }
            }
            return .produce(p)
        case "wait":
            var count = 0, members: Int?, subscription: String?, timeout = 60_000
            for (k, v, _) in try reader.mapping(value, "wait", allowed: ["invocations", "group_members", "subscription", "timeout_ms"]) {
                switch k {
                case "invocations": count = try reader.int(v, "wait.invocations", min: 1)
                case "group_members": members = try reader.int(v, "wait.group_members", min: 0)
                case "subscription": subscription = try reader.string(v, "wait.subscription")
                default: timeout = try reader.int(v, "wait.timeout_ms", min: 1)
                }
            }
            if let members {
                guard count == 0, let subscription else { throw reader.fail(value, "wait: group_members needs a subscription and no invocations") }
                return .waitForGroupMembers(count: members, subscription: subscription, timeoutMs: timeout)
            }
            guard count > 0 else { throw reader.fail(value, "wait: missing 'invocations' (or 'group_members')") }
            return .waitForInvocations(count: count, subscription: subscription, timeoutMs: timeout)
        case "delete": return .deleteSubscription(try reader.string(value, "delete"))
        case "fault": return .fault(try fault(value))
        case "instances": return .ingressInstances(try reader.int(value, "instances", min: 1))
        case "restart":
            guard try reader.string(value, "restart") == "ingress" else { throw reader.fail(value, "restart: only 'ingress' can be restarted") }
            return .restartIngress
        default: return .sleep(ms: try reader.int(value, "sleep_ms"))
        }
    }

    func fault(_ node: Node) throws -> FaultStep {
        let fields = try reader.mapping(node, "fault", allowed: ["move_leader", "rebalance", "stop_broker", "start_broker"])
        guard fields.count == 1, let (key, value, _) = fields.first else {
            throw reader.fail(node, "a fault has exactly one of: move_leader, rebalance, stop_broker, start_broker")
        }
        switch key {
        case "move_leader":
            var topic = "", partition: Int32 = 0, to: Int32 = 0
            for (k, v, _) in try reader.mapping(value, "move_leader", allowed: ["topic", "partition", "to"], required: ["topic", "partition", "to"]) {
                switch k {
                case "topic": topic = try reader.string(v, "move_leader.topic")
                case "partition": partition = Int32(try reader.int(v, "move_leader.partition"))
                default: to = Int32(try reader.int(v, "move_leader.to"))
                }
            }
            return .moveLeader(topic: topic, partition: partition, toBroker: to)
        case "rebalance": return .rebalance(subscription: try reader.string(value, "rebalance"))
        case "stop_broker": return .stopBroker(Int32(try reader.int(value, "stop_broker")))
        default: return .startBroker(Int32(try reader.int(value, "start_broker")))
        }
    }

    func expectation(_ node: Node) throws -> Expectation {
        let kinds = ["ordered_per_key", "no_overlap_per_key", "parallelism_at_least", "exactly_once", "at_least_once",
                     "headers_match_records", "deletion_honoured", "invocation_count"]
        let fields = try reader.mapping(node, "expectation", allowed: kinds)
        guard fields.count == 1, let (key, value, _) = fields.first else { throw reader.fail(node, "an expectation has exactly one of: \(kinds.joined(separator: ", "))") }
        func counted(_ what: String) throws -> (String, Int) {
            var subscription = "", count = 0
            for (k, v, _) in try reader.mapping(value, what, allowed: ["subscription", "count"], required: ["subscription", "count"]) {
                if k == "subscription" { subscription = try reader.string(v, "\(what).subscription") } else { count = try reader.int(v, "\(what).count") }
            }
            return (subscription, count)
        }
        switch key {
        case "ordered_per_key": return .orderedPerKey(subscription: try reader.string(value, key))
        case "no_overlap_per_key": return .noOverlapPerKey(subscription: try reader.string(value, key))
        case "parallelism_at_least":
            let (s, n) = try counted(key)
            return .parallelismAtLeast(subscription: s, count: n)
        case "exactly_once": return .delivered(subscription: try reader.string(value, key), exactlyOnce: true)
        case "at_least_once": return .delivered(subscription: try reader.string(value, key), exactlyOnce: false)
        case "headers_match_records": return .headersMatchRecords(subscription: try reader.string(value, key))
        case "deletion_honoured": return .deletionHonoured(subscription: try reader.string(value, key))
        default:
            let (s, n) = try counted(key)
            return .invocationCount(subscription: s, count: n)
        }
    }

    /// Names used in steps and expectations must be declared; sinks must name declared services.
    func checkReferences(_ scenario: Scenario, _ root: Node) throws {
        let subscriptions = Set(scenario.subscriptions.map(\.name))
        if subscriptions.count != scenario.subscriptions.count {
            let names = scenario.subscriptions.map(\.name)
            let twice = Set(names.filter { name in names.filter { $0 == name }.count > 1 })
            throw ScenarioFileError(location: scenario.source, message: "subscription names must be unique; given more than once: \(twice.sorted().joined(separator: ", "))")
        }
        func check(_ name: String?, _ location: SourceLocation) throws {
            guard let name, !subscriptions.contains(name) else { return }
            throw ScenarioFileError(location: location, message: "unknown subscription '\(name)'; declared: \(subscriptions.sorted().joined(separator: ", "))")
        }
        for step in scenario.steps {
            switch step.value {
            case .waitForInvocations(_, let s, _): try check(s, step.location)
            case .waitForGroupMembers(_, let s, _): try check(s, step.location)
            case .deleteSubscription(let s), .fault(.rebalance(let s)): try check(s, step.location)
            default: break
            }
        }
        for e in scenario.expectations {
            try check(e.value.subscription, e.location)
        }
        for s in scenario.subscriptions {
            let parts = s.sink.split(separator: "/").map(String.init)
            guard let service = scenario.services.first(where: { $0.name == parts[0] }), service.handlers.contains(where: { $0.name == parts[1] }) else {
                throw ScenarioFileError(location: scenario.source, message: "subscription '\(s.name)': sink \(s.sink) names no declared service handler")
            }
        }
    }
}

extension Expectation {
    /// The subscription the expectation is about.
    public var subscription: String {
        switch self {
        case .orderedPerKey(let s), .noOverlapPerKey(let s), .headersMatchRecords(let s), .deletionHonoured(let s): s
        case .parallelismAtLeast(let s, _), .delivered(let s, _), .invocationCount(let s, _): s
        }
    }
}
