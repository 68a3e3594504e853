import Foundation
import TOMLKit

/// One `[[ingress.kafka-clusters]]` entry of `restate.toml`.
public struct KafkaClusterConfiguration: Sendable, Equatable, Codable {
    public var name: String
    /// `bootstrap.servers` entries, with any `PLAINTEXT://` scheme removed (librdkafka wants host:port).
    public var brokers: [String]
    /// Every other key of the entry, passed to librdkafka untouched.
    public var properties: [String: String]

    public init(name: String, brokers: [String], properties: [String: String] = [:]) {
        self.name = name
        self.brokers = brokers.map(Self.stripScheme)
        self.properties = properties
    }

    /// The librdkafka properties this cluster contributes to a consumer.
    public var librdkafkaProperties: [String: String] {
        var all = properties
        // A cluster registered through the admin API names its brokers in its properties.
        if !brokers.isEmpty { all["bootstrap.servers"] = brokers.joined(separator: ",") }
        return all
    }

    /// librdkafka settings that make group changes, fetches and topic discovery quick against a
    /// broker on loopback (FakeKafka): for tests and the harness's embedded target, not production.
    public static let quickOnLoopback = [
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "100",
        "fetch.wait.max.ms": "50",
        "topic.metadata.refresh.interval.ms": "1000",
        "reconnect.backoff.ms": "50",
        "log_level": "3",
    ]

    static func stripScheme(_ broker: String) -> String {
        guard let range = broker.range(of: "://") else { return broker }
        return String(broker[range.upperBound...])
    }
}

/// The ingress part of a Restate configuration: the Kafka clusters subscriptions may name.
public struct IngressConfiguration: Sendable, Equatable {
    public static let clustersEnvironmentVariable = "RESTATE_INGRESS__KAFKA_CLUSTERS"

    public var kafkaClusters: [KafkaClusterConfiguration]
    /// `[default-retry-policy]`: how failing invocations are retried (Restate's defaults when absent).
    public var defaultRetryPolicy: RetryPolicy
    /// `tracing-endpoint` and its companions: where the spans of invocations go (nowhere by default).
    public var tracing: TracingConfiguration

    public init(kafkaClusters: [KafkaClusterConfiguration] = [], defaultRetryPolicy: RetryPolicy = RetryPolicy(),
                tracing: TracingConfiguration = TracingConfiguration()) {
        self.kafkaClusters = kafkaClusters
        self.defaultRetryPolicy = defaultRetryPolicy
        self.tracing = tracing
    }

    public func cluster(named name: String) -> KafkaClusterConfiguration? {
        kafkaClusters.first { $0.name == name }
    }

