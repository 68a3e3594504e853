import ChildProcesses
import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import KafkaProtocol
import Recorder
import Testing

/// Several `harness ingress` processes on one data directory are the nodes of one cluster: the
/// first holds the directory, the others consume and send what they read to it, and one of them
/// takes over when the holder dies.
@Suite("Processes sharing a data directory", .guarded)
struct SharedDataDirectoryTests {
    @Test("two processes, lost OffsetCommit answers, a rebalance, then the holder killed: every record invoked once, in order per key")
    func twoProcessesExactlyOnce() async throws {
        let services: [RecorderConfiguration.Service] = [
            .init(name: "Ledger", type: .virtualObject, handlers: [.init(name: "post", behaviour: .init(latencyMs: 1))]),
        ]
        try await IngressFixture.withRecorder(services) { recorder, recorderPort in
            try await withCluster(partitions: 6) { cluster in
                let topic = uniqueName("shared")
                try cluster.createTopic(topic, partitions: 6)
                let keys = (0..<60).map { "acct-\($0)" }
                var produced = 0
                func produce(_ count: Int, _ label: String) throws {
                    var byPartition: [Int32: [KafkaRecord]] = [:]
                    for i in produced..<produced + count {
                        let key = keys[i % keys.count]
                        byPartition[Int32(IngressFixture.stableHash(key) % 6), default: []]
                            .append(KafkaRecord(timestamp: 1, key: Array(key.utf8), value: Array("\(label)-\(i)".utf8)))
                    }
                    for (p, records) in byPartition { try cluster.append(records, to: .init(topic, p)) }
                    produced += count
                }
                func completed() -> [RecordedInvocation] { recorder.records.filter { $0.outcome == .completed } }

                try await IngressFixture.withIngressFiles(cluster: cluster) { arguments in
                    let holder = try await IngressProcess.start(arguments: arguments)
                    try await holder.child.stopping {
                        let admin = AdminClient(base: holder.adminURL)
                        #expect(try await admin.post("/deployments", ["uri": "http://127.0.0.1:\(recorderPort)", "use_http_11": true]).status == 201)
                        let created = try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://Ledger/post"])
                        #expect(created.status == 201, "\(created.body)")
                        let group = try #require(created.json()["id"] as? String)

                        try produce(1000, "first")
                        try await eventually("the first 1,000 completed", timeout: .seconds(60)) { Set(completed().map(\.payload)).count == 1000 }
                        // The holder's commits are lost from here on: a partition it gives up is
                        // read again from an older offset by whoever takes it.
                        let lostCommits = cluster.inject(Fault(apiKey: .offsetCommit, action: .disconnect, frequency: .always))
                        try produce(1000, "uncommitted")
                        try await eventually("the next 1,000 completed", timeout: .seconds(60)) { Set(completed().map(\.payload)).count == 2000 }

                        let node = try await IngressProcess.startNode(arguments: arguments)
                        try await node.stopping {
                            let pid = holder.child.pid
                            #expect(try await node.waitForOutput(matching: "^node of pid .*").hasPrefix("node of pid \(pid) (admin \(holder.adminURL))"))
                            try await eventually("both processes own partitions", timeout: .seconds(60)) {
                                (cluster.group(group)?.members.filter { !($0.assignment ?? []).isEmpty }.count ?? 0) == 2
                            }
                            cluster.removeFault(lostCommits)
                            try produce(500, "both")
                            try await eventually("some of them completed", timeout: .seconds(60)) { Set(completed().map(\.payload)).count >= 2100 }
                            // The holder dies mid-stream; the node claims the directory and goes on.
                            await holder.kill()
                            let ready = try await node.waitForOutput(matching: "^ready .*")
                            try produce(500, "after")
                            try await eventually("all 3,000 records invoked", timeout: .seconds(120)) { Set(completed().map(\.payload)).count == 3000 }

                            let successor = AdminClient(base: String(ready.dropFirst("ready ".count)))
                            let invocations = try #require(try await successor.get("/invocations").json()["invocations"] as? [[String: Any]])
                            let coordinates = invocations.map { "\($0["partition"] ?? "")/\($0["offset"] ?? "")" }
                            #expect(invocations.count == 3000, "one invocation per record, whichever process read it")
                            #expect(Set(coordinates).count == coordinates.count, "no record journaled twice")
                            // A kill may repeat an attempt of the same invocation; no record may
                            // become a second invocation.
                            var invocationsPerRecord: [String: Set<String>] = [:]
                            for run in recorder.records { invocationsPerRecord[run.payload, default: []].insert(run.invocationID) }
                            let twice = invocationsPerRecord.filter { $0.value.count > 1 }.keys.sorted()
                            #expect(twice.isEmpty, "\(twice.count) records invoked twice, e.g. \(twice.prefix(5))")
                            for key in keys {
                                let runs = completed().filter { $0.key == key }.sorted { $0.start < $1.start }
                                let order = runs.map { Int($0.payload.split(separator: "-").last!)! }
                                let firstSeen = order.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
                                #expect(firstSeen == firstSeen.sorted(), "key \(key) ran out of order: \(order)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("a node consumes a subscription created after it joined; when the holder stops gracefully, the node takes over")
    func nodeFollowsSubscriptionsAndTakesOver() async throws {
        let services: [RecorderConfiguration.Service] = [
            .init(name: "Echo", type: .service, handlers: [.init(name: "run", behaviour: .init(latencyMs: 0))]),
        ]
        try await IngressFixture.withRecorder(services) { recorder, recorderPort in
            try await withCluster(partitions: 2) { cluster in
                try await IngressFixture.withIngressFiles(cluster: cluster) { arguments in
                    let holder = try await IngressProcess.start(arguments: arguments)
                    try await holder.child.stopping {
                        let node = try await IngressProcess.startNode(arguments: arguments)
                        try await node.stopping {
                            let topic = uniqueName("late")
                            try cluster.createTopic(topic, partitions: 2)
                            let admin = AdminClient(base: holder.adminURL)
                            #expect(try await admin.post("/deployments", ["uri": "http://127.0.0.1:\(recorderPort)", "use_http_11": true]).status == 201)
                            let created = try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://Echo/run"])
                            let group = try #require(created.json()["id"] as? String)
                            try await eventually("the node joined the subscription's group", timeout: .seconds(30)) {
                                cluster.group(group)?.members.filter { !($0.assignment ?? []).isEmpty }.count == 2
                            }
                            func produce(_ label: String) throws {
                                for p in Int32(0)..<2 {
                                    try cluster.append((0..<50).map { KafkaRecord(timestamp: 1, key: nil, value: Array("\(label)-p\(p)-\($0)".utf8)) },
                                                       to: .init(topic, p))
                                }
                            }
                            try produce("both")
                            try await eventually("every record invoked", timeout: .seconds(30)) { recorder.records.count == 100 }

                            // SIGTERM: the holder leaves its groups and releases the directory; the node claims it.
                            #expect(await holder.child.stop() == 0)
                            let ready = try await node.waitForOutput(matching: "^ready .*", timeout: .seconds(15))
                            try await eventually("the successor owns both partitions", timeout: .seconds(30)) {
                                cluster.group(group)?.members.count == 1 && cluster.group(group)?.members.first?.assignment?.count == 2
                            }
                            try produce("after")
                            try await eventually("the records after the takeover invoked", timeout: .seconds(30)) { recorder.records.count == 200 }
                            #expect(Set(recorder.records.map(\.payload)).count == 200, "each record invoked once")
                            let successor = AdminClient(base: String(ready.dropFirst("ready ".count)))
                            #expect(try await successor.get("/subscriptions/\(group)").status == 200, "the successor serves the admin API")
                        }
                    }
                }
            }
        }
    }
}
