// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the decoders FakeKafka runs on client bytes. A package of its own, so the
// main package's `swift build` and `swift test` never see them: they only link when built with
// `--sanitize fuzzer` (libFuzzer supplies `main`), which `make fuzz` does in .build-fuzz/.
//
// KafkaProtocol and its two C modules are the main package's own sources, reached through
// symlinks in Sources/: depending on the main package by path would make SwiftPM resolve all of
// its dependencies (Hummingbird, GRDB, ...) for a build that needs only swift-nio.
let package = Package(
    name: "IngressHarnessFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(name: "CCompression"),
        .target(name: "CCRC32C"),
        .target(
            name: "KafkaProtocol",
            dependencies: ["CCompression", "CCRC32C", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // What the fuzzers do with an input: the decoding steps FakeKafka takes on client bytes.
        .target(name: "FuzzInputs", dependencies: ["KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(name: "FuzzRequests", dependencies: ["FuzzInputs"]),
        .executableTarget(name: "FuzzRecordBatches", dependencies: ["FuzzInputs"]),
    ],
    swiftLanguageModes: [.v6]
)
