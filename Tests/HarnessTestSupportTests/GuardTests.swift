import Foundation
import HarnessTestSupport
import LiveResources
import RdKafka
import Testing

@Suite("The leak guard", .guarded)
struct GuardTests {
    @Test("a consumer left open is reported with the suite and the test that opened it; closing it clears the report")
    func reportsALeakedConsumer() async throws {
        let suiteID = "GuardTests.deliberateLeak-\(UUID().uuidString)"
        let owner = LiveResources.Owner(suiteID: suiteID, suiteName: "A leaky suite", test: "opens a consumer and keeps it")
        var consumer: RdKafkaConsumer? = try LiveResources.$owner.withValue(owner) {
            try RdKafkaConsumer(["bootstrap.servers": "127.0.0.1:1", "group.id": "leaky", "client.id": "leaky-consumer", "log_level": "0"])
        }
        let leaked = await LeakCheck.openResources(ofSuite: suiteID, grace: .milliseconds(200))
        let report = LeakCheck.report(suite: owner.suiteName, leaked)
        #expect(leaked.count == 1)
        #expect(report.contains("suite \"A leaky suite\" leaked 1 resource"), "\(report)")
        #expect(report.contains("librdkafka consumer 'leaky-consumer'"), "\(report)")
        #expect(report.contains("opened by test \"opens a consumer and keeps it\""), "\(report)")

        try await consumer?.close()
        consumer = nil
        #expect(await LeakCheck.openResources(ofSuite: suiteID, grace: .seconds(10)).isEmpty)
        _ = consumer
    }

    @Test("the time limit cancels a test that runs too long and names the limit; a quick one passes")
    func timeLimit() async throws {
        try await GuardedTrait.withTimeLimit(.seconds(30)) {}
        let error = await #expect(throws: TestTimeLimitExceeded.self) {
            try await GuardedTrait.withTimeLimit(.milliseconds(100)) { try await Task.sleep(for: .seconds(60)) }
        }
        #expect(error?.description.contains("after its turn came") == true)
    }

    @Test("the monitor sees this process's descriptors and threads")
    func monitorSamples() {
        let (fds, threads) = ResourceMonitor.shared.peaks
        #expect(fds.value >= 3)
        #expect(threads.value >= 2)
    }

    @Test("every suite in Tests/ carries the .guarded trait")
    func everySuiteIsGuarded() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let files = FileManager.default.enumerator(atPath: tests.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        var unguarded: [String] = []
        var suites = 0
        for file in files {
            let text = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.hasPrefix("@Suite") {
                suites += 1
                if !line.contains(".guarded") { unguarded.append("\(file):\(number + 1)") }
            }
        }
        #expect(suites >= 30)
        #expect(unguarded.isEmpty, "suites without .guarded: \(unguarded)")
    }
}
