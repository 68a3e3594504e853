import Scenarios
import Testing

@Suite("Scenario files")
struct ScenarioYAMLTests {
    static let full = """
        name: per-key order
        cluster: {brokers: 2, partitions: 8}
        topics:
          - {name: orders, partitions: 4}
        services:
          - name: Counter
            kind: object
            handlers:
              - {name: add, latency_ms: 2, fail_first_attempts: 1}
              - {name: get, kind: shared}
        subscriptions:
          - {name: counter, topic: orders, sink: Counter/add, options: {"auto.offset.reset": earliest, "fetch.wait.max.ms": 50}}
        steps:
          - produce: {topic: orders, count: 100, key: "user-{i % 10}", value: "{i}", headers: {source: qa}}
          - produce: {topic: orders, key: null, value: raw, partition: 2}
          - wait: {invocations: 101, subscription: counter, timeout_ms: 30000}
          - delete: counter
          - restart: ingress
          - sleep_ms: 10
        expect:
          - ordered_per_key: counter
          - no_overlap_per_key: counter
          - parallelism_at_least: {subscription: counter, count: 4}
          - exactly_once: counter
          - at_least_once: counter
          - headers_match_records: counter
          - deletion_honoured: counter
          - invocation_count: {subscription: counter, count: 101}
        """

    @Test("every construct of the format reads into the model, with locations")
    func full() throws {
        let s = try ScenarioYAML.parse(Self.full, file: "order.yaml")
        #expect(s.name == "per-key order")
        #expect(s.cluster == ClusterSpec(brokers: 2, partitions: 8))
        #expect(s.topics == [TopicSpec(name: "orders", partitions: 4)])
        #expect(s.services == [ServiceSpec(name: "Counter", kind: .object, handlers: [
            .init(name: "add", latencyMs: 2, failFirstAttempts: 1), .init(name: "get", kind: .shared),
        ])])
        #expect(s.subscriptions == [SubscriptionSpec(name: "counter", topic: "orders", sink: "Counter/add",
                                                     options: ["auto.offset.reset": "earliest", "fetch.wait.max.ms": "50"])])
        #expect(s.steps.map(\.value) == [
            .produce(ProduceStep(topic: "orders", count: 100, key: "user-{i % 10}", value: "{i}", headers: ["source": "qa"])),
            .produce(ProduceStep(topic: "orders", count: 1, key: nil, value: "raw", partition: 2)),
            .waitForInvocations(count: 101, subscription: "counter", timeoutMs: 30000),
            .deleteSubscription("counter"), .restartIngress, .sleep(ms: 10),
        ])
        #expect(s.steps[2].location == SourceLocation(file: "order.yaml", line: 16, column: 5))
        #expect(s.expectations.count == 8)
        #expect(s.expectations[0].location.line == 21)
    }

    @Test("mistakes are reported with file, line, column and what was expected", arguments: [
        ("name: x\nsteps:\n  - produce: {topic: t, cuont: 3}\n", 3, 25, "unknown key 'cuont'; expected one of: topic, count, key, key_hex, value, headers, partition, compression"),
        ("name: x\ncolour: red\n", 2, 1, "scenario: unknown key 'colour'"),
        ("steps: []\n", 1, 1, "scenario: missing 'name'"),
        ("name: x\ncluster: {brokers: two}\n", 2, 20, "cluster.brokers must be an integer, found 'two'"),
        ("name: x\nservices:\n  - {name: A, kind: actor, handlers: []}\n", 3, 21, "service kind: 'actor' is not one of: service, object, workflow"),
        ("name: x\nexpect:\n  - ordered_per_key: ghost\n", 3, 5, "unknown subscription 'ghost'"),
        ("name: x\nsteps:\n  - {produce: {topic: t}, sleep_ms: 1}\n", 3, 5, "a step has exactly one of"),
        ("name: x\nsteps: [\n", 3, 1, "not valid YAML"),
        ("name: x\nservices: [{name: S, kind: service, handlers: [{name: h}]}]\nsubscriptions: [{name: a, topic: t, sink: S/h}, {name: a, topic: u, sink: S/h}]\n",
         1, 1, "subscription names must be unique; given more than once: a"),
    ])
    func mistakes(yaml: String, line: Int, column: Int, message: String) throws {
        let error = try #require(throws: ScenarioFileError.self) { try ScenarioYAML.parse(yaml, file: "bad.yaml") }
        #expect(error.location.line == line, "\(error)")
        #expect(error.location.column == column, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix("bad.yaml:\(line):\(column): "))
    }
}

@Suite("Scenario files: faults and codecs")
struct ScenarioFaultYAMLTests {
    @Test("fault steps and compression read into the model; a bad codec is refused at its column")
    func faults() throws {
        let s = try ScenarioYAML.parse("""
            name: faults
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t, compression: zstd}
              - fault: {move_leader: {topic: t, partition: 1, to: 2}}
              - fault: {rebalance: s}
              - fault: {stop_broker: 1}
              - fault: {start_broker: 1}
            """)
        #expect(s.steps.map(\.value) == [
            .produce(ProduceStep(topic: "t", compression: "zstd")),
            .fault(.moveLeader(topic: "t", partition: 1, toBroker: 2)), .fault(.rebalance(subscription: "s")),
            .fault(.stopBroker(1)), .fault(.startBroker(1)),
        ])
        let error = try #require(throws: ScenarioFileError.self) {
            try ScenarioYAML.parse("name: x\nsteps:\n  - produce: {topic: t, compression: brotli}\n", file: "c.yaml")
        }
        #expect(error.description == "c.yaml:3:38: produce.compression: 'brotli' is not one of: none, gzip, snappy, lz4, zstd")
    }
}
