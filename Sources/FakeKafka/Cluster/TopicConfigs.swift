import KafkaProtocol

/// The resource types of the config APIs (Kafka's `ConfigResource.Type` codes).
enum ConfigResourceType: Int8 {
    case topic = 2
    case broker = 4
}

/// Where a described config value comes from (Kafka's `ConfigSource` codes): clients show it,
/// and tools decide from it whether a value was set on purpose.
enum ConfigSource: Int8 {
    case dynamicTopicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
}

/// Kafka's config types, as DescribeConfigs v3+ reports them.
enum ConfigType: Int8 {
    case boolean = 1, string = 2, int = 3, long = 5, double = 6, list = 7
}

/// The topic-level configs FakeKafka knows, with Kafka's defaults. A topic keeps only the values
/// set on it; everything else is described from here, so an unknown name can be refused the way
/// Kafka refuses it instead of being stored and echoed back.
enum TopicConfigs {
    struct Definition {
        let type: ConfigType
        let defaultValue: String
        /// Accepted values for enumerated strings (each element, for lists); nil: any.
        let allowed: Set<String>?
    }

    static let definitions: [String: Definition] = {
        let maxLong = String(Int64.max)
        func d(_ type: ConfigType, _ value: String, _ allowed: Set<String>? = nil) -> Definition {
            Definition(type: type, defaultValue: value, allowed: allowed)
        }
        return [
            "cleanup.policy": d(.list, "delete", ["delete", "compact"]),
            "compression.type": d(.string, "producer", ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
            "delete.retention.ms": d(.long, "86400000"),
            "file.delete.delay.ms": d(.long, "60000"),
            "flush.messages": d(.long, maxLong),
            "flush.ms": d(.long, maxLong),
            "follower.replication.throttled.replicas": d(.list, ""),
            "index.interval.bytes": d(.int, "4096"),
            "leader.replication.throttled.replicas": d(.list, ""),
            "max.compaction.lag.ms": d(.long, maxLong),
            "max.message.bytes": d(.int, "1048588"),
            "message.timestamp.after.max.ms": d(.long, maxLong),
            "message.timestamp.before.max.ms": d(.long, maxLong),
            "message.timestamp.type": d(.string, "CreateTime", ["CreateTime", "LogAppendTime"]),
            // Deprecated and ignored by Kafka 3.x, but still accepted (librdkafka's own tests set it).
            "message.format.version": d(.string, "3.0-IV1"),
            "min.cleanable.dirty.ratio": d(.double, "0.5"),
            "min.compaction.lag.ms": d(.long, "0"),
            "min.insync.replicas": d(.int, "1"),
            "preallocate": d(.boolean, "false"),
            "retention.bytes": d(.long, "-1"),
            "retention.ms": d(.long, "604800000"),
            "segment.bytes": d(.int, "1073741824"),
            "segment.index.bytes": d(.int, "10485760"),
            "segment.jitter.ms": d(.long, "0"),
            "segment.ms": d(.long, "604800000"),
            "unclean.leader.election.enable": d(.boolean, "false"),
        ]
    }()

    /// Why `value` cannot be set for `name`, in Kafka's words, or nil when it can.
    static func problem(name: String, value: String?) -> (KafkaErrorCode, String)? {
        guard let definition = definitions[name] else { return (.invalidConfig, "Unknown topic config name: \(name)") }
        guard let value else { return (.invalidRequest, "Null value not supported for topic config: \(name)") }
        let valid: Bool
        switch definition.type {
        case .boolean: valid = ["true", "false"].contains(value.lowercased())
        case .int: valid = Int32(value.trimmingSpaces) != nil
        case .long: valid = Int64(value.trimmingSpaces) != nil
        case .double: valid = Double(value.trimmingSpaces) != nil
        case .string: valid = definition.allowed.map { $0.contains(value) } ?? true
        case .list:
            let items = listItems(value)
            valid = definition.allowed.map { allowed in !items.isEmpty && items.allSatisfy(allowed.contains) } ?? true
        }
        guard valid else {
            return (.invalidConfig, "Invalid value \(value) for configuration \(name): not a valid \(String(describing: definition.type).uppercased())")
        }
        return nil
    }

    static func listItems(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// The described configs of a topic whose overrides are `set`, restricted to `keys` when given
    /// (names Kafka does not know are left out, as Kafka does).
    static func describe(_ set: [String: String], keys: [String]?) -> [DescribeConfigsResponse.DescribeConfigsResourceResult] {
        let names = keys.map { $0.filter { definitions[$0] != nil } } ?? definitions.keys.sorted()
        return names.map { name in
            let definition = definitions[name]!
            let value = set[name]
            return .init(name: name, value: value ?? definition.defaultValue, readOnly: false, isDefault: value == nil,
                         configSource: (value == nil ? ConfigSource.defaultConfig : .dynamicTopicConfig).rawValue,
                         isSensitive: false, configType: definition.type.rawValue, documentation: nil)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
