import Foundation
import KafkaProtocol
import Yams

extension ScenarioParser {
    func step(_ node: Node) throws -> Step {
        let kinds = ScenarioGrammar.keys("step")
        let fields = try reader.mapping(node, "step", allowed: kinds)
        guard fields.count == 1, let (key, value, _) = fields.first else {
            throw reader.fail(node, "a step has exactly one of: \(kinds.joined(separator: ", "))")
        }
        switch key {
        case "produce":
            var p = ProduceStep(topic: "")
            let produceFields = try reader.mapping(value, "produce", allowed: ScenarioGrammar.keys("produce"), required: ["topic"])
            let values = produceFields.filter { $0.key.hasPrefix("value") }
            if values.count > 1 { throw reader.fail(values[1].keyNode, "produce: give one of value, value_json, value_hex, value_file") }
            if produceFields.contains(where: { $0.key == "key" }), let hex = produceFields.first(where: { $0.key == "key_hex" }) {
                throw reader.fail(hex.keyNode, "produce: give key or key_hex, not both")
            }
            for (k, v, _) in produceFields {
                switch k {
                case "cluster": p.cluster = try reader.string(v, "produce.cluster")
                case "transaction": p.transaction = try reader.oneOf(v, "produce.transaction", TransactionOutcome.self)
                case "via": p.via = try reader.oneOf(v, "produce.via", ProduceVia.self)
                case "expect_error": p.expectError = try kafkaErrorName(v, "produce.expect_error", localAllowed: true)
                case "eventually": p.eventually = try reader.bool(v, "produce.eventually")
                case "label": p.label = try reader.string(v, "produce.label")
                case "timestamp":
                    // Kafka's "no timestamp" is -1 on the wire; written `none` here.
                    p.timestamp = v.string == "none" ? -1 : Int64(try reader.int(v, "produce.timestamp (epoch milliseconds, or none)", min: 0))
                case "value_json": p.value = try reader.json(v, "produce.value_json")
                case "value_hex": p.valueHex = try hex(v, "produce.value_hex")
                case "value_file": p.valueHex = try valueFile(v)
                case "topic": p.topic = try reader.string(v, "produce.topic")
                case "count": p.count = try reader.int(v, "produce.count", min: 1)
                case "key": p.key = v.null != nil ? nil : try template(v, "produce.key")
                case "value": p.value = v.null != nil ? nil : try template(v, "produce.value")
                case "headers": p.headers = try reader.stringMap(v, "produce.headers")
                case "key_hex": p.keyHex = try hex(v, "produce.key_hex")
                case "compression":
                    let name = try reader.string(v, "produce.compression")
                    guard let codec = CompressionCodec.allCases.first(where: { $0.description == name }) else {
                        throw reader.fail(v, "produce.compression: '\(name)' is not one of: \(CompressionCodec.allCases.map(\.description).joined(separator: ", "))")
                    }
                    p.compression = codec
                default: p.partition = Int32(try reader.int(v, "produce.partition"))
                }
            }
            if p.eventually && p.expectError != nil { throw reader.fail(value, "produce: eventually (retry until delivered) and expect_error contradict each other") }
            if p.via == .log && (p.transaction != nil || p.expectError != nil || p.eventually) {
                throw reader.fail(value, "produce: via: log appends directly to FakeKafka's log; transaction, expect_error and eventually need the producer")
            }
            return .produce(p)
        case "wait":
            var count = 0, members: Int?, subscription: String?, committed: String?, timeout = 60_000
            for (k, v, _) in try reader.mapping(value, "wait", allowed: ScenarioGrammar.keys("wait")) {
                switch k {
                case "invocations": count = try reader.int(v, "wait.invocations", min: 1)
                case "committed": committed = try reader.string(v, "wait.committed")
                case "group_members": members = try reader.int(v, "wait.group_members", min: 0)
                case "subscription": subscription = try reader.string(v, "wait.subscription")
                default: timeout = try reader.int(v, "wait.timeout_ms", min: 1)
                }
            }
            if let committed {
                guard count == 0, members == nil, subscription == nil else { throw reader.fail(value, "wait: committed names its subscription and goes alone (with timeout_ms)") }
                return .waitForCommitted(subscription: committed, timeoutMs: timeout)
            }
            if let members {
                guard count == 0, let subscription else { throw reader.fail(value, "wait: group_members needs a subscription and no invocations") }
                return .waitForGroupMembers(count: members, subscription: subscription, timeoutMs: timeout)
            }
            guard count > 0 else { throw reader.fail(value, "wait: missing 'invocations' (or 'group_members', 'committed')") }
            return .waitForInvocations(count: count, subscription: subscription, timeoutMs: timeout)
        case "subscribe": return .subscribe(try reader.string(value, "subscribe"))
        case "delete": return .deleteSubscription(try reader.string(value, "delete"))
        case "fault": return .fault(try fault(value))
        case "instances": return .ingressInstances(try reader.int(value, "instances", min: 1))
        case "call": return .call(try call(value))
        case "add_partitions":
            var topic = "", count: Int32 = 0, cluster: String?
            for (k, v, _) in try reader.mapping(value, "add_partitions", allowed: ScenarioGrammar.keys("add_partitions"), required: ["topic", "count"]) {
                switch k {
                case "topic": topic = try reader.string(v, "add_partitions.topic")
                case "count": count = Int32(try reader.int(v, "add_partitions.count (the new total)", min: 2))
                default: cluster = try reader.string(v, "add_partitions.cluster")
                }
            }
            return .addPartitions(topic: topic, count: count, cluster: cluster)
        case "restart":
            if value.mapping != nil {
                let fields = try reader.mapping(value, "restart", allowed: ["ingress"], required: ["ingress"])
                let how = try reader.string(fields[0].value, "restart.ingress")
                switch how {
                case "graceful": return .restartIngress
                case "kill": return .killIngress
                default: throw reader.fail(fields[0].value, "restart.ingress: '\(how)' is not one of: graceful, kill")
                }
            }
            guard try reader.string(value, "restart") == "ingress" else { throw reader.fail(value, "restart: only 'ingress' can be restarted (or {ingress: kill})") }
            return .restartIngress
        case "admin": return .admin(try admin(value))
        case "patch_cluster":
            var name = "", properties: [String: String] = [:]
            for (k, v, _) in try reader.mapping(value, "patch_cluster", allowed: ScenarioGrammar.keys("patch_cluster"), required: ["name", "properties"]) {
                if k == "name" { name = try reader.string(v, "patch_cluster.name") } else { properties = try reader.stringMap(v, "patch_cluster.properties") }
            }
            let body = try JSONSerialization.data(withJSONObject: ["properties": properties], options: [.sortedKeys])
            return .admin(AdminStep(method: "PATCH", path: "/kafka-clusters/\(name)", body: String(decoding: body, as: UTF8.self), status: 200))
        case "remove_deployment":
            let name = try reader.string(value, "remove_deployment")
            return .admin(AdminStep(method: "DELETE", path: "/deployments/{deployment:\(name)}?force=true", status: nil))
        case "register_deployment":
            let name = try reader.string(value, "register_deployment")
            let uri = name == "recorder" ? "{recorder}" : "{recorder}/deployments/\(name)"
            return .admin(AdminStep(method: "POST", path: "/deployments", body: #"{"uri": "\#(uri)", "use_http_11": true, "force": true}"#, status: nil))
        default: return .sleep(ms: try reader.int(value, "sleep_ms"))
        }
    }

    /// A key or value template, refused when a `{i …}` placeholder cannot be rendered.
    func template(_ node: Node, _ what: String) throws -> String {
        let text = try reader.string(node, what)
        if let problem = Template.problem(text) { throw reader.fail(node, "\(what): \(problem)") }
        return text
    }

    /// Kafka's name for an error (NOT_LEADER_OR_FOLLOWER), or with `localAllowed` librdkafka's
    /// for a local one (_MSG_TIMED_OUT, _TRANSPORT).
    func kafkaErrorName(_ node: Node, _ what: String, localAllowed: Bool) throws -> String {
        let name = try reader.string(node, what)
        if localAllowed, name.hasPrefix("_"), name.count > 1 { return name }
        guard (-1...200).lazy.compactMap({ KafkaErrorCode(rawValue: Int16($0)) }).contains(where: { $0.name == name }) else {
            throw reader.fail(node, "\(what): '\(name)' is not a Kafka error name (e.g. NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT"
                              + (localAllowed ? ", or librdkafka's local _MSG_TIMED_OUT)" : ")"))
        }
        return name
    }

    func admin(_ node: Node) throws -> AdminStep {
        var step = AdminStep(method: "GET", path: "")
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        for (k, v, _) in try reader.mapping(node, "admin", allowed: ScenarioGrammar.keys("admin"), required: ["method", "path"]) {
            switch k {
            case "method":
                step.method = try reader.string(v, "admin.method").uppercased()
                guard methods.contains(step.method) else { throw reader.fail(v, "admin.method: '\(step.method)' is not one of: \(methods.joined(separator: ", "))") }
            case "path":
                step.path = try reader.string(v, "admin.path")
                guard step.path.hasPrefix("/") else { throw reader.fail(v, "admin.path must start with '/', found '\(step.path)'") }
            case "body": step.body = try reader.json(v, "admin.body")
            case "status": step.status = try reader.int(v, "admin.status", min: 100)
            default: step.expectBody = try reader.json(v, "admin.expect")
            }
        }
        return step
    }

    /// A value kept in a file next to the scenario (relative paths are the scenario file's).
    func valueFile(_ node: Node) throws -> String {
        let path = try reader.string(node, "produce.value_file")
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: reader.file).deletingLastPathComponent().appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw reader.fail(node, "produce.value_file: cannot read \(url.path)")
        }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    func hex(_ node: Node, _ what: String) throws -> String {
        let hex = try reader.string(node, what)
        guard hex.count % 2 == 0, hex.allSatisfy(\.isHexDigit) else { throw reader.fail(node, "\(what) must be an even number of hex digits, found '\(hex)'") }
        return hex
    }

    func fault(_ node: Node) throws -> FaultStep {
        let kinds = ScenarioGrammar.keys("fault").filter { $0 != "cluster" }
        let fields = try reader.mapping(node, "fault", allowed: ScenarioGrammar.keys("fault"))
        let chosen = fields.filter { $0.key != "cluster" }
        guard chosen.count == 1, let (key, value, _) = chosen.first else {
            throw reader.fail(node, "a fault has exactly one of: \(kinds.joined(separator: ", ")) (and optionally cluster)")
        }
        let fault: FaultStep
        switch key {
        case "move_leader":
            var topic = "", partition: Int32 = 0, to: Int32 = 0
            for (k, v, _) in try reader.mapping(value, "move_leader", allowed: ScenarioGrammar.keys("move_leader"), required: ["topic", "partition", "to"]) {
                switch k {
                case "topic": topic = try reader.string(v, "move_leader.topic")
                case "partition": partition = Int32(try reader.int(v, "move_leader.partition"))
                default: to = Int32(try reader.int(v, "move_leader.to"))
                }
            }
            fault = .moveLeader(topic: topic, partition: partition, toBroker: to)
        case "rebalance": fault = .rebalance(subscription: try reader.string(value, "rebalance"))
        case "stop_broker": fault = .stopBroker(Int32(try reader.int(value, "stop_broker")))
        case "start_broker": fault = .startBroker(Int32(try reader.int(value, "start_broker")))
        case "inject": fault = .inject(try injected(value))
        case "clear_faults":
            guard try reader.bool(value, "clear_faults") else { throw reader.fail(value, "clear_faults: only 'true' means something") }
            fault = .clearFaults
        case "drop_connections":
            fault = .dropConnections(broker: try reader.string(value, "drop_connections") == "all" ? nil : Int32(try reader.int(value, "drop_connections (a broker id or all)")))
        case "move_coordinator":
            var subscription = "", to: Int32 = 0
            for (k, v, _) in try reader.mapping(value, "move_coordinator", allowed: ScenarioGrammar.keys("move_coordinator"), required: ["subscription", "to"]) {
                if k == "subscription" { subscription = try reader.string(v, "move_coordinator.subscription") } else { to = Int32(try reader.int(v, "move_coordinator.to")) }
            }
            fault = .moveCoordinator(subscription: subscription, toBroker: to)
        default:
            var api = ApiKey.fetch, max: Int16?
            for (k, v, _) in try reader.mapping(value, "cap_version", allowed: ScenarioGrammar.keys("cap_version"), required: ["api", "max"]) {
                if k == "api" { api = try apiKey(v, "cap_version.api") } else {
                    max = try reader.string(v, "cap_version.max") == "none" ? nil : Int16(try reader.int(v, "cap_version.max"))
                }
            }
            fault = .capVersion(api: api, max: max)
        }
        guard let cluster = fields.first(where: { $0.key == "cluster" }) else { return fault }
        return .onCluster(try reader.string(cluster.value, "fault.cluster"), fault)
    }

    func injected(_ node: Node) throws -> InjectedFault {
        let actions = ["error", "delay_ms", "disconnect", "drop_response"], frequencies = ["times", "always", "probability"]
        let fields = try reader.mapping(node, "inject", allowed: ScenarioGrammar.keys("inject"), required: ["api"])
        let chosenActions = fields.filter { actions.contains($0.key) }
        guard chosenActions.count == 1 else { throw reader.fail(node, "inject: give exactly one of: \(actions.joined(separator: ", "))") }
        if fields.filter({ frequencies.contains($0.key) }).count > 1 { throw reader.fail(node, "inject: give at most one of: \(frequencies.joined(separator: ", "))") }
        if fields.contains(where: { $0.key == "topic" }) != fields.contains(where: { $0.key == "partition" }) {
            throw reader.fail(node, "inject: topic and partition go together (a fault on one partition)")
        }
        var fault = InjectedFault(api: .fetch, action: .disconnect)
        for (k, v, _) in fields {
            switch k {
            case "api": fault.api = try apiKey(v, "inject.api")
            case "topic": fault.topic = try reader.string(v, "inject.topic")
            case "partition": fault.partition = Int32(try reader.int(v, "inject.partition"))
            case "broker": fault.broker = Int32(try reader.int(v, "inject.broker"))
            case "error":
                let name = try reader.string(v, "inject.error")
                guard let code = (-1...200).lazy.compactMap({ KafkaErrorCode(rawValue: Int16($0)) }).first(where: { $0.name == name }) else {
                    throw reader.fail(v, "inject.error: '\(name)' is not a Kafka error name (e.g. NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT)")
                }
                fault.action = .error(code)
            case "delay_ms": fault.action = .delayMs(try reader.int(v, "inject.delay_ms", min: 1))
            case "disconnect", "drop_response":
                guard try reader.bool(v, "inject.\(k)") else { throw reader.fail(v, "inject.\(k): only 'true' means something") }
                fault.action = k == "disconnect" ? .disconnect : .dropResponse
            case "times": fault.frequency = .times(try reader.int(v, "inject.times", min: 1))
            case "always":
                guard try reader.bool(v, "inject.always") else { throw reader.fail(v, "inject.always: only 'true' means something") }
                fault.frequency = .always
            default:
                let p = try reader.double(v, "inject.probability")
                guard (0...1).contains(p) else { throw reader.fail(v, "inject.probability must be between 0 and 1, found \(p)") }
                fault.frequency = .probability(p)
            }
        }
        return fault
    }

    func apiKey(_ node: Node, _ what: String) throws -> ApiKey {
        let name = try reader.string(node, what)
        guard let key = ApiKey.allCases.first(where: { $0.description == name }) else {
            throw reader.fail(node, "\(what): '\(name)' is not a Kafka API; expected one of: \(ApiKey.allCases.map(\.description).joined(separator: ", "))")
        }
        return key
    }
}
