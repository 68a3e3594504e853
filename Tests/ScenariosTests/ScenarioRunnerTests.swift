import Foundation
import HarnessTestSupport
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

@Suite("Scenario runner (embedded target)", .guarded)
struct ScenarioRunnerTests {
    /// The embedded ingress's attempts at once in these tests: enough for every parallelism the
    /// library asserts, while several scenarios share one process's descriptors (each attempt
    /// holds a loopback connection, two descriptors here).
    static let concurrency = 16

    static let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scenarios")

    static var libraryFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: library.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test("every scenario of the library passes against the reference ingress", arguments: libraryFiles)
    func library(file: String) async throws {
        let scenario = try ScenarioYAML.load(file: Self.library.appendingPathComponent(file).path)
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error == nil, "\(result.error ?? "")")
        #expect(result.failures.isEmpty, "\(result.failures.map(\.description).joined(separator: "\n"))")
    }

    @Test("expectations that do not hold fail, naming the line, what was expected and the records involved")
    func failingExpectations() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: wrong on purpose
            topics: [{name: t, partitions: 1}]
            services:
              - {name: Counter, kind: object, handlers: [{name: add, latency_ms: 5}]}
            subscriptions:
              - {name: c, topic: t, sink: Counter/add}
            steps:
              - produce: {topic: t, count: 6, key: "k", value: "{i}"}
              - wait: {invocations: 6, subscription: c}
            expect:
              - parallelism_at_least: {subscription: c, count: 2}
              - invocation_count: {subscription: c, count: 7}
              - deletion_honoured: c
              - ordered_per_key: c
              - final_outputs: {subscription: c, outputs: {k: "5"}}
              - final_outputs: {subscription: c, outputs: {k: "4"}}
            """, file: "wrong.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error == nil)
        let messages = result.failures.map(\.description)
        #expect(messages.count == 4, "\(messages)")
        #expect(messages.first == "wrong.yaml:11:5: parallelism_at_least 2 c: expected at least 2 invocations at once; at most 1 ran at the same time")
        #expect(messages.dropFirst().first == "wrong.yaml:12:5: invocation_count 7 c: expected exactly 7 completed invocations, got 6")
        #expect(messages.dropFirst(2).first == "wrong.yaml:13:5: deletion_honoured c: the scenario never deleted 'c'")
        #expect(messages.last == "wrong.yaml:16:5: final_outputs c: expected 1 key(s) to end with the outputs given; 1 did not: key \"k\" ended with \"5\", expected \"4\" (its last invocation: record #5 (t/0@5))")
    }

    @Test("a consumer group that is missing or has other members fails with what was found")
    func consumerGroupExpectation() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: groups
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions:
              - {name: s, topic: t, sink: S/h, options: {client.id: mine}}
            steps:
              - produce: {topic: t, count: 3}
              - wait: {invocations: 3, subscription: s}
              - wait: {group_members: 1, subscription: s}
            expect:
              - consumer_group: {group: nobody-uses-this}
              - consumer_group: {subscription: s, client_id: restate}
              - consumer_group: {subscription: s, members: 2}
              - consumer_group: {subscription: s, members: 1, client_id: mine}
            """, file: "groups.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error == nil, "\(result.error ?? "")")
        #expect(result.failures.map(\.description) == [
            "groups.yaml:10:5: consumer_group nobody-uses-this: expected consumer group nobody-uses-this to exist; the cluster does not know it",
            "groups.yaml:11:5: consumer_group s: expected every member of consumer group the default group of s (its subscription id) to have client.id \"restate\"; one has \"mine\"",
            "groups.yaml:12:5: consumer_group s: expected consumer group the default group of s (its subscription id) to have 2 member(s); it has 1",
        ])
    }

    @Test("a target that cannot run a scenario skips it and says why")
    func skipped() async throws {
        let restart = try ScenarioYAML.parse("name: r\nsteps:\n  - restart: ingress\n")
        let remote = ScenarioRunner(target: .remote(adminURL: "http://127.0.0.1:1", kafkaCluster: "k", advertisedHost: "127.0.0.1", brokerPort: 0))
        let result = await remote.run(restart)
        #expect(result.skipped == "it restarts the ingress, which the ingress at http://127.0.0.1:1 does not let the harness do")
        let fault = try ScenarioYAML.parse("name: f\nsteps:\n  - fault: {drop_connections: all}\n")
        let external = ScenarioRunner(target: ScenarioTarget(kafka: .external(bootstrapServers: "127.0.0.1:1"), ingress: .embedded()))
        #expect(await external.run(fault).skipped == "it injects faults, which the Kafka at 127.0.0.1:1 does not offer (FakeKafka does)")
    }

    @Test("waiting for commits ends once the group committed everything, and names what was not committed when it cannot")
    func committedWait() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: commits
            topics: [{name: t, partitions: 1}, {name: u, partitions: 2}]
            services: [{name: O, kind: object, handlers: [{name: h}]}]
            subscriptions:
              - {name: fine, topic: u, sink: O/h, options: {auto.commit.interval.ms: "100"}}
              - {name: stuck, topic: t, sink: O/h, options: {auto.commit.interval.ms: "100"}}
            steps:
              - produce: {topic: u, count: 20, key: "k{i}"}
              - wait: {committed: fine}
              - produce: {topic: t, key: ok}
              - wait: {invocations: 1, subscription: stuck}
              - produce: {topic: t, key_hex: "c328"}
              - wait: {committed: stuck, timeout_ms: 1500}
            """, file: "commits.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        // The non-UTF-8 key cannot become an object key: the consumer stops before it, so its
        // offset (and nothing after it) is never committed.
        #expect(result.error?.hasPrefix("commits.yaml:13:5: waited 1500 ms for group ") == true, "\(result.error ?? "")")
        #expect(result.error?.hasSuffix("to commit every record; t/0 committed 1, expected 2") == true, "\(result.error ?? "")")
    }

    @Test("with two instances, a delete stops the subscription's consumer on both: the group empties and later records are not invoked")
    func deleteEverywhere() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: delete with two instances
            topics: [{name: t, partitions: 4}]
            services: [{name: O, kind: object, handlers: [{name: h, latency_ms: 2}, {name: witness, kind: shared}]}]
            subscriptions: [{name: s, topic: t, sink: O/h}, {name: witness, topic: t, sink: O/witness}]
            steps:
              - produce: {topic: t, count: 100, key: "k{i % 10}"}
              - instances: 2
              - wait: {group_members: 2, subscription: s}
              - wait: {invocations: 100, subscription: s}
              - delete: s
              - produce: {topic: t, count: 50, key: "k{i % 10}", value: "late-{i}"}
              # The later records were there to be read: the witness (still subscribed) read them.
              - wait: {invocations: 150, subscription: witness}
            expect:
              - deletion_honoured: s
              - exactly_once: s
            """)
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.passed, "\(result.error ?? "") \(result.failures)")
    }

    @Test("an injected fault that never acts fails the scenario at its step: the scenario did not test what it says")
    func unfiredFault() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: a fault nobody meets
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - fault: {inject: {api: DeleteTopics, error: REQUEST_TIMED_OUT, times: 2}}
              - fault: {inject: {api: Metadata, delay_ms: 1, times: 1}}
              - produce: {topic: t, count: 3}
              - wait: {invocations: 3, subscription: s}
            """, file: "unfired.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error == nil, "\(result.error ?? "")")
        #expect(result.failures.map(\.description) == [
            "unfired.yaml:5:5: fault fired: expected the fault DeleteTopics answered REQUEST_TIMED_OUT (2 times) to act on 2 request(s); it acted on 0",
        ])
    }

    @Test("a wait that times out is an error at the step's line")
    func waitTimeout() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: never enough
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, count: 2}
              - wait: {invocations: 2, subscription: s}
              - wait: {invocations: 3, subscription: s, timeout_ms: 1500}
            """, file: "wait.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error?.hasPrefix("wait.yaml:7:5: waited 1500 ms for 3 completed invocations; 2 completed") == true, "\(result.error ?? "")")
    }

    @Test("instances: 2 adds a node of the same cluster: one subscription, two members of its group, every record invoked once")
    func secondInstance() async throws {
        let scenario = try ScenarioYAML.load(file: Self.library.appendingPathComponent("12-second-instance.yaml").path)
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.passed, "\(result.failures.map(\.description)) \(result.error ?? "")")
        let ids = try #require(result.observations?.subscriptionIDs["counter"])
        #expect(ids.count == 1, "the subscription belongs to the cluster, not to a node, as in Restate")
        let invokedBy = Set(result.observations?.attempts.compactMap { $0.headers["restate.subscription.id"] } ?? [])
        #expect(invokedBy == ids)
    }

    @Test("templates: {i} and {i % N}")
    func templates() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: templates
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, count: 5, key: "k-{i % 2}", value: '{"n": {i}, "literal": "{x}"}'}
              - wait: {invocations: 5, subscription: s}
            """, file: "t.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let produced = try #require(result.observations?.produced)
        #expect(produced.map(\.key) == ["k-0", "k-1", "k-0", "k-1", "k-0"])
        #expect(produced.last?.value == #"{"n": 4, "literal": "{x}"}"#)
    }
}

@Suite("Reports", .guarded)
struct ReportTests {
    @Test("JUnit: one test case per scenario, failures with location, XML escaped; HTML: a lane per key")
    func reports() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: "a <tricky> & \\"quoted\\" name"
            services: [{name: S, kind: object, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, count: 4, key: "k{i % 2}"}
              - wait: {invocations: 4, subscription: s}
            expect:
              - invocation_count: {subscription: s, count: 5}
            """, file: "r.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let xml = JUnitReport.render([result])
        #expect(xml.contains(#"<testsuite name="scenarios" tests="1" failures="1" errors="0""#))
        #expect(xml.contains(#"name="a &lt;tricky&gt; &amp; &quot;quoted&quot; name""#))
        #expect(xml.contains("r.yaml:8:5: invocation_count 5 s: expected exactly 5 completed invocations, got 4</failure>"))
        let html = HTMLReport.render([result])
        #expect(html.contains("S/h key k0") && html.contains("S/h key k1"), "one lane per key")
        #expect(html.matches(of: /<rect [^>]*><title>record #/).count == 4, "one bar per attempt")
        #expect(html.contains(">t/0<") || html.contains(">t/1<"), "the partition next to the key")
    }

    @Test("HTML: keys in natural order, overlapping attempts stacked on rows of their own, every expectation with its outcome")
    func htmlTimeline() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: timeline
            services:
              - {name: S, kind: service, handlers: [{name: h, latency_ms: 500}]}
              - {name: O, kind: object, handlers: [{name: h}]}
            subscriptions: [{name: s, topic: t, sink: S/h}, {name: o, topic: u, sink: O/h}]
            steps:
              - produce: {topic: t, count: 3, key: same}
              - produce: {topic: u, count: 12, key: "c{i}"}
              - wait: {invocations: 3, subscription: s}
              - wait: {invocations: 12, subscription: o}
            expect:
              - parallelism_at_least: {subscription: s, count: 2}
              - invocation_count: {subscription: o, count: 13}
            """, file: "timeline.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let html = HTMLReport.render([result])
        let c2 = try #require(html.range(of: ">O/h key c2<")), c10 = try #require(html.range(of: ">O/h key c10<"))
        #expect(c2.lowerBound < c10.lowerBound, "c2 before c10, not in text order")
        #expect(html.contains("✔ parallelism_at_least 2 s"), "a passed expectation is listed")
        #expect(html.contains("✘ invocation_count 13 o"), "a failed expectation is listed")

        // The Service's three attempts: as many rows as attempts ran at once.
        let attempts = try #require(result.observations?.attempts.filter { $0.service == "S" })
        let mostAtOnce = attempts.map { a in attempts.filter { $0.start <= a.start && a.start < $0.end }.count }.max() ?? 0
        let rows = Set(html.matches(of: /<rect x="[0-9.]+" y="([0-9]+)"[^>]*><title>record #[0-9]+ t\//).map { String($0.1) })
        #expect(mostAtOnce >= 2, "the 500 ms handler ran in parallel")
        #expect(rows.count == mostAtOnce, "rows \(rows.sorted()) for \(mostAtOnce) attempts at once")
    }

    @Test("HTML: a failed expectation sits above the timeline, and the attempts of the records it names are outlined")
    func htmlHighlightsInvolvedRecords() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: outlined
            services: [{name: O, kind: object, handlers: [{name: h}]}]
            subscriptions: [{name: o, topic: t, sink: O/h}]
            steps:
              - produce: {topic: t, count: 6, key: k, value: "{i}"}
              - wait: {invocations: 6, subscription: o}
            expect:
              - final_outputs: {subscription: o, outputs: {k: "4"}}
            """, file: "outlined.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.failures.map(\.records) == [[5]], "the failure names record #5, its last invocation")
        let html = HTMLReport.render([result])
        let outlined = html.matches(of: /<rect class="involved"[^>]*><title>([^<]*)</).map { String($0.1) }
        #expect(outlined.count == 1 && outlined.first?.hasPrefix("record #5 ") == true, "\(outlined)")
        let failure = try #require(html.range(of: "final_outputs o: expected 1 key(s)"))
        let timeline = try #require(html.range(of: "<svg"))
        #expect(failure.upperBound < timeline.lowerBound)
    }

    @Test("a subscription with a wrong SASL password fails the scenario with the broker's reason, within the wait's bound")
    func wrongSASLPassword() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: wrong password
            cluster: {sasl: {mechanisms: [SCRAM-SHA-256], users: {ingress: right}}}
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions:
              - {name: s, topic: t, sink: S/h, options: {security.protocol: SASL_PLAINTEXT, sasl.mechanisms: SCRAM-SHA-256, sasl.username: ingress, sasl.password: wrong}}
            steps:
              - produce: {topic: t, count: 3}
              - wait: {invocations: 3, subscription: s, timeout_ms: 4000}
            """, file: "wrong-password.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error?.hasPrefix("wrong-password.yaml:8:5: waited 4000 ms for 3 completed invocations; 0 completed (cluster default refused ") == true, "\(result.error ?? "")")
        #expect(result.error?.hasSuffix("SASL authentication(s): Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256)") == true, "\(result.error ?? "")")
    }

    @Test("over SASL_SSL, a subscription overriding the ingress's password fails the scenario with the broker's reason, not a hang")
    func wrongSASLSSLPassword() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: wrong password over TLS
            cluster: {security_protocol: SASL_SSL, sasl: {mechanisms: [SCRAM-SHA-256], users: {ingress: right}, ingress_user: ingress}}
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions:
              - {name: s, topic: t, sink: S/h, options: {sasl.password: wrong}}
            steps:
              - produce: {topic: t, count: 3}
              - wait: {invocations: 3, subscription: s, timeout_ms: 4000}
            """, file: "wrong-password-tls.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error?.hasPrefix("wrong-password-tls.yaml:8:5: waited 4000 ms for 3 completed invocations; 0 completed (cluster default refused ") == true, "\(result.error ?? "")")
        #expect(result.error?.hasSuffix("invalid credentials with SASL mechanism SCRAM-SHA-256)") == true, "\(result.error ?? "")")
    }

    @Test("a subscription that turns TLS off on an SSL cluster fails the scenario naming the failed handshakes")
    func plaintextSubscriptionOnSSLCluster() async throws {
        let scenario = try ScenarioYAML.parse("""
            name: plaintext client
            cluster: {security_protocol: SSL}
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions:
              - {name: s, topic: t, sink: S/h, options: {security.protocol: PLAINTEXT}}
            steps:
              - produce: {topic: t, count: 3}
              - wait: {invocations: 3, subscription: s, timeout_ms: 4000}
            """, file: "plaintext-on-ssl.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.error?.contains("0 completed (cluster default saw ") == true, "\(result.error ?? "")")
        #expect(result.error?.hasSuffix("failed TLS handshake(s): TLS handshake with 127.0.0.1 failed: WRONG_VERSION_NUMBER)") == true, "\(result.error ?? "")")
    }
}
