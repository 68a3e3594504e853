import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import KafkaProtocol
import Recorder
import Testing

/// The `harness ingress` process killed with SIGKILL mid-stream, then restarted on the same data
/// directory: every record is invoked, and none is journaled twice.
@Suite("Crash recovery", .guarded)
struct CrashRecoveryTests {
    @Test("kill -9 mid-stream, restart: every record invoked, none journaled twice")
    func killAndRestart() async throws {
        let services: [RecorderConfiguration.Service] = [
            .init(name: "Counter", type: .virtualObject, handlers: [.init(name: "add", behaviour: .init(latencyMs: 5))]),
        ]
        try await IngressFixture.withRecorder(services) { recorder, recorderPort in
            try await withCluster(partitions: 4) { cluster in
                let topic = uniqueName("crash")
                try cluster.createTopic(topic, partitions: 4)
                try await IngressFixture.withIngressFiles(cluster: cluster) { arguments in
                    let ingress = try await IngressProcess.start(arguments: arguments)
                    let admin = AdminClient(base: ingress.adminURL)
                    #expect(try await admin.post("/deployments", ["uri": "http://127.0.0.1:\(recorderPort)", "use_http_11": true]).status == 201)
                    let created = try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://Counter/add"])
                    #expect(created.status == 201, "\(created.body)")

                    let keys = (0..<20).map { "key-\($0)" }
                    func produce(_ range: Range<Int>) throws {
                        var byPartition: [Int32: [KafkaRecord]] = [:]
                        for i in range {
                            let key = keys[i % keys.count]
                            byPartition[Int32(IngressFixture.stableHash(key) % 4), default: []]
                                .append(KafkaRecord(timestamp: 1, key: Array(key.utf8), value: Array("\(i)".utf8)))
                        }
                        for (p, records) in byPartition { try cluster.append(records, to: .init(topic, p)) }
                    }
                    try produce(0..<400)
                    try await eventually("some invocations completed before the kill") {
                        recorder.records.filter { $0.outcome == .completed }.count >= 60
                    }
                    await ingress.kill()
                    try produce(400..<600)
                    try await withIngressProcess(arguments: arguments) { ingress in
                        let restarted = AdminClient(base: ingress.adminURL)

                        try await eventually("all 600 records invoked", timeout: .seconds(120)) {
                            Set(recorder.records.filter { $0.outcome == .completed }.map(\.payload)).count == 600
                        }
                        let listed = try await restarted.get("/invocations")
                        let invocations = try #require(try listed.json()["invocations"] as? [[String: Any]])
                        let coordinates = invocations.map { "\($0["partition"] ?? "")/\($0["offset"] ?? "")" }
                        #expect(invocations.count == 600, "one journal entry per record")
                        #expect(Set(coordinates).count == coordinates.count, "no record journaled twice")
                        try await eventually("every journaled invocation completed") {
                            let all = try await restarted.get("/invocations").json()["invocations"] as? [[String: Any]] ?? []
                            return all.count == 600 && all.allSatisfy { $0["status"] as? String == "completed" }
                        }
                        // Per key, the values were produced in increasing order; the last completed
                        // invocation of each key must carry its last value (a re-run after the crash may
                        // repeat an attempt, never run an older record after a newer one completed).
                        for key in keys {
                            let runs = recorder.records.filter { $0.key == key && $0.outcome == .completed }.sorted { $0.start < $1.start }
                            let values = runs.map { Int($0.payload)! }
                            let firstSeen = values.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
                            #expect(firstSeen == firstSeen.sorted(), "key \(key) ran out of order: \(values)")
                        }
                    }
                }
            }
        }
    }
}
