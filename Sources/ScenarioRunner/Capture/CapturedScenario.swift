import Scenarios
import Foundation

/// Writes captured records as a scenario that reproduces them on FakeKafka: the topic with its
/// partition count, then one `produce` step per record, in the captured order, each with its
/// partition, key, value, headers and timestamp. Values larger than `inlineLimit` bytes go to
/// files beside the scenario (`value_file`). Text that is not UTF-8, or that would read as a
/// template (`{i}`), is written as hex.
public struct CapturedScenario {
    public var name: String
    public var topic: String
    public var source: String
    public var result: TopicCapture.Result
    /// `Service/handler` and its kind: adds the service, a subscription and the expectations
    /// that fit it, so the replay also drives an ingress.
    public var sink: (target: String, kind: ServiceSpec.Kind)?
    public var inlineLimit = 4_096

    public init(name: String, topic: String, source: String, result: TopicCapture.Result, sink: (target: String, kind: ServiceSpec.Kind)? = nil) {
        self.name = name
        self.topic = topic
        self.source = source
        self.result = result
        self.sink = sink
    }

    /// What could not be kept exactly, said once per kind.
    public private(set) var warnings: [String] = []

    /// The scenario text, and the side files (name relative to the scenario → bytes).
    public mutating func render(valuesDirectory: String) -> (yaml: String, files: [String: [UInt8]]) {
        var files: [String: [UInt8]] = [:]
        var lossyHeaders = 0
        var lines = [
            "# Captured by `harness capture` from \(source), topic \(topic): \(result.records.count) records in the order they were",
            "# written (per partition; partitions interleaved by timestamp). Replay: harness run <this file>.",
            "name: \(quoted(name))",
            "topics:",
            "  - {name: \(quoted(topic)), partitions: \(result.partitionCount)}",
        ]
        if let sink {
            let parts = sink.target.split(separator: "/").map(String.init)
            let handlerKind = sink.kind == .workflow ? ", kind: workflow" : ""
            lines += [
                "services:",
                "  - {name: \(quoted(parts[0])), kind: \(sink.kind.rawValue), handlers: [{name: \(quoted(parts[1]))\(handlerKind)}]}",
                "subscriptions:",
                "  - {name: replay, topic: \(quoted(topic)), sink: \(quoted(sink.target))}",
            ]
        }
        lines.append("steps:")
        for record in result.records {
            var fields = ["topic: \(quoted(topic))", "partition: \(record.partition)"]
            if let key = record.key { fields.append(text(key).map { "key: \($0)" } ?? "key_hex: \(hex(key))") }
            if let value = record.value {
                if value.count > inlineLimit {
                    let file = "\(valuesDirectory)/\(record.partition)-\(record.offset).bin"
                    files[file] = value
                    fields.append("value_file: \(quoted(file))")
                } else {
                    fields.append(text(value).map { "value: \($0)" } ?? "value_hex: \(hex(value))")
                }
            } else {
                fields.append("value: null")
            }
            if !record.headers.isEmpty {
                let pairs = record.headers.map { header -> String in
                    let value = header.value.flatMap { String(bytes: $0, encoding: .utf8) }
                    if value == nil { lossyHeaders += 1 }
                    return "\(quoted(header.key)): \(quoted(value ?? ""))"
                }
                fields.append("headers: {\(pairs.joined(separator: ", "))}")
            }
            fields.append("timestamp: " + (record.timestamp.flatMap { $0 >= 0 ? String($0) : nil } ?? "none"))
            lines.append("  - produce: {\(fields.joined(separator: ", "))}")
        }
        if result.records.isEmpty { lines[lines.count - 1] = "steps: []" }
        if let sink {
            lines += ["  - wait: {invocations: \(invocationsDue(sink.kind)), subscription: replay}", "expect:"]
            lines += sink.kind == .service ? ["  - exactly_once: replay"] : ["  - ordered_per_key: replay", "  - no_overlap_per_key: replay", "  - exactly_once: replay"]
        }
        if lossyHeaders > 0 { warnings.append("\(lossyHeaders) header value(s) were null or not UTF-8; the replay gives them as empty strings") }
        return (lines.joined(separator: "\n") + "\n", files)
    }

    /// A workflow runs once per key; other sinks once per record.
    private func invocationsDue(_ kind: ServiceSpec.Kind) -> Int {
        guard kind == .workflow else { return result.records.count }
        return Set(result.records.map { $0.key ?? [] }).count
    }

    /// The bytes as a quoted YAML string, when they are UTF-8 text that is not a template.
    private func text(_ bytes: [UInt8]) -> String? {
        guard let s = String(bytes: bytes, encoding: .utf8), !s.contains("{i") else { return nil }
        return quoted(s)
    }

    private func hex(_ bytes: [UInt8]) -> String { "\"" + bytes.map { String(format: "%02x", $0) }.joined() + "\"" }

    /// A JSON string, which YAML reads as a double-quoted scalar.
    private func quoted(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? encoder.encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
