import ArgumentParser
import Foundation
import ScenarioRunner
import Scenarios
import Synchronization

/// `harness capture`: turns a real topic's records into a scenario that replays them.
struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Read a topic from any Kafka and write a scenario that reproduces its records on FakeKafka.",
        discussion: """
            Keeps each record's partition, key, value, headers and timestamp, each partition's order, and the \
            interleaving across partitions (by timestamp). Values over --inline-limit bytes go to files beside \
            the scenario. Nothing is committed on the source cluster. Replay with: harness run OUTPUT.
            """
    )

    @Option(help: "The Kafka to read from (host:port,…).")
    var bootstrapServers: String

    @Option(help: "The topic to capture.")
    var topic: String

    @Option(help: "Only these partitions (e.g. 0,2); default: all.")
    var partitions: String?

    @Option(help: "Start at this offset (in every partition) or this time (ISO 8601, e.g. 2026-11-30T12:00:00Z); default: the beginning.")
    var from: String?

    @Option(help: "Stop before this offset or time; default: the end of each partition when the capture starts.")
    var to: String?

    @Option(help: "At most this many records (the first of the interleaved sequence).")
    var max: Int?

    @Option(name: .customLong("property"), help: "A librdkafka property for the source cluster, key=value (repeatable; e.g. security.protocol=SASL_SSL).")
    var properties: [String] = []

    @Option(help: "Also subscribe Service/handler to the topic in the scenario, with expectations that fit it.")
    var sink: String?

    @Option(help: "The sink's service kind: service, object or workflow.")
    var sinkKind = "object"

    @Option(help: "Values larger than this many bytes go to side files.")
    var inlineLimit = 4_096

    @Option(help: "The scenario file to write.")
    var output: String

    func validate() throws {
        guard !bootstrapServers.isEmpty else { throw ValidationError("--bootstrap-servers is empty") }
        if let from, TopicCapture.Position(from) == nil { throw ValidationError("--from must be an offset or an ISO 8601 time, got '\(from)'") }
        if let to, TopicCapture.Position(to) == nil { throw ValidationError("--to must be an offset or an ISO 8601 time, got '\(to)'") }
        if let max, max < 1 { throw ValidationError("--max must be at least 1, got \(max)") }
        if let sink, sink.split(separator: "/").count != 2 { throw ValidationError("--sink must be Service/handler, got '\(sink)'") }
        guard ServiceSpec.Kind(rawValue: sinkKind) != nil else { throw ValidationError("--sink-kind must be service, object or workflow, got '\(sinkKind)'") }
        _ = try parsedPartitions()
        _ = try parsedProperties()
    }

    private func parsedPartitions() throws -> [Int32]? {
        try partitions.map { list in
            try list.split(separator: ",").map { part in
                guard let p = Int32(part.trimmingCharacters(in: .whitespaces)), p >= 0 else { throw ValidationError("--partitions: '\(part)' is not a partition number") }
                return p
            }
        }
    }

    private func parsedProperties() throws -> [String: String] {
        try properties.reduce(into: [:]) { all, entry in
            guard let eq = entry.firstIndex(of: "=") else { throw ValidationError("--property must be key=value, got '\(entry)'") }
            all[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
    }

    func run() async throws {
        var capture = TopicCapture(bootstrapServers: bootstrapServers, topic: topic, partitions: try parsedPartitions(),
                                   from: from.flatMap(TopicCapture.Position.init), to: to.flatMap(TopicCapture.Position.init), limit: max)
        capture.properties = try parsedProperties()
        let reported = ProgressLine()
        let result = try await capture.run { count in reported.update(count) }
        let outputURL = URL(fileURLWithPath: output)
        let valuesDirectory = outputURL.deletingPathExtension().lastPathComponent + ".values"
        var scenario = CapturedScenario(name: "captured \(topic)", topic: topic, source: bootstrapServers, result: result,
                                        sink: sink.map { ($0, ServiceSpec.Kind(rawValue: sinkKind)!) })
        scenario.inlineLimit = inlineLimit
        let (yaml, files) = scenario.render(valuesDirectory: valuesDirectory)
        for (name, bytes) in files {
            let url = outputURL.deletingLastPathComponent().appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        try yaml.write(to: outputURL, atomically: true, encoding: .utf8)
        for warning in scenario.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let sideFiles = files.isEmpty ? "" : " (\(files.count) large value(s) in \(valuesDirectory)/)"
        print("captured \(result.records.count) records of \(topic) (\(result.partitionCount) partitions) into \(output)\(sideFiles)")
    }
}

/// "read N records" on stderr, at most every 1,000 records, so a long capture shows progress.
final class ProgressLine: Sendable {
    private let last = Mutex(0)

    func update(_ count: Int) {
        let due = last.withLock { last in
            guard count >= last + 1_000 else { return false }
            last = count
            return true
        }
        if due { FileHandle.standardError.write(Data("read \(count) records\n".utf8)) }
    }
}
