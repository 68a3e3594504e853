import Foundation
import HarnessTestSupport
import KafkaIngress
import Testing

@Suite("Tracing keys of restate.toml and RESTATE_TRACING_* variables", .guarded)
struct TracingConfigurationTests {
    @Test("tracing-endpoint, tracing-services-endpoint (which wins), tracing-headers, cluster-name and node-name")
    func keys() throws {
        let config = try IngressConfiguration.parse("""
            tracing-endpoint = "http://collector:4317"
            tracing-services-endpoint = "otlp+http://collector:4318/v1/traces"
            # Restate 1.7 exports no runtime spans: accepted, and they change nothing.
            tracing-runtime-endpoint = "http://elsewhere:4317"
            tracing-filter = "info"
            tracing-json-path = "/tmp/traces"
            cluster-name = "prod"
            node-name = "n1"

            [tracing-headers]
            authorization = "Bearer abc"
            """)
        #expect(config.tracing == TracingConfiguration(endpoint: "http://collector:4317", servicesEndpoint: "otlp+http://collector:4318/v1/traces",
                                                       headers: ["authorization": "Bearer abc"], clusterName: "prod", nodeName: "n1"))
        #expect(config.tracing.effectiveEndpoint == "otlp+http://collector:4318/v1/traces")
        #expect(try IngressConfiguration.parse("").tracing.effectiveEndpoint == nil, "off unless configured")
    }

    @Test("Every scheme Restate takes; anything else is refused with the key's line")
    func schemes() throws {
        for scheme in ["http", "https", "grpc", "otlp+grpc", "otlp+http", "http+otlp", "otlp+https", "otlp+proto+http", "otlp+json+http", "otlp+json+https"] {
            #expect(try IngressConfiguration.parse("tracing-endpoint = \"\(scheme)://c:4317/v1/traces\"").tracing.endpoint == "\(scheme)://c:4317/v1/traces")
        }
        for (endpoint, message) in [
            ("ftp://c:21", "has the scheme 'ftp', which names no OTLP transport"),
            ("collector:4317", "is not a URL with a scheme and a host"),
            ("http://", "is not a URL with a scheme and a host"),
        ] {
            #expect {
                try IngressConfiguration.parse("# tracing\ntracing-endpoint = \"\(endpoint)\"\n")
            } throws: { error in
                let description = "\(error)"
                return description.hasPrefix("restate.toml:2: `tracing-endpoint`: '\(endpoint)'") && description.contains(message)
            }
        }
        #expect(throws: ConfigurationError.self) { try IngressConfiguration.parse("tracing-endpoint = 4317") }
        #expect(throws: ConfigurationError.self) { try IngressConfiguration.parse("tracing-headers = \"authorization: x\"") }
    }

    @Test("RESTATE_TRACING_ENDPOINT and its companions win over the file")
    func environment() throws {
        let file = NSTemporaryDirectory() + "restate-\(UUID().uuidString).toml"
        try "tracing-endpoint = \"http://file:4317\"\nnode-name = \"file\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try IngressConfiguration.load(file: file, environment: [:]).tracing.endpoint == "http://file:4317")
        let config = try IngressConfiguration.load(file: file, environment: [
            "RESTATE_TRACING_ENDPOINT": "otlp+http://env:4318/v1/traces",
            "RESTATE_TRACING_SERVICES_ENDPOINT": "http://services:4317",
            "RESTATE_TRACING_HEADERS": "{authorization = \"Bearer env\"}",
            "RESTATE_NODE_NAME": "env-node",
        ])
        #expect(config.tracing == TracingConfiguration(endpoint: "otlp+http://env:4318/v1/traces", servicesEndpoint: "http://services:4317",
                                                       headers: ["authorization": "Bearer env"], nodeName: "env-node"))
        var overridden = config.tracing
        try overridden.override(endpoint: "https://cli:4317", servicesEndpoint: nil)
        #expect(overridden.endpoint == "https://cli:4317" && overridden.servicesEndpoint == "http://services:4317")
        #expect {
            try overridden.override(endpoint: nil, servicesEndpoint: "cli:4317")
        } throws: { "\($0)" == "--tracing-services-endpoint: 'cli:4317' is not a URL with a scheme and a host, such as http://localhost:4317" }
        #expect {
            try IngressConfiguration.load(file: nil, environment: ["RESTATE_TRACING_ENDPOINT": "ftp://x"])
        } throws: { "\($0)".hasPrefix("$RESTATE_TRACING_ENDPOINT:1: `tracing-endpoint`: 'ftp://x'") }
    }
}