    /// Reads `restate.toml` (when given), then lets `RESTATE_INGRESS__KAFKA_CLUSTERS` replace its
    /// clusters and the `RESTATE_TRACING_…` variables its tracing keys, as Restate's environment
    /// overrides do.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> IngressConfiguration {
        var configuration = IngressConfiguration()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(source: file, line: nil, message: "cannot read the file: \(error.localizedDescription)")
            }
            configuration = try parse(text, source: file)
        }
        if let value = environment[clustersEnvironmentVariable] {
            // The variable holds a TOML value (an array of inline tables); read it as one assignment.
            let parsed = try parse("[ingress]\nkafka-clusters = \(value)\n", source: "$\(clustersEnvironmentVariable)", lineOffset: -1)
            configuration.kafkaClusters = parsed.kafkaClusters
        }
        try configuration.tracing.applyEnvironment(environment)
        return configuration
    }

    /// Parses a whole `restate.toml`. Sections other than `ingress.kafka-clusters`,
    /// `default-retry-policy`, `max-retry-policy-max-attempts` and the tracing keys are Restate's
    /// business and are ignored.
    public static func parse(_ text: String, source: String = "restate.toml", lineOffset: Int = 0) throws -> IngressConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(source: source, line: Int(error.source.begin.line) + lineOffset,
                                     message: "not valid TOML: \(error.description)")
        }
        let locator = KeyLocator(text: text, lineOffset: lineOffset)
        var retry = try RetryPolicy(table["default-retry-policy"], source: source, lines: locator.lines, lineOffset: lineOffset)
        if let cap = table["max-retry-policy-max-attempts"] {
            guard let value = cap.int, value > 0 else {
                throw ConfigurationError(source: source, line: locator.line(ofKey: "max-retry-policy-max-attempts", cluster: nil),
                                         message: "`max-retry-policy-max-attempts` must be a positive number, got \(cap)")
            }
            retry.manifestMaxAttemptsCap = value
        }
        var tracing = TracingConfiguration()
        try tracing.read(table, source: source, locator: locator)
        return IngressConfiguration(kafkaClusters: try clusters(table, source, locator), defaultRetryPolicy: retry, tracing: tracing)
    }

    private static func clusters(_ table: TOMLTable, _ source: String, _ locator: KeyLocator) throws -> [KafkaClusterConfiguration] {
        guard let ingress = table["ingress"] else { return [] }
        guard let ingressTable = ingress.table else {
            throw ConfigurationError(source: source, line: locator.line(ofKey: "ingress", cluster: nil), message: "`ingress` must be a table")
        }
        guard let clustersValue = ingressTable["kafka-clusters"] else { return [] }
        guard let clusters = clustersValue.array else {
            throw ConfigurationError(source: source, line: locator.line(ofKey: "kafka-clusters", cluster: nil),
                                     message: "`ingress.kafka-clusters` must be an array of tables")
        }
        var result: [KafkaClusterConfiguration] = []
        for (index, element) in clusters.enumerated() {
            func fail(_ key: String, _ message: String) -> ConfigurationError {
                ConfigurationError(source: source, line: locator.line(ofKey: key, cluster: index), message: message)
            }
            guard let entry = element.table else {
                throw fail("kafka-clusters", "entry \(index + 1) of `ingress.kafka-clusters` must be a table")
            }
            guard let name = entry["name"]?.string, !name.isEmpty else {
                throw fail("name", "kafka cluster \(index + 1) needs a non-empty string `name`")
            }
            guard let brokerArray = entry["brokers"]?.array, !brokerArray.isEmpty else {
                throw fail("brokers", "kafka cluster '\(name)' needs `brokers`, a non-empty array of strings such as [\"PLAINTEXT://host:9092\"]")
            }
            var brokers: [String] = []
            for broker in brokerArray {
                guard let s = broker.string else { throw fail("brokers", "kafka cluster '\(name)': every entry of `brokers` must be a string") }
                brokers.append(s)
            }
            var properties: [String: String] = [:]
            for key in entry.keys where key != "name" && key != "brokers" {
                guard let value = entry[key]?.string else {
                    throw fail(key, "kafka cluster '\(name)': `\(key)` must be a string; librdkafka properties are strings (write \"\(entry[key].map { "\($0)" } ?? "")\")")
                }
                properties[key] = value
            }
            if result.contains(where: { $0.name == name }) {
                throw fail("name", "kafka cluster '\(name)' is defined twice")
            }
            result.append(KafkaClusterConfiguration(name: name, brokers: brokers, properties: properties))
        }
        return result
    }
}

/// A configuration problem, with the file and line it comes from.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var message: String

    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}

/// Finds the line of a key in the TOML text, so semantic errors can point at it (TOMLKit keeps
/// positions only for syntax errors).
struct KeyLocator {
    let lines: [Substring]
    let lineOffset: Int

    init(text: String, lineOffset: Int) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        self.lineOffset = lineOffset
    }

    /// The 1-based line of `key` inside the `cluster`-th `[[ingress.kafka-clusters]]` block (or
    /// anywhere when nil).
    func line(ofKey key: String, cluster: Int?) -> Int? {
        var block = -1
        var fallback: Int?
        // Without `[[ingress.kafka-clusters]]` headers (an inline array), blocks cannot be told apart.
        let cluster = lines.contains { $0.replacingOccurrences(of: " ", with: "").hasPrefix("[[ingress.kafka-clusters]]") } ? cluster : nil
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[[") && line.replacingOccurrences(of: " ", with: "") == "[[ingress.kafka-clusters]]" {
                block += 1
                if block == cluster, fallback == nil { fallback = i + 1 + lineOffset }
                continue
            }
            if let cluster, block != cluster { continue }
            for form in [key, "\"\(key)\"", "'\(key)'"] where line.hasPrefix(form) {
                let rest = line.dropFirst(form.count).drop { $0 == " " || $0 == "\t" }
                if rest.first == "=" { return i + 1 + lineOffset }
            }
            // Inline tables (the environment variable) keep several keys on one line.
            if line.contains("\(key)=") || line.contains("\(key) =") || line.contains("\"\(key)\"") {
                fallback = fallback ?? (i + 1 + lineOffset)
            }
        }
        return fallback
    }
}
