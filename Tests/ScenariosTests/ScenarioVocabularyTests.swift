import Foundation
import HarnessTestSupport
import Recorder
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import Testing

/// What a scenario can say about records, producers, crashes, the admin API and what the
/// ingress did: each expectation is shown to fail, with its reason, when what it says is false.
@Suite("Scenario vocabulary", .guarded)
struct ScenarioVocabularyTests {
    @Test("records as Kafka has them: tombstones, no timestamp, log-append topics; templates that cannot render are refused")
    func records() throws {
        let s = try ScenarioYAML.parse("""
            name: r
            topics: [{name: t, timestamp_type: log_append, configs: {cleanup.policy: compact}}]
            steps:
              - produce: {topic: t, key: null, value: null, timestamp: none, label: gone}
              - produce: {topic: t, count: 2, via: log}
              - produce: {topic: t, transaction: open, expect_error: _MSG_TIMED_OUT}
              - produce: {topic: t, eventually: true}
            """)
        guard case .produce(let tombstone) = s.steps[0].value, case .produce(let bulk) = s.steps[1].value,
              case .produce(let open) = s.steps[2].value, case .produce(let retried) = s.steps[3].value else { Issue.record("not produce steps"); return }
        #expect(tombstone.key == nil && tombstone.value == nil && tombstone.timestamp == -1 && tombstone.label == "gone")
        #expect(bulk.via == .log && tombstone.via == .producer)
        #expect(open.transaction == .open && open.expectError == "_MSG_TIMED_OUT" && retried.eventually)
        #expect(s.topics[0].configs == ["message.timestamp.type": "LogAppendTime", "cleanup.policy": "compact"])

        func refused(_ step: String) -> String {
            do {
                _ = try ScenarioYAML.parse("name: x\nsteps:\n  - \(step)\n", file: "x.yaml")
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(refused("produce: {topic: t, key: \"k{i % 0}\"}") == "x.yaml:3:30: produce.key: '{i % 0}': the modulus must be a whole number above 0")
        #expect(refused("produce: {topic: t, value: \"{i % x}\"}") == "x.yaml:3:32: produce.value: '{i % x}': the modulus must be a whole number above 0")
        #expect(refused("produce: {topic: t, via: log, transaction: commit}").hasSuffix("transaction, expect_error and eventually need the producer"))
        #expect(refused("produce: {topic: t, timestamp: -5}") == "x.yaml:3:36: produce.timestamp (epoch milliseconds, or none) must be at least 0, found -5")
        #expect(refused("produce: {topic: t, expect_error: NOT_AN_ERROR}").hasPrefix("x.yaml:3:39: produce.expect_error: 'NOT_AN_ERROR' is not a Kafka error name"))
        #expect(refused("restart: {ingress: reboot}") == "x.yaml:3:24: restart.ingress: 'reboot' is not one of: graceful, kill")
        #expect(refused("remove_deployment: recordr") == "x.yaml:3:5: unknown deployment 'recordr'; known: recorder")
        #expect(refused("admin: {method: GET, path: \"/subscriptions/{subscription:nope}\"}").hasPrefix("x.yaml:3:5: unknown subscription 'nope'"))
        #expect(refused("admin: {method: FETCH, path: /x}") == "x.yaml:3:21: admin.method: 'FETCH' is not one of: GET, POST, PUT, PATCH, DELETE")
    }

    @Test("steps and expectations of the new vocabulary read into the model")
    func newKeys() throws {
        let s = try ScenarioYAML.parse("""
            name: n
            cluster: {properties: {client.id: everyone}}
            services: [{name: S, kind: object, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, label: late}
              - restart: {ingress: kill}
              - patch_cluster: {name: default, properties: {a: b}}
              - remove_deployment: recorder
              - admin: {method: get, path: /subscriptions, status: 200, expect: {subscriptions: []}}
            expect:
              - headers: {subscription: s, match: {kafka.key: "{key_base64}", x: absent, y: present}}
              - invocation_count: {subscription: s, at_most: 3}
              - never_invoked: {subscription: s, label: late}
              - never_invoked: s
              - committed_offsets: {subscription: s, offsets: {0: 4}}
              - object_key: {subscription: s, key: "{key}"}
              - ordered_per_partition: s
              - metric: {name: m, labels: {a: b}, at_least: 2}
            """)
        #expect(s.cluster.properties == ["client.id": "everyone"])
        #expect(s.steps.map(\.value).dropFirst() == [
            .killIngress,
            .admin(AdminStep(method: "PATCH", path: "/kafka-clusters/default", body: #"{"properties":{"a":"b"}}"#, status: 200)),
            .admin(AdminStep(method: "DELETE", path: "/deployments/{deployment:recorder}?force=true")),
            .admin(AdminStep(method: "GET", path: "/subscriptions", status: 200, expectBody: #"{"subscriptions":[]}"#)),
        ])
        #expect(s.expectations.map(\.value) == [
            .headers(subscription: "s", rules: [HeaderRule("kafka.key", .equals("{key_base64}")), HeaderRule("x", .absent), HeaderRule("y", .present)]),
            .invocationCount(subscription: "s", count: 3, bound: .atMost),
            .neverInvoked(subscription: "s", label: "late"),
            .neverInvoked(subscription: "s", label: nil),
            .committedOffsets(subscription: "s", offsets: [0: 4]),
            .objectKey(subscription: "s", template: "{key}"),
            .orderedPerPartition(subscription: "s"),
            .metric(MetricExpectation(name: "m", labels: ["a": "b"], value: 2, bound: .atLeast)),
        ])
        #expect(throws: ScenarioFileError.self) {
            try ScenarioYAML.parse("name: n\nsubscriptions: [{name: s, topic: t, sink: S/h}]\nservices: [{name: S, kind: object, handlers: [{name: h}]}]\nexpect:\n  - never_invoked: {subscription: s, label: nope}\n")
        }
        #expect(throws: ScenarioFileError.self) {
            try ScenarioYAML.parse("name: n\nsubscriptions: [{name: s, topic: t, sink: S/h}]\nservices: [{name: S, kind: object, handlers: [{name: h}]}]\nexpect:\n  - headers: {subscription: s, match: {k: \"{nope}\"}}\n")
        }
    }

