import HarnessTestSupport
import Scenarios
import Testing

@Suite("Scenario files", .guarded)
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

    @Test("security_protocol, sasl.ingress_user and the OAUTHBEARER scopes read into the model; sasl alone still means SASL_PLAINTEXT")
    func security() throws {
        let s = try ScenarioYAML.parse("""
            name: x
            clusters:
              - {name: a, security_protocol: SASL_SSL, sasl: {mechanisms: [SCRAM-SHA-256, PLAIN], users: {i: p, j: q}, ingress_user: i}}
              - {name: b, security_protocol: SSL}
              - {name: c, sasl: {mechanisms: [PLAIN], users: {i: p}}}
              - {name: d}
              - {name: e, security_protocol: SASL_SSL, sasl: {mechanisms: [OAUTHBEARER], users: {i: p}, ingress_user: i, required_scope: [kafka, x], ingress_scope: kafka}}
            """, file: "security.yaml")
        #expect(s.clusters.map(\.effectiveSecurityProtocol) == [.saslSSL, .ssl, .saslPlaintext, .plaintext, .saslSSL])
        #expect(s.clusters[4].sasl == SASLSpec(mechanisms: ["OAUTHBEARER"], users: ["i": "p"], ingressUser: "i", requiredScope: ["kafka", "x"], ingressScope: "kafka"))
        #expect(s.clusters[0].sasl == SASLSpec(mechanisms: ["SCRAM-SHA-256", "PLAIN"], users: ["i": "p", "j": "q"], ingressUser: "i"))
        #expect(s.clusters[2].securityProtocol == nil)
    }

    @Test("mistakes are reported with file, line, column and what was expected", arguments: [
        ("name: x\nsteps:\n  - produce: {topic: t, cuont: 3}\n", 3, 25, "unknown key 'cuont'; expected one of: topic, count, key, key_hex, value, value_json, value_hex, value_file, headers, partition, compression, timestamp, cluster, transaction"),
        ("name: x\ncolour: red\n", 2, 1, "scenario: unknown key 'colour'"),
        ("steps: []\n", 1, 1, "scenario: missing 'name'"),
        ("name: x\ncluster: {brokers: two}\n", 2, 20, "cluster.brokers must be an integer, found 'two'"),
        ("name: x\nservices:\n  - {name: A, kind: actor, handlers: []}\n", 3, 21, "service kind: 'actor' is not one of: service, object, workflow"),
        ("name: x\nexpect:\n  - ordered_per_key: ghost\n", 3, 5, "unknown subscription 'ghost'"),
        ("name: x\nsteps:\n  - {produce: {topic: t}, sleep_ms: 1}\n", 3, 5, "a step has exactly one of"),
        ("name: x\nsteps: [\n", 3, 1, "not valid YAML"),
        ("name: x\nservices: [{name: S, kind: service, handlers: [{name: h}]}]\nsubscriptions: [{name: a, topic: t, sink: S/h}, {name: a, topic: u, sink: S/h}]\n",
         1, 1, "subscription names must be unique; given more than once: a"),
        ("name: x\ncluster: {brokers: 1}\nclusters: [{name: a}]\n", 3, 1, "give either 'cluster' (one) or 'clusters' (several), not both"),
        ("name: x\nclusters: [{brokers: 2}]\n", 2, 12, "cluster: missing 'name'"),
        ("name: x\nsteps:\n  - produce: {topic: t, cluster: moon}\n", 3, 5, "unknown cluster 'moon'; declared: default"),
        ("name: x\nsteps:\n  - produce: {topic: t, value: a, value_hex: 00}\n", 3, 35, "produce: give one of value, value_json, value_hex"),
        ("name: x\nsteps:\n  - fault: {inject: {api: Fetchh, error: NONE}}\n", 3, 27, "inject.api: 'Fetchh' is not a Kafka API; expected one of: Produce, Fetch"),
        ("name: x\nsteps:\n  - fault: {inject: {api: Fetch, error: NOT_A_LEADER}}\n", 3, 41, "inject.error: 'NOT_A_LEADER' is not a Kafka error name"),
        ("name: x\nsteps:\n  - fault: {inject: {api: Fetch, delay_ms: 5, disconnect: true}}\n", 3, 21, "inject: give exactly one of: error, delay_ms, disconnect, drop_response"),
        ("name: x\nsteps:\n  - fault: {inject: {api: Fetch, disconnect: true, topic: t}}\n", 3, 21, "inject: topic and partition go together"),
        ("name: x\nsteps:\n  - fault: {inject: {api: Fetch, disconnect: true, probability: 2}}\n", 3, 65, "inject.probability must be between 0 and 1, found 2.0"),
        ("name: x\nsteps:\n  - fault: {cluster: moon, stop_broker: 1}\n", 3, 5, "unknown cluster 'moon'"),
        ("name: x\nsteps:\n  - subscribe: ghost\n", 3, 5, "unknown subscription 'ghost'"),
        ("name: x\nexpect:\n  - consumer_group: {members: 1}\n", 3, 21, "consumer_group: give group or subscription (one of them)"),
        ("name: x\ncluster: {security_protocol: TLS}\n", 2, 30, "cluster.security_protocol: 'TLS' is not one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
        ("name: x\ncluster: {security_protocol: SASL_SSL}\n", 2, 10, "cluster: security_protocol SASL_SSL needs a sasl block"),
        ("name: x\ncluster: {security_protocol: SSL, sasl: {mechanisms: [PLAIN], users: {a: b}}}\n", 2, 10, "a sasl block needs security_protocol SASL_PLAINTEXT or SASL_SSL, not SSL"),
        ("name: x\ncluster: {sasl: {mechanisms: [PLAIN], users: {a: b}, ingress_user: c}}\n", 2, 68, "sasl.ingress_user: 'c' is not one of the users (a)"),
    ])
    func mistakes(yaml: String, line: Int, column: Int, message: String) throws {
        let error = try #require(throws: ScenarioFileError.self) { try ScenarioYAML.parse(yaml, file: "bad.yaml") }
        #expect(error.location.line == line, "\(error)")
        #expect(error.location.column == column, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix("bad.yaml:\(line):\(column): "))
    }
}

