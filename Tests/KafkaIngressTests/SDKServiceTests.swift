import Foundation
import HarnessTestSupport
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

    @Test("a handler that uses what the ingress cannot serve yet (a durable sleep) fails its attempts, naming the command; nothing is reported completed")
    func unsupportedCommandIsNamed() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
                try #require(registered.status == 201, "\(registered.body)")
                let (topic, id) = try await f.subscribedTopic("naps", to: "Echo/nap")
                try f.produce(topic, [(key: "k", value: #"{"n":1}"#)], partitions: 1)
                try await eventually("the attempt failed, naming SleepCommand") {
                    try await f.ingress.invocations(subscription: id).first?.error?.contains("SleepCommand") == true
                }
                let invocation = try #require(try await f.ingress.invocations(subscription: id).first)
                #expect(invocation.status != .completed)
                #expect(invocation.error?.contains("does not serve yet") == true, "\(invocation.error ?? "")")
            }
        }
    }
}
