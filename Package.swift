// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "IngressHarness",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .library(name: "FakeKafka", targets: ["FakeKafka"]),
        .library(name: "RdKafka", targets: ["RdKafka"]),
        .library(name: "RestateProtocol", targets: ["RestateProtocol"]),
        .library(name: "PlantedDefects", targets: ["PlantedDefects"]),
        .library(name: "KafkaIngress", targets: ["KafkaIngress"]),
        .library(name: "Recorder", targets: ["Recorder"]),
        .library(name: "Scenarios", targets: ["Scenarios"]),
        .library(name: "ScenarioRunner", targets: ["ScenarioRunner"]),
        .library(name: "FakeKafkaTarget", targets: ["FakeKafkaTarget"]),
        .library(name: "EmbeddedIngressTarget", targets: ["EmbeddedIngressTarget"]),
        .library(name: "ScenarioTesting", targets: ["ScenarioTesting"]),
        .executable(name: "harness", targets: ["harness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // Both OTLP exporters: Restate sends to an http:// tracing-endpoint over gRPC, to otlp+http:// over HTTP.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP", "OTLPGRPC"]),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    ],
    targets: [
        // Debian's zlib, snappy, lz4 and zstd behind one module map.
        .systemLibrary(name: "CCompression", path: "Sources/CCompression"),
        // Debian's librdkafka (2.0.2 on bookworm).
        .systemLibrary(name: "CRdKafka", path: "Sources/CRdKafka", pkgConfig: "rdkafka"),
        // The CPU's CRC-32C instruction, for record batch checksums.
        .target(name: "CCRC32C"),
        // Starts child processes that die with this process (C: only async-signal-safe calls after fork).
        .target(name: "CChildSpawn"),
        // Child processes (SDK deployments of scenarios, and everything tests start): one way to start and stop them.
        .target(name: "ChildProcesses", dependencies: ["CChildSpawn", "LiveResources"]),
        .target(
            name: "KafkaProtocol",
            dependencies: [
                "CCompression", "CCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The catalogue of bugs that can be planted in the ingress and the broker. No dependencies.
        .target(name: "PlantedDefects"),
        .target(
            name: "FakeKafka",
            dependencies: [
                "KafkaProtocol", "LiveResources", "PlantedDefects",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Who opened what is still open: the leak checks of the test suites read it.
        .target(name: "LiveResources"),
        .target(
            name: "RdKafka",
            dependencies: [
                "CRdKafka", "LiveResources",
                .product(name: "Logging", package: "swift-log"),
                // Only for sasl.oauthbearer.method=oidc, which Debian's librdkafka cannot do itself.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The Restate service protocol pieces both the ingress and the recorder need. No dependencies.
        .target(name: "RestateProtocol"),
        // Hummingbird servers that stop gracefully when their task is cancelled.
        .target(
            name: "HTTPServing",
            dependencies: [
                "LiveResources",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The reference Restate-compatible Kafka ingress.
        .target(
            name: "KafkaIngress",
            dependencies: [
                "RdKafka", "RestateProtocol", "HTTPServing", "LiveResources", "PlantedDefects",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // A Restate-protocol endpoint that records every invocation it receives: it answers for
        // simulated handlers, or passes attempts through to real deployments.
        .target(
            name: "Recorder",
            dependencies: [
                "RestateProtocol", "LiveResources",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Scenarios: the model, YAML files, the runner and the assertions.
        // The scenario vocabulary: model, YAML and schema grammar, builder, assertions, reports.
        .target(
            name: "Scenarios",
            dependencies: [
                "KafkaProtocol", "Recorder", "RestateProtocol", "PlantedDefects",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Running scenarios: the target protocols (what a Kafka and an ingress can do), any Kafka
        // through the wire protocol, any ingress through Restate's admin API, steps and faults,
        // exploration, capture. It links neither FakeKafka nor the reference ingress.
        .target(
            name: "ScenarioRunner",
            dependencies: [
                "Scenarios", "PlantedDefects", "Recorder", "KafkaProtocol", "RestateProtocol", "RdKafka", "ChildProcesses",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // FakeKafka as a scenario target: `.fake(brokerPort:)`.
        .target(name: "FakeKafkaTarget", dependencies: ["ScenarioRunner", "Scenarios", "FakeKafka", "KafkaProtocol", "PlantedDefects"]),
        // The reference ingress as a scenario target: `.embedded(...)`, and `ScenarioTarget.embedded`.
        .target(
            name: "EmbeddedIngressTarget",
            dependencies: ["ScenarioRunner", "Scenarios", "FakeKafkaTarget", "KafkaIngress", "PlantedDefects", .product(name: "Logging", package: "swift-log")]
        ),
        // Scenarios under Swift Testing: failures reported at the line that wrote them.
        .target(name: "ScenarioTesting", dependencies: ["Scenarios", "ScenarioRunner", "EmbeddedIngressTarget", "PlantedDefects"]),
        .executableTarget(
            name: "harness",
            dependencies: [
                "FakeKafka", "KafkaIngress", "PlantedDefects", "Recorder", "Scenarios", "ScenarioRunner", "FakeKafkaTarget", "EmbeddedIngressTarget",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: [
                "KafkaProtocol", "HarnessTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RestateProtocolTests", dependencies: ["RestateProtocol", "HarnessTestSupport"]),
        // Helpers the test targets share: clusters on free ports, condition waits, child
        // processes, and the `.guarded` trait (held-back output, leak and resource checks).
        .target(
            name: "HarnessTestSupport",
            dependencies: [
                "FakeKafka", "RdKafka", "KafkaProtocol", "LiveResources", "ChildProcesses",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/HarnessTestSupport",
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "HarnessTestSupportTests", dependencies: ["HarnessTestSupport", "LiveResources", "RdKafka"]),
        .testTarget(
            name: "FakeKafkaTests",
            dependencies: [
                "FakeKafka", "RdKafka", "KafkaProtocol", "HarnessTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RecorderTests", dependencies: ["Recorder", "RestateProtocol", "HarnessTestSupport"]),
        .testTarget(name: "ScenariosTests", dependencies: ["Scenarios", "ScenarioRunner", "ScenarioTesting", "FakeKafkaTarget", "EmbeddedIngressTarget", "KafkaIngress", "PlantedDefects", "HarnessTestSupport"]),
        .testTarget(
            name: "KafkaIngressTests",
            dependencies: [
                "KafkaIngress", "Recorder", "RestateProtocol", "FakeKafka", "RdKafka", "KafkaProtocol", "HarnessTestSupport",
                "HTTPServing", "LiveResources",
                .product(name: "Hummingbird", package: "hummingbird"),
                // An OTLP/gRPC receiver for the tracing tests (both come with swift-otel's gRPC exporter).
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
