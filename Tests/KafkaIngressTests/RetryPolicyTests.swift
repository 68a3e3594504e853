import Foundation
import HarnessTestSupport
import KafkaIngress
import Recorder
import Testing

/// What happens when an invocation's attempts run out, per `on-max-attempts`.
@Suite("Retry policy: pause or kill after max-attempts", .guarded)
struct RetryPolicyTests {
    /// Every invocation fails its first three attempts; the policy allows three.
    static let services = [RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [
        .init(name: "add", behaviour: .init(failFirstAttempts: 3)),
    ])]

    static func policy(_ onMaxAttempts: RetryPolicy.OnMaxAttempts) -> RetryPolicy {
        RetryPolicy(initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3, onMaxAttempts: onMaxAttempts)
    }

    @Test("pause: the invocation stays open as paused, its key blocked (the next record never attempted); resume completes it, then the key moves on")
    func pause() async throws {
        try await IngressFixture.with(services: Self.services, retry: Self.policy(.pause)) { f in
            let (topic, id) = try await f.subscribedTopic("pause", to: "Counter/add", partitions: 1)
            try f.produce(topic, [(key: "k", value: "0"), (key: "k", value: "1"), (key: "j", value: "2")], partitions: 1)
            try await eventually("k's first and j's record paused") {
                try await f.ingress.invocations(subscription: id).filter { $0.status == .paused }.count == 2
            }
            #expect(await f.ingress.waitUntilIdle(timeout: .seconds(10)), "paused invocations do not keep the ingress busy")
            let listed = try await f.request(.GET, "/invocations?subscription=\(id)")
            let invocations = try #require(try listed.json()["invocations"] as? [[String: Any]])
            #expect(invocations.map { $0["status"] as? String } == ["paused", "pending", "paused"])
            #expect(invocations.map { $0["attempts"] as? Int } == [3, 0, 3])
            #expect(!f.recorder.records.contains { $0.payload == "1" }, "the record behind a paused one is not attempted")

            #expect(invocations.allSatisfy { ($0["id"] as? String)?.count == 38 }, "ids in Restate's format")
            let first = try #require(invocations.first?["id"] as? String)
            let inboxed = try #require(invocations.dropFirst().first?["id"] as? String)
            let waiting = try await f.request(.PATCH, "/invocations/\(inboxed)/resume")
            #expect(waiting.status == 425)
            #expect(waiting.body == #"{"message":"The invocation '\#(inboxed)' is either inboxed or scheduled, cannot be resumed.","restate_code":null}"#)
            let malformed = try await f.request(.PATCH, "/invocations/foo/resume")
            #expect(malformed.status == 400)
            #expect(malformed.body == #"{"message":"The request field 'invocation_id' is invalid. Reason: bad format","restate_code":null}"#)
            let unknownID = "inv_1" + String(repeating: "0", count: 33)
            let unknown = try await f.request(.PATCH, "/invocations/\(unknownID)/resume")
            #expect(unknown.status == 404)
            #expect(unknown.body == #"{"message":"The requested invocation '\#(unknownID)' does not exist","restate_code":null}"#)
            let resumed = try await f.request(.PATCH, "/invocations/\(first)/resume")
            #expect(resumed.status == 200, "\(resumed.body)")
            // The recorder counts attempts per invocation, so the fourth (the first after resume) succeeds.
            try await eventually("the resumed invocation completed and the key's next record was attempted") {
                f.recorder.records.contains { $0.payload == "0" && $0.outcome == .completed } && f.recorder.records.contains { $0.payload == "1" }
            }
            let firstOfNext = try #require(f.recorder.records.first { $0.payload == "1" })
            let completion = try #require(f.recorder.records.first { $0.payload == "0" && $0.outcome == .completed })
            #expect(firstOfNext.start >= completion.end, "k's next record ran only after the resumed one completed")
            try await eventually("the resumed invocation journaled as completed") {
                try await f.ingress.invocations(subscription: id).first?.status == .completed
            }
            let again = try await f.request(.PATCH, "/invocations/\(first)/resume")
            #expect(again.status == 409)
            #expect(again.body == #"{"message":"The invocation '\#(first)' is completed, cannot be resumed.","restate_code":null}"#)
        }
    }

    @Test("a paused invocation is still paused after a restart, its key still blocked, and can be resumed then")
    func pausedAcrossRestart() async throws {
        try await IngressFixture.with(services: Self.services, retry: Self.policy(.pause)) { f in
            let (topic, id) = try await f.subscribedTopic("restart", to: "Counter/add", partitions: 1)
            try f.produce(topic, [(key: "k", value: "0"), (key: "k", value: "1")], partitions: 1)
            try await eventually("k's first record paused") {
                try await f.ingress.invocations(subscription: id).first?.status == .paused
            }
            await f.ingress.shutdown()
            let restarted = try IngressFixture.makeIngress(cluster: f.cluster, dataDirectory: f.dataDirectory, retry: Self.policy(.pause))
            try await restarted.start()
            #expect(await restarted.waitUntilIdle(timeout: .seconds(10)))
            #expect(try await restarted.invocations(subscription: id).map(\.status) == [.paused, .pending])
            #expect(f.recorder.records.filter { $0.payload == "0" }.count == 3, "not attempted again by the restart")
            #expect(!f.recorder.records.contains { $0.payload == "1" })
            let first = try #require(try await restarted.invocations(subscription: id).first?.id)
            #expect(try await restarted.resumeInvocation(first) == .resumed)
            try await eventually("resumed after the restart, then the next record of the key ran") {
                f.recorder.records.contains { $0.payload == "0" && $0.outcome == .completed } && f.recorder.records.contains { $0.payload == "1" }
            }
            await restarted.shutdown()
        }
    }

    @Test("resuming an invocation whose first attempt runs answers 200 and leaves it running, as Restate does")
    func resumeRunning() async throws {
        let slow = [RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record", behaviour: .init(latencyMs: 1_000))])]
        try await IngressFixture.with(services: slow) { f in
            let (topic, id) = try await f.subscribedTopic("running", to: "Log/record", partitions: 1)
            try f.produce(topic, [(key: "a", value: "0")], partitions: 1)
            try await eventually("the first attempt running") {
                try await f.ingress.invocations(subscription: id).first?.status == .running
            }
            let running = try #require(try await f.ingress.invocations(subscription: id).first?.id)
            #expect(try await f.request(.PATCH, "/invocations/\(running)/resume").status == 200)
            let completed = try await f.waitForCompleted(1)
            #expect(completed.count == 1 && f.recorder.records.count == 1, "one attempt, not restarted")
        }
    }

    @Test("kill: the invocation fails after max-attempts and the key's next record runs")
    func kill() async throws {
        try await IngressFixture.with(services: Self.services, retry: Self.policy(.kill)) { f in
            let (topic, id) = try await f.subscribedTopic("kill", to: "Counter/add", partitions: 1)
            try f.produce(topic, [(key: "k", value: "0"), (key: "k", value: "1")], partitions: 1)
            try await eventually("both records killed after three attempts each") {
                try await f.ingress.invocations(subscription: id).filter { $0.status == .failed }.count == 2
            }
            let invocations = try await f.ingress.invocations(subscription: id)
            #expect(invocations.map(\.attempts) == [3, 3])
            #expect(invocations.first?.error?.hasSuffix("(killed after 3 attempts)") == true, "\(invocations.first?.error ?? "no error")")
        }
    }

    @Test("Restate's default policy: 500 ms, doubling, at most 60 s apart, paused after 70 attempts")
    func defaults() throws {
        let policy = RetryPolicy()
        #expect(policy == RetryPolicy(initialDelayMs: 500, factor: 2, maxDelayMs: 60_000, maxAttempts: 70, onMaxAttempts: .pause))
        #expect(try IngressConfiguration.parse("").defaultRetryPolicy == policy)
    }
}
