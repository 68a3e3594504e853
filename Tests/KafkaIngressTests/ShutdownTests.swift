import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaProtocol
import RdKafka
import Recorder
import Testing

/// `harness ingress` stops within 10 s of SIGTERM whatever is in flight, and at once on a second
/// signal; what it abandons stays journaled and completes after a restart.
@Suite("Shutdown of the harness commands", .guarded)
struct ShutdownTests {
    /// The first 9 attempts fail: with this retry policy (50 ms, doubling, at most 10 s) the tenth
    /// comes 22 s after the first, long after the first process has stopped (its graceful stop
    /// keeps retrying for at most 7 s), so the stop always meets the invocation in retry.
    static let retryPolicy = """
        [default-retry-policy]
        initial-interval = "50ms"
        max-interval = "10s"

        """
    static let services: [RecorderConfiguration.Service] = [
        .init(name: "Counter", type: .virtualObject, handlers: [.init(name: "add", behaviour: .init(failFirstAttempts: 9))]),
    ]

    @Test("SIGTERM with an invocation in retry: exits within 10 s; after a restart the invocation completes, once")
    func boundedWithRetryingInvocation() async throws {
        try await withRetryingInvocation { ingress, recorder, arguments in
            let asked = ContinuousClock.now
            ingress.child.signal(SIGTERM)
            let status = await ingress.child.waitForExit(timeout: .seconds(10))
            let took = ContinuousClock.now - asked
            #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running after \(took)")")
            #expect(recorder.records.allSatisfy { $0.outcome != .completed }, "the invocation was still retrying when stopped")

            try await withIngressProcess(arguments: arguments) { _ in
                try await eventually("the abandoned invocation completed after the restart", timeout: .seconds(60)) {
                    recorder.records.contains { $0.outcome == .completed }
                }
            }
            #expect(recorder.records.filter { $0.outcome == .completed }.count == 1)
        }
    }

    @Test("SIGTERM while a handler runs: the ingress waits for it, so a restart does not run it again")
    func waitsForRunningAttempt() async throws {
        let services: [RecorderConfiguration.Service] = [
            .init(name: "Slow", type: .service, handlers: [.init(name: "run", behaviour: .init(latencyMs: 1_500))]),
        ]
        try await IngressFixture.withRecorder(services) { recorder, recorderPort in
            try await withCluster(partitions: 1) { cluster in
                try await IngressFixture.withIngressFiles(cluster: cluster) { files in
                    let arguments = files + ["--ingress-port", "0"]
                    let ingress = try await IngressProcess.start(arguments: arguments)
                    try await ingress.child.stopping {
                        let admin = AdminClient(base: ingress.adminURL)
                        #expect(try await admin.post("/deployments", ["uri": "http://127.0.0.1:\(recorderPort)", "use_http_11": true]).status == 201)
                        let sent = try await AdminClient(base: try #require(ingress.ingressURL)).post("/Slow/run/send", ["n": 1])
                        #expect(sent.status == 202, "\(sent.body)")
                        try await eventually("the attempt is running") {
                            let listed = try await admin.get("/invocations").json()["invocations"] as? [[String: Any]] ?? []
                            return listed.first?["status"] as? String == "running"
                        }
                        // The signal cancels the serving task; the shutdown that follows must still
                        // give the attempt its grace period instead of abandoning it.
                        ingress.child.signal(SIGTERM)
                        #expect(await ingress.child.waitForExit(timeout: .seconds(10)) == 0)
                    }
                    try await withIngressProcess(arguments: arguments) { restarted in
                        let listed = try await AdminClient(base: restarted.adminURL).get("/invocations").json()["invocations"] as? [[String: Any]] ?? []
                        #expect(listed.map { $0["status"] as? String } == ["completed"], "\(listed)")
                    }
                    #expect(recorder.records.count == 1, "attempts: \(recorder.records.map(\.outcome))")
                }
            }
        }
    }

    @Test("a second SIGTERM while the first shutdown waits exits at once")
    func secondSignalExitsAtOnce() async throws {
        try await withRetryingInvocation { ingress, _, _ in
            ingress.child.signal(SIGTERM)
            // The graceful stop now waits for the retrying invocation; the second signal cuts it short.
            try await ingress.child.waitForOutput(matching: "stopping")
            let asked = ContinuousClock.now
            ingress.child.signal(SIGTERM)
            let status = await ingress.child.waitForExit(timeout: .seconds(2))
            #expect(status == 128 + SIGTERM, "exit status \(status.map(String.init) ?? "none") \(ContinuousClock.now - asked) after the second signal")
            #expect(ingress.child.outputText.contains("second SIGTERM: exiting at once"))
        }
    }

    @Test("harness broker (a consumer connected) and harness recorder exit with status 0 within 10 s of SIGTERM",
          arguments: [["broker", "--port", "0"], ["recorder", "--port", "0", "--service", "Counter:object:add"]])
    func otherCommandsStop(arguments: [String]) async throws {
        try await withChildProcess(try harnessBinary(), arguments) { command in
            let ready = try await command.waitForOutput(matching: "^ready .*")
            let address = String(ready.dropFirst("ready ".count))
            var consumer: RdKafkaConsumer?
            if arguments[0] == "broker" {
                consumer = try RdKafkaConsumer(["bootstrap.servers": address, "group.id": uniqueName("g"), "log_level": "0"])
                try consumer?.subscribe([uniqueName("t")])
                _ = try? await consumer?.poll(timeoutMs: 200)  // connects; the topic does not exist
            }
            let asked = ContinuousClock.now
            command.signal(SIGTERM)
            let status = await command.waitForExit(timeout: .seconds(10))
            #expect(status == 0, "harness \(arguments[0]): exit status \(status.map(String.init) ?? "none: still running after \(ContinuousClock.now - asked)")")
            try await consumer?.close()
        }
    }

    /// A cluster, a recorder whose Counter/add fails its first attempts, and `harness ingress`
    /// with one record of the Counter's subscription in retry.
    private func withRetryingInvocation(
        _ body: (IngressProcess, InvocationRecorder, [String]) async throws -> Void
    ) async throws {
        try await IngressFixture.withRecorder(Self.services) { recorder, recorderPort in
            try await withCluster(partitions: 1) { cluster in
                let topic = uniqueName("shutdown")
                try cluster.createTopic(topic, partitions: 1)
                try await IngressFixture.withIngressFiles(cluster: cluster, moreTOML: Self.retryPolicy) { files in
                    let arguments = files + ["--log-level", "info"]
                    try await withIngressProcess(arguments: arguments) { ingress in
                        let admin = AdminClient(base: ingress.adminURL)
                        #expect(try await admin.post("/deployments", ["uri": "http://127.0.0.1:\(recorderPort)", "use_http_11": true]).status == 201)
                        #expect(try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://Counter/add"]).status == 201)
                        try cluster.append([KafkaRecord(timestamp: 1, key: Array("k".utf8), value: Array("1".utf8))], to: .init(topic, 0))
                        try await eventually("two failed attempts") { recorder.records.count >= 2 }
                        try await body(ingress, recorder, arguments)
                    }
                }
            }
        }
    }
}
