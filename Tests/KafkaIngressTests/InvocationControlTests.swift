import Foundation
import HarnessTestSupport
import KafkaIngress
import Recorder
import Testing

/// `PATCH /invocations/{id}/kill`, `/pause`, `/purge` and `/purge-journal` over the admin API.
@Suite("Admin API: kill, pause and purge invocations", .guarded)
struct InvocationControlTests {
    /// Every invocation of `stuck` fails, attempt after attempt; `add` completes.
    static let services = [RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [
        .init(name: "stuck", behaviour: .init(failFirstAttempts: 1_000)),
        .init(name: "add"),
    ])]
    static let retryForever = RetryPolicy(initialDelayMs: 20, maxDelayMs: 50, maxAttempts: nil)

    @Test("kill: a retrying invocation ends as failed with Restate's 409 killed, the key's next record runs; killing it again is 409; purge then forgets it")
    func killThenPurge() async throws {
        try await IngressFixture.with(services: Self.services, retry: Self.retryForever) { f in
            let (topic, subscription) = try await f.subscribedTopic("kill", to: "Counter/stuck", partitions: 1)
            try f.produce(topic, [(key: "k", value: "0"), (key: "k", value: "1")], partitions: 1)
            try await eventually("k's first record retried a few times") { f.recorder.records.filter { $0.payload == "0" }.count >= 3 }
            let stuck = try #require(try await f.ingress.invocations(subscription: subscription).first)

            let open = try await f.request(.PATCH, "/invocations/\(stuck.id)/purge")
            #expect(open.status == 409)
            #expect(open.body == #"{"message":"The invocation '\#(stuck.id)' is not yet completed.","restate_code":null}"#)

            let killed = try await f.request(.PATCH, "/invocations/\(stuck.id)/kill")
            #expect(killed.status == 200, "\(killed.body)")
            let after = try #require(try await f.ingress.invocations(subscription: subscription).first { $0.id == stuck.id })
            #expect(after.status == .failed && after.error == "[409] killed", "the kill answers once it is done: \(after.status)")
            try await eventually("the key's next record was attempted") { f.recorder.records.contains { $0.payload == "1" } }

            let again = try await f.request(.PATCH, "/invocations/\(stuck.id)/kill")
            #expect(again.status == 409)
            #expect(again.body == #"{"message":"The invocation '\#(stuck.id)' was already completed.","restate_code":null}"#)

            #expect(try await f.request(.PATCH, "/invocations/\(stuck.id)/purge-journal").status == 200)
            #expect(try await f.ingress.invocations(subscription: subscription).contains { $0.id == stuck.id }, "purge-journal keeps the invocation")
            #expect(try await f.request(.PATCH, "/invocations/\(stuck.id)/purge").status == 200)
            #expect(try await !f.ingress.invocations(subscription: subscription).contains { $0.id == stuck.id })
            let gone = try await f.request(.PATCH, "/invocations/\(stuck.id)/purge")
            #expect(gone.status == 404)
            #expect(gone.body == #"{"message":"The requested invocation '\#(stuck.id)' does not exist","restate_code":null}"#)
        }
    }

    @Test("pause: a retrying invocation is paused at its next attempt (202; 200 when it is already paused), keeps its key, and resumes; a completed one is 409; a paused one can be killed")
    func pauseResumeKill() async throws {
        try await IngressFixture.with(services: Self.services, retry: Self.retryForever) { f in
            let (topic, subscription) = try await f.subscribedTopic("pause", to: "Counter/stuck", partitions: 1)
            try f.produce(topic, [(key: "k", value: "0"), (key: "k", value: "1")], partitions: 1)
            try await eventually("k's first record retried") { f.recorder.records.filter { $0.payload == "0" }.count >= 2 }
            let stuck = try #require(try await f.ingress.invocations(subscription: subscription).first)

            #expect(try await f.request(.PATCH, "/invocations/\(stuck.id)/pause").status == 202)
            try await eventually("it is paused") {
                try await f.ingress.invocations(subscription: subscription).first { $0.id == stuck.id }?.status == .paused
            }
            let attempts = f.recorder.records.filter { $0.payload == "0" }.count
            #expect(try await f.request(.PATCH, "/invocations/\(stuck.id)/pause").status == 200)
            #expect(await f.ingress.waitUntilIdle(timeout: .seconds(10)))
            #expect(f.recorder.records.filter { $0.payload == "0" }.count == attempts, "a paused invocation is not attempted")
            #expect(!f.recorder.records.contains { $0.payload == "1" }, "it keeps its key")

            #expect(try await f.request(.PATCH, "/invocations/\(stuck.id)/kill").status == 200)
            try await eventually("the key's next record was attempted once the paused one was killed") {
                f.recorder.records.contains { $0.payload == "1" }
            }

            let (addTopic, addSubscription) = try await f.subscribedTopic("done", to: "Counter/add", partitions: 1)
            try f.produce(addTopic, [(key: "d", value: "5")], partitions: 1)
            try await eventually("the add completed") {
                try await f.ingress.invocations(subscription: addSubscription).first?.status == .completed
            }
            let done = try #require(try await f.ingress.invocations(subscription: addSubscription).first)
            let notRunning = try await f.request(.PATCH, "/invocations/\(done.id)/pause")
            #expect(notRunning.status == 409)
            #expect(notRunning.body == #"{"message":"The invocation '\#(done.id)' is not running, cannot be paused.","restate_code":null}"#)
        }
    }
}
