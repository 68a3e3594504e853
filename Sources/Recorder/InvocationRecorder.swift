import Foundation
import RestateProtocol
import Synchronization

/// One invocation attempt the recorder received.
public struct RecordedInvocation: Sendable, Equatable, Codable {
    /// How the attempt ended (written as "completed" or "failed" in `/records`).
    public enum Outcome: String, Sendable, Codable {
        case completed
        /// A retryable failure the recorder was told to inject.
        case failed
    }

    public var invocationID: String
    public var service: String
    public var handler: String
    public var key: String
    public var headers: [String: String]
    /// The input bytes as text (lossy if not UTF-8).
    public var payload: String
    /// Which attempt of this invocation this was, from 1.
    public var attempt: Int
    /// Epoch microseconds.
    public var start: Int64
    public var end: Int64
    public var outcome: Outcome
    /// What the handler returned (it echoes its input), as text; empty for a failed attempt.
    public var output: String

    enum CodingKeys: String, CodingKey {
        case service, handler, key, headers, payload, attempt, start, end, outcome, output
        case invocationID = "invocation_id"
    }
}

/// The recorder's logic, apart from HTTP: answers invocations as configured and keeps a record.
public final class InvocationRecorder: Sendable {
    public let configuration: RecorderConfiguration
    private let state = Mutex(State())

    private struct State {
        var records: [RecordedInvocation] = []
        var attempts: [String: Int] = [:]
        var completed = 0
        /// Completed attempts by the `restate.subscription.id` header they carried ("" when
        /// none): a scenario waiting for N completions asks every few milliseconds, so the
        /// answer must not cost a pass over every record.
        var completedBySubscription: [String: Int] = [:]
    }

    public init(configuration: RecorderConfiguration) {
        self.configuration = configuration
    }

    /// Every attempt so far, in the order they ended.
    public var records: [RecordedInvocation] { state.withLock { $0.records } }

    /// How many attempts were recorded, and how many of them completed.
    public var counts: (attempts: Int, completed: Int) { state.withLock { ($0.records.count, $0.completed) } }

    /// How many attempts completed carrying one of these subscription ids (any, when nil).
    public func completedCount(subscriptions ids: Set<String>?) -> Int {
        state.withLock { s in
            guard let ids else { return s.completed }
            return ids.reduce(0) { $0 + s.completedBySubscription[$1, default: 0] }
        }
    }

    public func reset() {
        state.withLock { $0 = State() }
    }

    /// An invocation received and not yet answered: the server answers it after the handler's
    /// configured latency (without holding a thread or a task while it waits).
    public struct PendingInvocation: Sendable {
        let service: String
        let handler: String
        let request: InvocationRequest
        let invocationID: String
        let attempt: Int
        let start: Int64
        let fail: Bool
        /// How long the simulated handler takes.
        public let latencyMs: Int
    }

    /// Handles one request-response invocation body; returns the response body, or nil when the
    /// service or handler is unknown.
    public func invoke(service: String, handler: String, body: [UInt8]) async throws -> [UInt8]? {
        guard let pending = try begin(service: service, handler: handler, body: body) else { return nil }
        if pending.latencyMs > 0 { try await Task.sleep(for: .milliseconds(pending.latencyMs)) }
        return end(pending)
    }

    /// The first half of an invocation: decodes it and counts the attempt. Nil when the service
    /// or handler is unknown.
    public func begin(service: String, handler: String, body: [UInt8]) throws -> PendingInvocation? {
        guard let behaviour = configuration.behaviour(service, handler) else { return nil }
        let request = try InvocationRequest(decoding: body)
        let start = Self.nowMicros()
        let invocationID = request.debugId.isEmpty ? request.id.map { String(format: "%02x", $0) }.joined() : request.debugId
        let attempt = state.withLock { s -> Int in
            s.attempts[invocationID, default: 0] += 1
            return s.attempts[invocationID]!
        }
        return PendingInvocation(service: service, handler: handler, request: request, invocationID: invocationID, attempt: attempt,
                                 start: start, fail: attempt <= behaviour.failFirstAttempts, latencyMs: behaviour.latencyMs)
    }

    /// The second half: records the attempt and returns the response body.
    public func end(_ pending: PendingInvocation) -> [UInt8] {
        let request = pending.request
        let fail = pending.fail
        let response = fail
            ? InvocationResponse(outcome: .error(InvocationFailure(code: 500, message: "recorder: attempt \(pending.attempt) fails on purpose"), retryAfterMs: nil))
            : InvocationResponse(outcome: .value(request.input))
        // The handler echoes its input: payload and output are the same text.
        let input = String(decoding: request.input, as: UTF8.self)
        let record = RecordedInvocation(
            invocationID: pending.invocationID, service: pending.service, handler: pending.handler, key: request.key,
            headers: Dictionary(request.headers, uniquingKeysWith: { _, last in last }),
            payload: input, attempt: pending.attempt,
            start: pending.start, end: Self.nowMicros(), outcome: fail ? .failed : .completed,
            output: fail ? "" : input)
        state.withLock {
            $0.records.append(record)
            if !fail {
                $0.completed += 1
                $0.completedBySubscription[record.headers[KafkaIngressHeader.subscriptionID] ?? "", default: 0] += 1
            }
        }
        return response.encoded()
    }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
}

extension Sequence where Element == RecordedInvocation {
    /// The largest number of these attempts running at one instant (at equal times an end comes
    /// before a start: touching attempts do not overlap).
    public var maxConcurrency: Int {
        var events: [(time: Int64, delta: Int)] = []
        for run in self {
            events.append((run.start, 1))
            events.append((run.end, -1))
        }
        events.sort { a, b in a.time != b.time ? a.time < b.time : a.delta < b.delta }
        var current = 0, best = 0
        for event in events {
            current += event.delta
            best = Swift.max(best, current)
        }
        return best
    }
}