@Suite("Scenario files: faults and codecs", .guarded)
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
            .produce(ProduceStep(topic: "t", compression: .zstd)),
            .fault(.moveLeader(topic: "t", partition: 1, toBroker: 2)), .fault(.rebalance(subscription: "s")),
            .fault(.stopBroker(1)), .fault(.startBroker(1)),
        ])
        let error = try #require(throws: ScenarioFileError.self) {
            try ScenarioYAML.parse("name: x\nsteps:\n  - produce: {topic: t, compression: brotli}\n", file: "c.yaml")
        }
        #expect(error.description == "c.yaml:3:38: produce.compression: 'brotli' is not one of: none, gzip, snappy, lz4, zstd")
    }
}

@Suite("Scenario files: clusters, late subscriptions, values and every fault", .guarded)
struct ScenarioFeatureYAMLTests {
    @Test("several clusters, cluster fields, subscribe steps, JSON/hex values, timestamps and consumer groups read into the model")
    func features() throws {
        let s = try ScenarioYAML.parse("""
            name: features
            clusters: [{name: main, brokers: 2}, {name: eu, partitions: 2}]
            topics: [{name: t, cluster: eu}]
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h, cluster: eu}]
            steps:
              - produce: {topic: t, cluster: eu, value_json: {id: "{i}", n: 1, ok: true, tags: [a, "1"]}, timestamp: 1700000000000}
              - produce: {topic: t, value_hex: "00ff"}
              - subscribe: s
              - wait: {committed: s, timeout_ms: 500}
            expect:
              - consumer_group: {group: g, members: 1, client_id: c, cluster: eu}
            """)
        #expect(s.steps[3].value == .waitForCommitted(subscription: "s", timeoutMs: 500))
        #expect(s.clusters == [ClusterSpec(name: "main", brokers: 2), ClusterSpec(name: "eu", partitions: 2)])
        #expect(s.topics == [TopicSpec(name: "t", cluster: "eu")])
        #expect(s.subscriptions.first?.cluster == "eu")
        #expect(s.subscribedByStep == ["s"])
        guard case .produce(let json) = s.steps[0].value, case .produce(let hex) = s.steps[1].value else { Issue.record("not produce steps"); return }
        #expect(json.value == #"{"id":"{i}","n":1,"ok":true,"tags":["a","1"]}"#)
        #expect(json.timestamp == 1_700_000_000_000 && json.cluster == "eu")
        #expect(hex.valueHex == "00ff")
        #expect(s.expectations.map(\.value) == [.consumerGroup(ConsumerGroupExpectation(group: "g", members: 1, clientID: "c", cluster: "eu"))])
    }

    @Test("every FakeKafka control is a fault step")
    func faults() throws {
        let s = try ScenarioYAML.parse("""
            name: faults
            clusters: [{name: a}, {name: b}]
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - fault: {inject: {api: Fetch, error: NOT_LEADER_OR_FOLLOWER, times: 3, topic: t, partition: 0, broker: 1}}
              - fault: {inject: {api: OffsetCommit, delay_ms: 500, always: true}}
              - fault: {inject: {api: Produce, drop_response: true, probability: 0.5}}
              - fault: {inject: {api: Metadata, disconnect: true}}
              - fault: {clear_faults: true}
              - fault: {drop_connections: all}
              - fault: {drop_connections: 1}
              - fault: {move_coordinator: {subscription: s, to: 1}}
              - fault: {cap_version: {api: Fetch, max: 4}}
              - fault: {cap_version: {api: Fetch, max: none}}
              - fault: {cluster: b, stop_broker: 1}
            """)
        #expect(s.steps.map(\.value) == [
            .fault(.inject(InjectedFault(api: .fetch, action: .error(.notLeaderOrFollower), frequency: .times(3), topic: "t", partition: 0, broker: 1))),
            .fault(.inject(InjectedFault(api: .offsetCommit, action: .delayMs(500), frequency: .always))),
            .fault(.inject(InjectedFault(api: .produce, action: .dropResponse, frequency: .probability(0.5)))),
            .fault(.inject(InjectedFault(api: .metadata, action: .disconnect))),
            .fault(.clearFaults), .fault(.dropConnections(broker: nil)), .fault(.dropConnections(broker: 1)),
            .fault(.moveCoordinator(subscription: "s", toBroker: 1)),
            .fault(.capVersion(api: .fetch, max: 4)), .fault(.capVersion(api: .fetch, max: nil)),
            .fault(.onCluster("b", .stopBroker(1))),
        ])
    }
}
