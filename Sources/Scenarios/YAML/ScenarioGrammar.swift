/// The keys of every mapping a scenario file may contain, by the name the parser and the JSON
/// Schema (`schema/scenario.schema.json`, one `$defs` entry per name) give it. The parser takes
/// its allowed keys from here, and a test compares this table with the schema both ways, so the
/// editor's completion and the parser cannot drift apart.
public enum ScenarioGrammar {
    public static let mappings: [String: [String]] = [
        "scenario": ["name", "cluster", "clusters", "topics", "services", "deployments", "subscriptions", "retry_policy", "explore", "seed", "mutation", "steps", "expect"],
        "explore": ["runs", "seed", "faults", "per_run"],
        "cluster": ["brokers", "partitions", "security_protocol", "sasl", "registered_at_runtime", "properties"],
        "named_cluster": ["name", "brokers", "partitions", "security_protocol", "sasl", "registered_at_runtime", "properties"],
        "sasl": ["mechanisms", "users", "ingress_user", "required_scope", "ingress_scope"],
        "retry_policy": ["initial_interval_ms", "exponentiation_factor", "max_interval_ms", "max_attempts", "on_max_attempts"],
        "topic": ["name", "partitions", "cluster", "timestamp_type", "configs"],
        "service": ["name", "kind", "handlers"],
        "handler": ["name", "kind", "latency_ms", "fail_first_attempts"],
        "subscription": ["name", "topic", "sink", "options", "cluster"],
        "step": ["produce", "wait", "subscribe", "delete", "restart", "instances", "add_partitions", "fault", "call", "admin", "patch_cluster",
                 "remove_deployment", "register_deployment", "sleep_ms"],
        "admin": ["method", "path", "body", "status", "expect"],
        "patch_cluster": ["name", "properties"],
        "add_partitions": ["topic", "count", "cluster"],
        "deployment": ["name", "url", "command", "directory", "ready", "environment"],
        "call": ["handler", "workflow", "read", "key", "input", "status", "output", "timeout_ms"],
        "produce": ["topic", "count", "key", "key_hex", "value", "value_json", "value_hex", "value_file", "headers", "partition", "compression", "timestamp", "cluster", "transaction",
                    "via", "expect_error", "eventually", "label"],
        "wait": ["invocations", "group_members", "committed", "subscription", "timeout_ms"],
        "fault": ["move_leader", "rebalance", "stop_broker", "start_broker", "inject", "clear_faults", "drop_connections", "move_coordinator",
                  "cap_version", "cluster"],
        "move_leader": ["topic", "partition", "to"],
        "move_coordinator": ["subscription", "to"],
        "cap_version": ["api", "max"],
        "inject": ["api", "topic", "partition", "broker", "error", "delay_ms", "disconnect", "drop_response", "times", "always", "probability"],
        "expectation": ["ordered_per_key", "no_overlap_per_key", "parallelism_at_least", "exactly_once", "at_least_once",
                        "headers_match_records", "deletion_honoured", "invocation_count", "consumer_group", "final_outputs",
                        "ordered_per_partition", "headers", "never_invoked", "committed_offsets", "object_key", "metric"],
        "counted_expectation": ["subscription", "count"],
        "invocation_count": ["subscription", "count", "at_most", "at_least"],
        "headers": ["subscription", "match"],
        "never_invoked": ["subscription", "label"],
        "committed_offsets": ["subscription", "offsets"],
        "object_key": ["subscription", "key"],
        "metric": ["name", "labels", "value", "at_most", "at_least"],
        "final_outputs": ["subscription", "outputs"],
        "consumer_group": ["group", "subscription", "members", "client_id", "cluster"],
    ]

    static func keys(_ mapping: String) -> [String] {
        guard let keys = mappings[mapping] else { preconditionFailure("no mapping '\(mapping)' in ScenarioGrammar") }
        return keys
    }
}
