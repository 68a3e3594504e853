import Foundation
import HarnessTestSupport
import KafkaProtocol
import KafkaIngress
import Testing

/// The ingress invoking services written with the official Restate Python SDK (restate-sdk
/// 1.3.0 under hypercorn), fed from Kafka.
@Suite("Restate SDK services", .guarded)
struct SDKServiceTests {
    @Test("a Counter object fed 1, 2, 3 on one key answers 1, 3, 6; Echo sees the exact headers")
    func counterAndHeaders() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")

                let counts = uniqueName("counts")
                try f.cluster.createTopic(counts, partitions: 2)
                let counter = try await f.subscribe(counts, to: "Counter/add")
                try f.produce(counts, [("alice", "1"), ("alice", "2"), ("alice", "3"), ("bob", "10")], partitions: 2)
                try await eventually("four Counter.add invocations completed") {
                    try await f.ingress.invocations(subscription: counter).filter { $0.status == .completed }.count == 4
                }
                let invocations = try await f.ingress.invocations(subscription: counter)
                let alice = invocations.filter { $0.key == "alice" }.sorted { $0.offset < $1.offset }
                #expect(alice.map(\.output) == [.number(1), .number(3), .number(6)])
                #expect(invocations.first { $0.key == "bob" }?.output == .number(10), "state is per key")

                let echoes = uniqueName("echoes")
                try f.cluster.createTopic(echoes, partitions: 1)
                let echo = try await f.subscribe(echoes, to: "Echo/headers")
                try f.produce(echoes, [("k", #"{"n":1}"#)], partitions: 1)
                try await eventually("Echo.headers completed") {
                    try await f.ingress.invocations(subscription: echo).first?.status == .completed
                }
                let call = try #require(try await f.ingress.invocations(subscription: echo).first)
                let record = try #require(try f.cluster.records(.init(echoes, 0)).first)
                let expected: [String: JSONValue] = [
                    "kafka.offset": .string("0"), "kafka.partition": .string("0"), "kafka.topic": .string(echoes),
                    "kafka.timestamp": .string(String(record.timestamp)), "kafka.key": .string("aw=="),
                    "restate.subscription.id": .string(echo),
                ]
                #expect(call.output == .object(["headers": .object(expected), "value": .object(["n": .number(1)])]))
            }
        }
    }

    @Test("one-way calls from a handler start once each, after the sender's outcome is durable; a delayed one waits its delay")
    func oneWayCalls() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (topic, id) = try await f.subscribedTopic("fanout", to: "FanOut/spread")
                try f.produce(topic, [(key: "r1", value: #"{"keys":["a","b","c"],"by":2,"later":"d","delay_ms":400}"#)], partitions: 1)
                try await eventually("the sender and its four sends completed") {
                    try await f.ingress.invocations(subscription: id).filter { $0.status == .completed }.count == 5
                }
                let all = try await f.ingress.invocations(subscription: id)
                let sender = try #require(all.first { $0.target == "FanOut/spread" })
                #expect(sender.output == .number(3))
                let adds = all.filter { $0.target == "Counter/add" }
                #expect(adds.map { $0.key ?? "" }.sorted() == ["a", "b", "c", "d"], "each send exactly once")
                #expect(adds.filter { $0.key != "d" }.allSatisfy { $0.output == .number(2) })
                let later = try #require(adds.first { $0.key == "d" })
                #expect(later.output == .number(100))
                // The SDK sets the start time from its clock while the sender runs: after its start.
                let waited = (later.startedAt ?? 0) - (sender.startedAt ?? .max)
                #expect(waited >= 400, "the delayed send started \(waited) ms after its sender started")
                #expect((later.startedAt ?? 0) >= (sender.completedAt ?? .max), "no send starts before its sender's outcome is durable")
                #expect(adds.allSatisfy { $0.topic == "" && $0.partition == -1 }, "sent invocations come from no Kafka record")
            }
        }
    }

