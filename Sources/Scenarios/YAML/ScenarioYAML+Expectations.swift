import Foundation
import Yams

extension ScenarioParser {
    func expectation(_ node: Node) throws -> Expectation {
        let kinds = ScenarioGrammar.keys("expectation")
        let fields = try reader.mapping(node, "expectation", allowed: kinds)
        guard fields.count == 1, let (key, value, _) = fields.first else { throw reader.fail(node, "an expectation has exactly one of: \(kinds.joined(separator: ", "))") }
        func counted(_ what: String) throws -> (String, Int) {
            var subscription = "", count = 0
            for (k, v, _) in try reader.mapping(value, what, allowed: ScenarioGrammar.keys("counted_expectation"), required: ["subscription", "count"]) {
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
        case "final_outputs":
            var subscription = "", outputs: [String: String] = [:]
            for (k, v, _) in try reader.mapping(value, key, allowed: ScenarioGrammar.keys("final_outputs"), required: ["subscription", "outputs"]) {
                if k == "subscription" { subscription = try reader.string(v, "final_outputs.subscription") } else { outputs = try reader.stringMap(v, "final_outputs.outputs") }
            }
            return .finalOutputs(subscription: subscription, outputs: outputs)
        case "consumer_group":
            var e = ConsumerGroupExpectation()
            let fields = try reader.mapping(value, key, allowed: ScenarioGrammar.keys("consumer_group"))
            for (k, v, _) in fields {
                switch k {
                case "group": e.group = try reader.string(v, "consumer_group.group")
                case "subscription": e.subscription = try reader.string(v, "consumer_group.subscription")
                case "members": e.members = try reader.int(v, "consumer_group.members")
                case "client_id": e.clientID = try reader.string(v, "consumer_group.client_id")
                default: e.cluster = try reader.string(v, "consumer_group.cluster")
                }
            }
            guard (e.group == nil) != (e.subscription == nil) else { throw reader.fail(value, "consumer_group: give group or subscription (one of them)") }
            return .consumerGroup(e)
        case "ordered_per_partition": return .orderedPerPartition(subscription: try reader.string(value, key))
        case "headers":
            var subscription = "", rules: [HeaderRule] = []
            for (k, v, _) in try reader.mapping(value, key, allowed: ScenarioGrammar.keys("headers"), required: ["subscription", "match"]) {
                if k == "subscription" { subscription = try reader.string(v, "headers.subscription"); continue }
                for (name, condition, _) in try reader.entries(v, "headers.match") {
                    let text = try reader.string(condition, "headers.match.\(name)")
                    switch text {
                    case "present": rules.append(HeaderRule(name, .present))
                    case "absent": rules.append(HeaderRule(name, .absent))
                    default:
                        if let problem = HeaderTemplate.problem(text) { throw reader.fail(condition, "headers.match.\(name): \(problem)") }
                        rules.append(HeaderRule(name, .equals(text)))
                    }
                }
                guard !rules.isEmpty else { throw reader.fail(v, "headers.match: name at least one header, as name: present | absent | a template such as \"{key}\"") }
            }
            return .headers(subscription: subscription, rules: rules)
        case "never_invoked":
            if value.mapping == nil { return .neverInvoked(subscription: try reader.string(value, key), label: nil) }
            var subscription = "", label: String?
            for (k, v, _) in try reader.mapping(value, key, allowed: ScenarioGrammar.keys("never_invoked"), required: ["subscription"]) {
                if k == "subscription" { subscription = try reader.string(v, "never_invoked.subscription") } else { label = try reader.string(v, "never_invoked.label") }
            }
            return .neverInvoked(subscription: subscription, label: label)
        case "committed_offsets":
            if value.mapping == nil { return .committedOffsets(subscription: try reader.string(value, key), offsets: nil) }
            var subscription = "", offsets: [Int32: Int64]?
            for (k, v, _) in try reader.mapping(value, key, allowed: ScenarioGrammar.keys("committed_offsets"), required: ["subscription"]) {
                if k == "subscription" { subscription = try reader.string(v, "committed_offsets.subscription"); continue }
                var given: [Int32: Int64] = [:]
                for (partition, offset, keyNode) in try reader.entries(v, "committed_offsets.offsets") {
                    guard let p = Int32(partition), p >= 0 else { throw reader.fail(keyNode, "committed_offsets.offsets: '\(partition)' is not a partition number") }
                    given[p] = Int64(try reader.int(offset, "committed_offsets.offsets.\(partition)", min: 0))
                }
                offsets = given
            }
            return .committedOffsets(subscription: subscription, offsets: offsets)
        case "object_key":
            var subscription = "", template = ""
            for (k, v, _) in try reader.mapping(value, key, allowed: ScenarioGrammar.keys("object_key"), required: ["subscription", "key"]) {
                if k == "subscription" { subscription = try reader.string(v, "object_key.subscription"); continue }
                template = try reader.string(v, "object_key.key")
                if let problem = HeaderTemplate.problem(template) { throw reader.fail(v, "object_key.key: \(problem)") }
            }
            return .objectKey(subscription: subscription, template: template)
        case "metric":
            var m = MetricExpectation(name: "", value: 0)
            let fields = try reader.mapping(value, key, allowed: ScenarioGrammar.keys("metric"), required: ["name"])
            let bounds = fields.filter { ["value", "at_most", "at_least"].contains($0.key) }
            guard bounds.count == 1 else { throw reader.fail(value, "metric: give exactly one of value, at_most, at_least") }
            for (k, v, _) in fields {
                switch k {
                case "name": m.name = try reader.string(v, "metric.name")
                case "labels": m.labels = try reader.stringMap(v, "metric.labels")
                default:
                    m.value = try reader.double(v, "metric.\(k)")
                    m.bound = k == "value" ? .exactly : CountBound(rawValue: k)!
                }
            }
            return .metric(m)
        default:
            var subscription = "", count = 0, bound = CountBound.exactly
            let fields = try reader.mapping(value, key, allowed: ScenarioGrammar.keys("invocation_count"), required: ["subscription"])
            let bounds = fields.filter { ["count", "at_most", "at_least"].contains($0.key) }
            guard bounds.count == 1 else { throw reader.fail(value, "invocation_count: give exactly one of count, at_most, at_least") }
            for (k, v, _) in fields {
                if k == "subscription" { subscription = try reader.string(v, "invocation_count.subscription"); continue }
                count = try reader.int(v, "invocation_count.\(k)", min: 0)
                bound = k == "count" ? .exactly : CountBound(rawValue: k)!
            }
            return .invocationCount(subscription: subscription, count: count, bound: bound)
        }
    }
}