    @Test("each new expectation fails when what it says is false, naming what it saw")
    func failures() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: wrong on purpose
            cluster: {properties: {client.id: from-cluster, auto.commit.interval.ms: "100"}}
            topics: [{name: t, partitions: 1}]
            services: [{name: Counter, kind: object, handlers: [{name: add}]}]
            subscriptions: [{name: c, topic: t, sink: Counter/add}]
            steps:
              - produce: {topic: t, count: 3, key: "k{i}", headers: {h: v}, label: ran}
              - produce: {topic: t, key: "z", value: null}
              - wait: {invocations: 4, subscription: c}
              - wait: {committed: c}
            expect:
              - headers: {subscription: c, match: {h: present}}
              - headers: {subscription: c, match: {kafka.key: "{key}"}}
              - invocation_count: {subscription: c, at_most: 3}
              - never_invoked: {subscription: c, label: ran}
              - committed_offsets: {subscription: c, offsets: {0: 9}}
              - object_key: {subscription: c, key: "x-{key}"}
              - final_outputs: {subscription: c, outputs: {k0: "a", k1: "b", k2: "2", z: "null"}}
              - metric: {name: restate_kafka_ingress_requests_total, value: 1000}
              - committed_offsets: c
              - consumer_group: {subscription: c, client_id: from-cluster}
            """, file: "wrong.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error == nil, "\(result.error ?? "")")
        let messages = result.failures.map(\.description)
        #expect(messages.count == 8, "\(messages)")
        #expect(messages.contains("wrong.yaml:12:5: headers c: record #0 (t/0@0): its invocation has no header h"))
        #expect(messages.contains("wrong.yaml:13:5: headers c: record #0 (t/0@0): its invocation has header kafka.key = \"azA=\", expected \"k0\""))
        #expect(messages.contains("wrong.yaml:14:5: invocation_count at_most 3 c: expected at most 3 completed invocations, got 4"))
        #expect(messages.contains { $0.hasPrefix("wrong.yaml:15:5: never_invoked c ran: expected no record labelled \"ran\" to start; 3 did, e.g. #0 (t/0@0 key \"k0\")") })
        #expect(messages.contains("wrong.yaml:16:5: committed_offsets c: expected the group of 'c' to have committed t/0@9; t/0 has 4"))
        #expect(messages.contains("wrong.yaml:17:5: object_key c: record #0 (t/0@0, key \"k0\") ran on object key \"k0\", expected \"x-k0\""))
        #expect(messages.contains("wrong.yaml:18:5: final_outputs c: expected 4 key(s) to end with the outputs given; 3 did not: key \"k0\" ended with \"0\", expected \"a\" (its last invocation: record #0 (t/0@0)); key \"k1\" ended with \"1\", expected \"b\" (its last invocation: record #1 (t/0@1)); key \"z\" ended with \"\", expected \"null\" (its last invocation: record #3 (t/0@3))"))
        #expect(messages.contains { $0.hasPrefix("wrong.yaml:19:5: metric restate_kafka_ingress_requests_total: expected restate_kafka_ingress_requests_total to be exactly 1000; it is ") })
    }

    @Test("exactly_once fails when a read_committed subscription invoked an aborted or uncommitted record")
    func abortedInvoked() {
        func record(_ index: Int, offset: Int64, aborted: Bool = false, open: Bool = false) -> ProducedRecord {
            var r = ProducedRecord(index: index, cluster: "default", topic: "t", partition: 0, offset: offset, key: "k", keyBytes: Array("k".utf8), value: "v",
                                   timestamp: 1, producedAfterDeleting: [])
            r.aborted = aborted
            r.inOpenTransaction = open
            return r
        }
        func attempt(offset: Int64) -> RecordedInvocation {
            RecordedInvocation(invocationID: "inv-\(offset)", service: "S", handler: "h", key: "k",
                               headers: ["kafka.topic": "t", "kafka.partition": "0", "kafka.offset": "\(offset)", "restate.subscription.id": "sub"],
                               payload: "v", attempt: 1, start: offset * 10, end: offset * 10 + 1, outcome: .completed, output: "v")
        }
        let produced = [record(0, offset: 0), record(1, offset: 1, aborted: true), record(2, offset: 3, open: true), record(3, offset: 4)]
        func observations(_ attempts: [RecordedInvocation], isolation: String? = nil) -> Observations {
            var o = Observations(produced: produced, attempts: attempts, subscriptionIDs: ["s": ["sub"]],
                                 subscriptionTopics: ["s": TopicOnCluster(cluster: "default", topic: "t")],
                                 groupMembersAfterDelete: [:], unfinishedAfterDelete: [:], consumerGroups: [:], unfiredFaults: [])
            o.subscriptionSpecs = ["s": SubscriptionSpec(name: "s", topic: "t", sink: "S/h", options: isolation.map { ["isolation.level": $0] } ?? [:])]
            return o
        }
        let once = Expectation.delivered(subscription: "s", exactlyOnce: true)
        // Only record #0 is consumable: #1 aborted, #2 open, #3 behind the open transaction.
        #expect(once.check(observations([attempt(offset: 0)])) == nil)
        #expect(once.check(observations([attempt(offset: 0), attempt(offset: 1)]))
                == "expected no aborted or uncommitted record invoked (read_committed); 1 were, e.g. #1 (t/0@1 key \"k\")")
        #expect(once.check(observations([attempt(offset: 0), attempt(offset: 4)]))?.hasPrefix("expected no aborted or uncommitted record invoked") == true)
        // read_uncommitted sees everything, and owes everything.
        #expect(once.check(observations([0, 1, 3, 4].map { attempt(offset: $0) }, isolation: "read_uncommitted")) == nil)
        #expect(once.check(observations([attempt(offset: 0)], isolation: "read_uncommitted"))?.hasPrefix("expected every one of 4 records invoked; 3 never were") == true)
    }

    @Test("an admin step checks the answer's status and body, and names what came back")
    func adminStep() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: admin
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - admin: {method: GET, path: "/subscriptions/{subscription:s}", expect: {sink: "service://S/h", source: "kafka://default/t"}}
              - admin: {method: GET, path: "/subscriptions/{subscription:s}", expect: {sink: "service://S/other"}}
            """, file: "admin.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error?.hasPrefix("admin.yaml:6:5: GET /subscriptions/sub_") == true, "\(result.error ?? "")")
        #expect(result.error?.hasSuffix("; sink is \"service://S/h\", expected \"service://S/other\"") == true, "error: \(result.error ?? "")")
        #expect(result.error?.contains("answered HTTP 200") == true, "\(result.error ?? "")")
    }

    @Test("a produce step that expects an error fails when the records are delivered")
    func expectedErrorThatDidNotHappen() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: no error
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, expect_error: INVALID_RECORD}
            """, file: "e.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error == "e.yaml:5:5: expected producing 1 record(s) to t to fail with INVALID_RECORD; every one was delivered")
    }

    @Test("a server that fails to bind, or never says it listens, ends the wait with a message instead of hanging it")
    func serverThatNeverListens() async throws {
        let started = ContinuousClock.now
        await #expect(throws: ScenarioError("the recorder did not start: bind(descriptor:ptr:bytes:): Address already in use (errno: 98)")) {
            _ = try await RunningServer.start("the recorder") { _ in
                throw ScenarioError("bind(descriptor:ptr:bytes:): Address already in use (errno: 98)")
            }
        }
        await #expect(throws: ScenarioError("the recorder did not start: it did not listen within 0.5 seconds")) {
            _ = try await RunningServer.start("the recorder", within: .milliseconds(500)) { _ in
                try await Task.sleep(for: .seconds(60))
            }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        let server = try await RunningServer.start("a server") { ready in
            await ready(4242)
            try await Task.sleep(for: .seconds(60))
        }
        #expect(server.url == "http://127.0.0.1:4242")
        await server.stop()
    }
}
