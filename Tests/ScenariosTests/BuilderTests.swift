import HarnessTestSupport
import ScenarioRunner
import Scenarios
import ScenarioTesting
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

@Suite("Swift scenario builder", .guarded)
struct BuilderTests {
    @Test("the builder makes the same model as YAML, located at the Swift lines")
    func sameModel() throws {
        let start = #line
        let built = Scenario("per-key order") {
            Topic("orders", partitions: 4)
            Service("Counter", .object) { Handler("add", latencyMs: 2) }
            Subscribe("counter", topic: "orders", sink: "Counter/add")
            Produce(topic: "orders", count: 100, key: "k-{i % 10}")
            Wait(invocations: 100, subscription: "counter")
            Expect.orderedPerKey("counter")
        }
        let yaml = try ScenarioYAML.parse("""
            name: per-key order
            topics: [{name: orders, partitions: 4}]
            services: [{name: Counter, kind: object, handlers: [{name: add, latency_ms: 2}]}]
            subscriptions: [{name: counter, topic: orders, sink: Counter/add}]
            steps:
              - produce: {topic: orders, count: 100, key: "k-{i % 10}"}
              - wait: {invocations: 100, subscription: counter}
            expect:
              - ordered_per_key: counter
            """)
        #expect(built.topics == yaml.topics && built.services == yaml.services && built.subscriptions == yaml.subscriptions)
        #expect(built.steps.map(\.value) == yaml.steps.map(\.value))
        #expect(built.expectations.map(\.value) == yaml.expectations.map(\.value))
        #expect(built.steps[0].location.file.hasSuffix("BuilderTests.swift"))
        #expect(built.steps[0].location.line == start + 5, "the line of Produce")
    }

    @Test("a passing scenario from Swift records no issue")
    func passes() async {
        let result = await expectScenario(Scenario("objects in order") {
            Service("Counter", .object) { Handler("add") }
            Subscribe("c", topic: "t", sink: "Counter/add")
            Produce(topic: "t", count: 50, key: "k{i % 5}")
            Wait(invocations: 50, subscription: "c")
            Expect.orderedPerKey("c")
            Expect.noOverlapPerKey("c")
            Expect.exactlyOnce("c")
            Expect.headersMatchRecords("c")
        })
        #expect(result.passed)
    }

    @Test("a failed expectation is reported at the Swift line that wrote it")
    func failureAtCallerLine() async {
        let expectedLine = #line + 7  // the Expect line below
        await withKnownIssue {
            _ = await expectScenario(Scenario("wrong count") {
                Service("S", .service) { Handler("h") }
                Subscribe("s", topic: "t", sink: "S/h")
                Produce(topic: "t", count: 3)
                Wait(invocations: 3, subscription: "s")
                Expect.invocationCount(4, "s")
            })
        } matching: { issue in
            issue.sourceLocation?.line == expectedLine && issue.comments.contains { $0.rawValue.contains("expected exactly 4 completed invocations") }
        }
    }

    @Test("a Swift scenario naming an undeclared subscription fails at that line before anything runs")
    func unknownSubscription() async {
        let line = #line + 4
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(Scenario("typo") {
            Service("S", .service) { Handler("h") }
            Subscribe("s", topic: "t", sink: "S/h")
            Wait(invocations: 1, subscription: "z")
        })
        #expect(result.errorLocation?.line == line)
        #expect(result.error?.hasSuffix("unknown subscription 'z'; declared: s") == true, "\(result.error ?? "")")
        #expect(result.observations == nil)
    }

    @Test("clusters, late subscriptions, faults and the new expectations build the same model as YAML")
    func newComponents() throws {
        var built = Scenario("more") {
            Cluster("eu", partitions: 2)
            Topic("t", cluster: "eu")
            Service("S", .object) { Handler("h") }
            Subscribe("s", topic: "t", sink: "S/h", options: ["group.id": "g"], cluster: "eu")
            Produce(topic: "t", count: 2, key: "k", timestamp: 5, cluster: "eu")
            StartSubscription("s")
            KafkaFault(.onCluster("eu", .dropConnections(broker: nil)))
            Expect.finalOutputs(["k": "1"], "s")
            Expect.consumerGroup(ConsumerGroupExpectation(group: "g", members: 1, cluster: "eu"))
        }
        let yaml = try ScenarioYAML.parse("""
            name: more
            clusters: [{name: default}, {name: eu, partitions: 2}]
            topics: [{name: t, cluster: eu}]
            services: [{name: S, kind: object, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h, options: {group.id: g}, cluster: eu}]
            steps:
              - produce: {topic: t, count: 2, key: k, timestamp: 5, cluster: eu}
              - subscribe: s
              - fault: {cluster: eu, drop_connections: all}
            expect:
              - final_outputs: {subscription: s, outputs: {k: "1"}}
              - consumer_group: {group: g, members: 1, cluster: eu}
            """)
        built.source = yaml.source
        #expect(built.clusters == yaml.clusters && built.topics == yaml.topics && built.subscriptions == yaml.subscriptions)
        #expect(built.steps.map(\.value) == yaml.steps.map(\.value))
        #expect(built.expectations.map(\.value) == yaml.expectations.map(\.value))
    }
}