    @Test("ctx.run: a proposed result is journaled and the handler resumed by replay, so each side effect runs once")
    func runSideEffectsOnce() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (topic, id) = try await f.subscribedTopic("runs", to: "Echo/once")
                let name = uniqueName("effect")
                try f.produce(topic, [(key: "k", value: #"{"name":"\#(name)"}"#)], partitions: 1)
                try await eventually("the invocation completed") {
                    try await f.ingress.invocations(subscription: id).first?.status == .completed
                }
                let invocation = try #require(try await f.ingress.invocations(subscription: id).first)
                #expect(invocation.output == .object(["results": .array([.string("done \(name)-1"), .string("done \(name)-2")]),
                                                     "runs": .array([.number(1), .number(1)])]))
                #expect(invocation.attempts == 1, "resuming after a proposal is not a retry")
            }
        }
    }

    @Test("a durable sleep suspends the invocation and resumes it from its journal once the time has come")
    func durableSleep() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (topic, id) = try await f.subscribedTopic("naps", to: "Echo/nap")
                try f.produce(topic, [(key: "k", value: #"{"ms":600}"#)], partitions: 1)
                try await eventually("the invocation is suspended") {
                    try await f.ingress.invocations(subscription: id).first?.status == .suspended
                }
                try await eventually("the invocation completed after its sleep", timeout: .seconds(30)) {
                    try await f.ingress.invocations(subscription: id).first?.status == .completed
                }
                let invocation = try #require(try await f.ingress.invocations(subscription: id).first)
                #expect(invocation.output == .object(["ms": .number(600)]))
                let slept = (invocation.completedAt ?? 0) - (invocation.startedAt ?? .max)
                #expect(slept >= 600, "completed \(slept) ms after it started")
                #expect(invocation.attempts == 1, "a suspension is not a failed attempt")
            }
        }
    }

    @Test("an exclusive handler suspended in a sleep keeps its object key: the key's next invocation waits, then sees its state")
    func suspendedKeepsKey() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (later, laterID) = try await f.subscribedTopic("later", to: "Counter/add_later")
                let (now, nowID) = try await f.subscribedTopic("now", to: "Counter/add")
                try f.produce(later, [(key: "k", value: #"{"ms":800,"n":1}"#)], partitions: 1)
                try await eventually("the first invocation sleeps") {
                    try await f.ingress.invocations(subscription: laterID).first?.status == .suspended
                }
                try f.produce(now, [(key: "k", value: "10")], partitions: 1)
                try await eventually("both completed", timeout: .seconds(30)) {
                    let first = try await f.ingress.invocations(subscription: laterID).first?.status
                    let second = try await f.ingress.invocations(subscription: nowID).first?.status
                    return first == .completed && second == .completed
                }
                let first = try #require(try await f.ingress.invocations(subscription: laterID).first)
                let second = try #require(try await f.ingress.invocations(subscription: nowID).first)
                #expect(first.output == .number(1) && second.output == .number(11), "the second ran after the first, on its state")
                #expect((second.startedAt ?? 0) >= (first.completedAt ?? .max), "the key was held while the first slept")
            }
        }
    }

    @Test("a durable sleep survives kill -9 of the ingress: after the restart it wakes at its time, not before, and completes once")
    func durableSleepAcrossRestart() async throws {
        try await withSDKEndpoint { sdk in
            try await withCluster(partitions: 1) { cluster in
                let topic = uniqueName("naps")
                try cluster.createTopic(topic, partitions: 1)
                try await IngressFixture.withIngressFiles(cluster: cluster) { arguments in
                    let first = try await IngressProcess.start(arguments: arguments)
                    let admin = AdminClient(base: first.adminURL)
                    #expect(try await admin.post("/deployments", ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                    let created = try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://Echo/nap"])
                    #expect(created.status == 201, "\(created.body)")
                    try cluster.append([KafkaRecord(timestamp: 1, key: Array("k".utf8), value: Array(#"{"ms":2500}"#.utf8))], to: .init(topic, 0))
                    func invocations(_ admin: AdminClient) async throws -> [[String: Any]] {
                        try await admin.get("/invocations").json()["invocations"] as? [[String: Any]] ?? []
                    }
                    try await eventually("the invocation is suspended in its sleep") {
                        try await invocations(admin).first?["status"] as? String == "suspended"
                    }
                    await first.kill()
                    try await withIngressProcess(arguments: arguments) { second in
                        let restarted = AdminClient(base: second.adminURL)
                        try await eventually("the invocation completed after the restart", timeout: .seconds(60)) {
                            try await invocations(restarted).first?["status"] as? String == "completed"
                        }
                        let all = try await invocations(restarted)
                        #expect(all.count == 1, "the record was journaled once")
                        let done = try #require(all.first)
                        let slept = (done["completed_at"] as? Int ?? 0) - (done["started_at"] as? Int ?? .max)
                        #expect(slept >= 2500, "completed \(slept) ms after it first started")
                    }
                }
            }
        }
    }

    @Test("a delayed send survives kill -9 of the ingress: after the restart it starts at its time, once")
    func delayedSendAcrossRestart() async throws {
        try await withSDKEndpoint { sdk in
            try await withCluster(partitions: 1) { cluster in
                let topic = uniqueName("fanout")
                try cluster.createTopic(topic, partitions: 1)
                try await IngressFixture.withIngressFiles(cluster: cluster) { arguments in
                    let first = try await IngressProcess.start(arguments: arguments)
                    let admin = AdminClient(base: first.adminURL)
                    #expect(try await admin.post("/deployments", ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                    let created = try await admin.post("/subscriptions", ["source": "kafka://test/\(topic)", "sink": "service://FanOut/spread"])
                    #expect(created.status == 201, "\(created.body)")
                    let body = #"{"keys":[],"later":"z","delay_ms":2500}"#
                    try cluster.append([KafkaRecord(timestamp: 1, key: Array("r".utf8), value: Array(body.utf8))], to: .init(topic, 0))
                    func invocations(_ admin: AdminClient) async throws -> [[String: Any]] {
                        try await admin.get("/invocations").json()["invocations"] as? [[String: Any]] ?? []
                    }
                    try await eventually("the sender completed and its delayed send is journaled") {
                        let all = try await invocations(admin)
                        return all.count == 2 && all.contains { $0["target"] as? String == "FanOut/spread" && $0["status"] as? String == "completed" }
                    }
                    await first.kill()
                    try await withIngressProcess(arguments: arguments) { second in
                        let restarted = AdminClient(base: second.adminURL)
                        try await eventually("the delayed send ran after the restart", timeout: .seconds(60)) {
                            try await invocations(restarted).allSatisfy { $0["status"] as? String == "completed" }
                        }
                        let all = try await invocations(restarted)
                        #expect(all.count == 2, "the send was journaled once")
                        let sender = try #require(all.first { $0["target"] as? String == "FanOut/spread" })
                        let sent = try #require(all.first { $0["target"] as? String == "Counter/add" })
                        #expect(sent["output"] as? Int == 100)
                        let waited = (sent["started_at"] as? Int ?? 0) - (sender["started_at"] as? Int ?? .max)
                        #expect(waited >= 2500, "the send started \(waited) ms after its sender")
                    }
                }
            }
        }
    }

    @Test("a one-way call's invocation id, when the handler waits for it, names the invocation that runs")
    func sendInvocationID() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (topic, id) = try await f.subscribedTopic("tracked", to: "FanOut/tracked")
                try f.produce(topic, [(key: "k", value: #"{"key":"t"}"#)], partitions: 1)
                try await eventually("the sender and the sent invocation completed") {
                    try await f.ingress.invocations(subscription: id).filter { $0.status == .completed }.count == 2
                }
                let all = try await f.ingress.invocations(subscription: id)
                let sender = try #require(all.first { $0.target == "FanOut/tracked" })
                let sent = try #require(all.first { $0.target == "Counter/add" })
                #expect(sender.output == .string(sent.id))
                #expect(sent.key == "t" && sent.output == .number(1))
            }
        }
    }

    @Test("request-response calls: the callee starts as the call is journaled, and its result resumes the caller")
    func calls() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (topic, id) = try await f.subscribedTopic("asks", to: "Echo/ask")
                try f.produce(topic, [(key: "k", value: #"{"key":"x","n":5}"#)], partitions: 1)
                try await eventually("the caller and its two callees completed") {
                    try await f.ingress.invocations(subscription: id).filter { $0.status == .completed }.count == 3
                }
                let all = try await f.ingress.invocations(subscription: id)
                let caller = try #require(all.first { $0.target == "Echo/ask" })
                #expect(caller.output == .object(["total": .number(5), "echoed": .object(["total": .number(5)])]))
                #expect(caller.attempts == 1, "waiting for a callee is not a failed attempt")
                let add = try #require(all.first { $0.target == "Counter/add" })
                #expect(add.key == "x" && add.output == .number(5))
                #expect(all.filter { $0.target == "Echo/headers" }.count == 1)
            }
        }
    }

    @Test("ctx.attach_invocation: a handler attached to a running invocation resumes with its result when it ends; to one that ended, at once; to none, a 404 failure")
    func attachToInvocation() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await HTTPIngressTests.withHTTPIngress(f) { http in
                    let napping = try await http.request(.POST, "/Echo/nap/send", raw: #"{"ms": 700}"#)
                    let napID = try #require((try napping.json())["invocationId"] as? String)
                    let attached = try await http.request(.POST, "/Echo/attach", raw: "{\"id\": \"\(napID)\"}")
                    #expect(attached.status == 200 && attached.body.contains("700"), "\(attached.status) \(attached.body)")
                    let nap = try #require(try await f.ingress.invocations().first { $0.id == napID })
                    #expect(nap.status == .completed, "the attach answered only once the nap had ended")
                    let attacher = try #require(try await f.ingress.invocations().first { $0.target == "Echo/attach" })
                    #expect((attacher.completedAt ?? 0) >= (nap.completedAt ?? .max))

                    // Ended already: answered from the journal at once.
                    let again = try await http.request(.POST, "/Echo/attach", raw: "{\"id\": \"\(napID)\"}")
                    #expect(again.status == 200 && again.body == attached.body)

                    let neverRan = String(napID.dropLast()) + (napID.hasSuffix("a") ? "b" : "a")
                    let missing = try await http.request(.POST, "/Echo/attach", raw: "{\"id\": \"\(neverRan)\"}")
                    #expect(missing.status == 404 && missing.body.contains(#""message":"not found""#), "\(missing.status) \(missing.body)")
                }
            }
        }
    }

    @Test("lazy state: a service that enables it gets no state with the request; each read and the key list are answered from the object's state, with the invocation's own writes")
    func lazyState() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await HTTPIngressTests.withHTTPIngress(f) { http in
                    let first = try await http.request(.POST, "/LazyCounter/k/bump", raw: "5")
                    #expect(first.status == 200 && first.body == #"{"total": 5, "keys": ["last", "total"]}"#, "\(first.status) \(first.body)")
                    let second = try await http.request(.POST, "/LazyCounter/k/bump", raw: "2")
                    #expect(second.status == 200 && second.body == #"{"total": 7, "keys": ["last", "total"]}"#, "\(second.status) \(second.body)")
                    let other = try await http.request(.POST, "/LazyCounter/other/bump", raw: "1")
                    #expect(other.body == #"{"total": 1, "keys": ["last", "total"]}"#, "state is per key: \(other.body)")
                }
            }
        }
    }

    @Test("a retry policy in the SDK's discovery manifest (v4) wins over the runtime's default: the service's, and a handler's over its service's")
    func retryPolicyFromManifest() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "the SDK sends its v4 manifest only when asked for v4: \(registered.body)")
                try await HTTPIngressTests.withHTTPIngress(f) { http in
                    let killed = try await http.request(.POST, "/Flaky/always_fails", raw: #""a""#)
                    #expect(killed.status == 500 && killed.body.contains("attempt 2 of a fails on purpose') (killed after 2 attempts)"), "\(killed.status) \(killed.body)")
                    let longer = try await http.request(.POST, "/Flaky/fails_longer", raw: #""b""#)
                    #expect(longer.status == 500 && longer.body.contains("attempt 4 of b fails on purpose') (killed after 4 attempts)"), "\(longer.status) \(longer.body)")
                }
            }
        }
    }

    @Test("max-retry-policy-max-attempts in restate.toml caps the attempts a manifest's retry policy asks for")
    func retryPolicyCap() async throws {
        let configured = try IngressConfiguration.parse("max-retry-policy-max-attempts = 3\n")
        #expect(configured.defaultRetryPolicy.manifestMaxAttemptsCap == 3)
        var retry = RetryPolicy(initialDelayMs: 20, maxDelayMs: 200)
        retry.manifestMaxAttemptsCap = configured.defaultRetryPolicy.manifestMaxAttemptsCap
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: [], retry: retry) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await HTTPIngressTests.withHTTPIngress(f) { http in
                    // The handler asks for 4 attempts; the cap allows 3. Its service's 2 stay 2.
                    let capped = try await http.request(.POST, "/Flaky/fails_longer", raw: #""c""#)
                    #expect(capped.status == 500 && capped.body.contains("(killed after 3 attempts)"), "\(capped.status) \(capped.body)")
                    let under = try await http.request(.POST, "/Flaky/always_fails", raw: #""d""#)
                    #expect(under.body.contains("(killed after 2 attempts)"), "\(under.body)")
                }
            }
        }
    }

    @Test("an attach still waiting when the ingress stops holds nothing of it: the suite's leak check sees the journal closed")
    func attachPendingAtShutdown() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                let (napTopic, napSubscription) = try await f.subscribedTopic("naps", to: "Echo/nap")
                try f.produce(napTopic, [(key: "n", value: #"{"ms": 600000}"#)], partitions: 1)
                try await eventually("the nap sleeps") {
                    try await f.ingress.invocations(subscription: napSubscription).first?.status == .suspended
                }
                let nap = try #require(try await f.ingress.invocations(subscription: napSubscription).first)
                let (attachTopic, attachSubscription) = try await f.subscribedTopic("attaches", to: "Echo/attach")
                try f.produce(attachTopic, [(key: "a", value: "{\"id\": \"\(nap.id)\"}")], partitions: 1)
                // Teardown follows with the attach registered: its waiting task must let go of the journal.
                try await eventually("the attacher waits for the nap") {
                    try await f.ingress.invocations(subscription: attachSubscription).first?.status == .suspended
                }
            }
        }
    }
}
