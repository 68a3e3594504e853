import Foundation
import HarnessTestSupport
import KafkaIngress
import Testing

@Suite("restate.toml and RESTATE_INGRESS__KAFKA_CLUSTERS", .guarded)
struct ConfigurationTests {
    @Test("clusters with plain and PLAINTEXT:// brokers; librdkafka properties pass through untouched")
    func clusters() throws {
        let config = try IngressConfiguration.parse("""
            # Restate's own sections are ignored.
            [worker]
            internal-queue-length = 1000

            [[ingress.kafka-clusters]]
            name = "local"
            brokers = ["PLAINTEXT://localhost:9092", "other:9093"]

            [[ingress.kafka-clusters]]
            name = "confluent"
            brokers = ["pkc-123.aws.confluent.cloud:9092"]
            "security.protocol" = "SASL_SSL"
            "sasl.mechanisms" = "PLAIN"
            "sasl.username" = "KEY"
            "sasl.password" = "SECRET"

            [[ingress.kafka-clusters]]
            name = "oauth"
            brokers = ["b:9092"]
            "security.protocol" = "SASL_SSL"
            "sasl.mechanism" = "OAUTHBEARER"
            "sasl.oauthbearer.method" = "oidc"
            "sasl.oauthbearer.client.id" = "id"
            "sasl.oauthbearer.client.secret" = "s3cr3t"
            "sasl.oauthbearer.token.endpoint.url" = "https://idp/token"
            """)
        #expect(config.kafkaClusters.map(\.name) == ["local", "confluent", "oauth"])
        #expect(config.kafkaClusters[0].librdkafkaProperties == ["bootstrap.servers": "localhost:9092,other:9093"])
        #expect(config.kafkaClusters[1].librdkafkaProperties == [
            "bootstrap.servers": "pkc-123.aws.confluent.cloud:9092", "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "PLAIN", "sasl.username": "KEY", "sasl.password": "SECRET",
        ])
        #expect(config.kafkaClusters[2].properties["sasl.oauthbearer.token.endpoint.url"] == "https://idp/token")
        #expect(config.kafkaClusters[2].properties.count == 6)
    }

    @Test("the environment variable replaces the file's clusters")
    func environment() throws {
        let file = NSTemporaryDirectory() + "restate-\(UUID().uuidString).toml"
        try "[[ingress.kafka-clusters]]\nname = \"file\"\nbrokers = [\"f:9092\"]\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try IngressConfiguration.load(file: file, environment: [:])
        #expect(fromFile.kafkaClusters.map(\.name) == ["file"])
        let overridden = try IngressConfiguration.load(file: file, environment: [
            IngressConfiguration.clustersEnvironmentVariable: #"[{name="c",brokers=["PLAINTEXT://b:9092"]}, {name="d",brokers=["x:1"],"client.rack"="r1"}]"#,
        ])
        #expect(overridden.kafkaClusters == [
            KafkaClusterConfiguration(name: "c", brokers: ["b:9092"]),
            KafkaClusterConfiguration(name: "d", brokers: ["x:1"], properties: ["client.rack": "r1"]),
        ])
        #expect(try IngressConfiguration.load(file: nil, environment: [:]).kafkaClusters.isEmpty)
    }

    @Test("a bad file is refused with its name, the line and the key", arguments: [
        ("[[ingress.kafka-clusters]]\nname = \"a\"\nbrokers = [\"b:1\",\n", 3, "not valid TOML"),
        ("[[ingress.kafka-clusters]]\nname = \"a\"\n", 1, "needs `brokers`"),
        ("[[ingress.kafka-clusters]]\nbrokers = [\"b:1\"]\n", 1, "needs a non-empty string `name`"),
        ("[[ingress.kafka-clusters]]\nname = \"a\"\nbrokers = [\"b:1\"]\n\"session.timeout.ms\" = 6000\n", 4, "`session.timeout.ms` must be a string"),
        ("[[ingress.kafka-clusters]]\nname = \"a\"\nbrokers = \"b:1\"\n", 3, "needs `brokers`"),
        ("[[ingress.kafka-clusters]]\nname = \"a\"\nbrokers = [\"b:1\"]\n[[ingress.kafka-clusters]]\nname = \"a\"\nbrokers = [\"c:1\"]\n", 5, "defined twice"),
        ("# a cap\nmax-retry-policy-max-attempts = 0\n", 2, "`max-retry-policy-max-attempts` must be a positive number"),
    ])
    func badFiles(text: String, line: Int, message: String) throws {
        let error = try #require(throws: ConfigurationError.self) { try IngressConfiguration.parse(text, source: "restate.toml") }
        #expect(error.line == line, "\(error)")
        #expect(error.description.hasPrefix("restate.toml:\(line): "), "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }

    @Test("a bad environment variable names the variable")
    func badEnvironment() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try IngressConfiguration.load(file: nil, environment: [IngressConfiguration.clustersEnvironmentVariable: "[{name=\"c\"}]"])
        }
        #expect(error.description.hasPrefix("$RESTATE_INGRESS__KAFKA_CLUSTERS: "), "\(error)")
        #expect(error.message.contains("needs `brokers`"))
    }

    @Test("a missing file says so")
    func missingFile() throws {
        let error = try #require(throws: ConfigurationError.self) { try IngressConfiguration.load(file: "/nonexistent/restate.toml", environment: [:]) }
        #expect(error.description.hasPrefix("/nonexistent/restate.toml: cannot read the file"))
    }

    @Test("[default-retry-policy] as Restate reads it: durations, factor, a number or unlimited, pause or kill")
    func retryPolicy() throws {
        let config = try IngressConfiguration.parse("""
            [default-retry-policy]
            initial-interval = "100ms"
            exponentiation-factor = 1.5
            max-interval = "1m 30s"
            max-attempts = "unlimited"
            on-max-attempts = "kill"
            """)
        #expect(config.defaultRetryPolicy == RetryPolicy(initialDelayMs: 100, factor: 1.5, maxDelayMs: 90_000, maxAttempts: nil, onMaxAttempts: .kill))
        let partial = try IngressConfiguration.parse("[default-retry-policy]\nmax-attempts = 5\n")
        #expect(partial.defaultRetryPolicy == RetryPolicy(maxAttempts: 5), "keys left out keep Restate's defaults")
    }

    @Test("a bad [default-retry-policy] value is refused with its line", arguments: [
        ("initial-interval = \"soon\"", "restate.toml:3: `default-retry-policy.initial-interval` must be a duration such as \"500ms\", \"60s\" or \"1m 30s\", got \"soon\""),
        ("on-max-attempts = \"retry\"", "restate.toml:3: `default-retry-policy.on-max-attempts` must be \"pause\" or \"kill\", got \"retry\""),
        ("max-attempts = 0", "restate.toml:3: `default-retry-policy.max-attempts` must be a positive number or \"unlimited\", got 0"),
        ("max-retries = 3", "restate.toml:3: unknown key `default-retry-policy.max-retries`; expected initial-interval, exponentiation-factor, max-interval, max-attempts or on-max-attempts"),
    ])
    func badRetryPolicy(line: String, message: String) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try IngressConfiguration.parse("# retries\n[default-retry-policy]\n\(line)\n")
        }
        #expect(error.description == message)
    }
}
