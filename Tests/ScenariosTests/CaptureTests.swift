import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaProtocol
import RdKafka
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// `harness capture` round trip: records produced with librdkafka into a Kafka (FakeKafka here,
/// any Kafka in use), captured by the CLI, replayed as a scenario: the same records, in the same
/// order per partition, on the same partitions.
@Suite("Capture and replay", .guarded)
struct CaptureTests {
    /// Keys and values a real topic has: text, JSON (braces), bytes that are not UTF-8, a text
    /// that looks like a template, a large value, no key.
    static let originals: [OutgoingRecord] = [
        OutgoingRecord(topic: "orders", partition: 0, key: "acct-1", value: #"{"amount":10}"#, headers: [RdKafkaHeader("trace", Array("t-1".utf8))], timestamp: 1_700_000_000_000),
        OutgoingRecord(topic: "orders", partition: 1, key: [0xff, 0x00], value: [0xc3, 0x28], timestamp: 1_700_000_000_001),
        OutgoingRecord(topic: "orders", partition: 0, key: "acct-2", value: "literally {i} and {i % 2}", timestamp: 1_700_000_000_002),
        OutgoingRecord(topic: "orders", partition: 2, key: nil as String?, value: String(repeating: "x", count: 10_000), timestamp: 1_700_000_000_003),
        OutgoingRecord(topic: "orders", partition: 1, key: "acct-1", value: "second on 1", timestamp: 1_700_000_000_004),
    ]

    @Test("produce → harness capture → harness run: same records, partitions, order and timestamps; large values in a side file")
    func roundTrip() async throws {
        try await withCluster(partitions: 3) { cluster in
            let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0"]))
            for record in Self.originals { _ = try await producer.send(record) }
            let directory = NSTemporaryDirectory() + uniqueName("capture")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let output = directory + "/bug.yaml"
            try await withChildProcess(try harnessBinary(), ["capture", "--bootstrap-servers", cluster.bootstrapServers, "--topic", "orders",
                                                             "--sink", "Ledger/post", "--sink-kind", "service", "--output", output]) { capture in
                #expect(await capture.waitForExit(timeout: .seconds(60)) == 0, "\(capture.outputText)")
                #expect(capture.outputText.contains("captured 5 records of orders (3 partitions) into \(output) (1 large value(s) in bug.values/)"))
            }
            let text = try String(contentsOfFile: output, encoding: .utf8)
            #expect(text.contains(#"headers: {"trace": "t-1"}"#))
            #expect(text.contains(#"key_hex: "ff00""#) && text.contains(#"value_hex: "c328""#))
            #expect(text.contains(#"value_file: "bug.values/2-0.bin""#))

            let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(try ScenarioYAML.load(file: output))
            // A Service sink: an object sink would stall at the key that is not UTF-8, as Restate does.
            let passed = result.passed
            #expect(passed, "\(result.error ?? "") \(result.failures.map(\.description))")
            let replayed = try #require(result.observations?.produced)
            #expect(replayed.map(\.partition) == [0, 1, 0, 2, 1], "interleaved by timestamp, each on its own partition")
            #expect(replayed.map(\.timestamp) == Self.originals.map { $0.timestamp! })
            #expect(replayed.map(\.keyBytes) == Self.originals.map(\.key))
            #expect(replayed.map { $0.value.map { Array($0.utf8) } } == Self.originals.map { $0.value.map { Array(String(decoding: $0, as: UTF8.self).utf8) } })
        }
    }

    @Test("--partitions, --from and --max choose the records; a missing topic is a clear error")
    func selection() async throws {
        try await withCluster(partitions: 2) { cluster in
            let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0"]))
            for i in 0..<6 { _ = try await producer.send(OutgoingRecord(topic: "t", partition: Int32(i % 2), key: "k\(i)", value: "v\(i)", timestamp: 1_000 + Int64(i))) }
            let output = NSTemporaryDirectory() + uniqueName("selected") + ".yaml"
            defer { try? FileManager.default.removeItem(atPath: output) }
            try await withChildProcess(try harnessBinary(), ["capture", "--bootstrap-servers", cluster.bootstrapServers, "--topic", "t",
                                                             "--partitions", "0", "--from", "1", "--max", "1", "--output", output]) { capture in
                #expect(await capture.waitForExit(timeout: .seconds(60)) == 0, "\(capture.outputText)")
            }
            let scenario = try ScenarioYAML.load(file: output)
            #expect(scenario.steps.count == 1)
            guard case .produce(let p)? = scenario.steps.first?.value else { Issue.record("not a produce step"); return }
            #expect(p.key == "k2" && p.value == "v2" && p.partition == 0, "partition 0's second record")

            try await withChildProcess(try harnessBinary(), ["capture", "--bootstrap-servers", cluster.bootstrapServers, "--topic", "nope", "--output", output]) { capture in
                #expect(await capture.waitForExit(timeout: .seconds(60)) != 0)
                #expect(capture.outputText.contains("topic nope does not exist on \(cluster.bootstrapServers)"), "\(capture.outputText)")
            }
        }
    }
}
