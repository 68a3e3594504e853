import Foundation
import RestateProtocol
import Synchronization

/// One invocation attempt the recorder received.
public struct RecordedInvocation: Sendable, Equatable, Codable {
    /// How the attempt ended (written as "completed", "failed" or "suspended" in `/records`).
    public enum Outcome: String, Sendable, Codable {
        /// The handler returned, with a value or a terminal failure: the invocation is done.
        case completed
        /// A retryable failure (injected in a simulated handler, or a real handler's error):
        /// the ingress tries again.
        case failed
        /// A real handler suspended, waiting for something; the ingress resumes it later with
        /// a new attempt that replays its journal.
        case suspended
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
    /// What the handler returned (a simulated one echoes its input), as text; for a real
    /// handler's terminal failure `failure CODE: message`; for a failed attempt its error, if
    /// known; empty for a suspension.
    public var output: String

    public init(invocationID: String, service: String, handler: String, key: String, headers: [String: String], payload: String,
                attempt: Int, start: Int64, end: Int64, outcome: Outcome, output: String) {
        self.invocationID = invocationID
        self.service = service
        self.handler = handler
        self.key = key
        self.headers = headers
        self.payload = payload
        self.attempt = attempt
        self.start = start
        self.end = end
        self.outcome = outcome
        self.output = output
    }

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
        var discovered: [String: EndpointManifest.Service] = [:]

        /// Counts an attempt of the invocation; returns its number, from 1.
        mutating func nextAttempt(of invocationID: String) -> Int {
            attempts[invocationID, default: 0] += 1
            return attempts[invocationID]!
        }

        mutating func append(_ record: RecordedInvocation) {
            records.append(record)
            guard record.outcome == .completed else { return }
            completed += 1
            completedBySubscription[record.headers[KafkaIngressHeader.subscriptionID] ?? "", default: 0] += 1
        }
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

    /// The services real deployments announced when the ingress discovered them through the
    /// pass-through (their kinds decide, e.g., whether a sink is a workflow's run).
    public var discoveredServices: [EndpointManifest.Service] {
        state.withLock { $0.discovered.values.sorted { $0.name < $1.name } }
    }

    func noteDiscovered(_ manifest: EndpointManifest) {
        state.withLock { s in for service in manifest.services { s.discovered[service.name] = service } }
    }

    /// Forgets the attempts (not what deployments announced).
    public func reset() {
        state.withLock { s in
            let discovered = s.discovered
            s = State()
            s.discovered = discovered
        }
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
        let invocationID = Self.invocationID(of: request)
        let attempt = state.withLock { $0.nextAttempt(of: invocationID) }
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
        state.withLock { $0.append(record) }
        return response.encoded()
    }

    /// Records an attempt the recorder passed through to a real deployment, from the bytes that
    /// went each way. A response the protocol decoder cannot read is recorded as a failed attempt
    /// saying why. A request body that is no invocation is not recorded: there is no invocation
    /// to put it under (the deployment's answer to it still reaches the ingress).
    public func recordForwarded(service: String, handler: String, request body: [UInt8], response: [UInt8]?, failure: String?,
                                start: Int64, end: Int64) {
        guard let request = try? InvocationRequest(decoding: body) else { return }
        let invocationID = Self.invocationID(of: request)
        var outcome = RecordedInvocation.Outcome.failed
        var output = failure ?? ""
        if let response, failure == nil {
            do {
                switch try InvocationResponse(decoding: response).outcome {
                case .value(let value):
                    outcome = .completed
                    output = String(decoding: value, as: UTF8.self)
                case .failure(let f):
                    outcome = .completed
                    output = "failure \(f.code): \(f.message)"
                case .error(let f, _): output = "error \(f.code): \(f.message)"
                case .suspended: outcome = .suspended
                case .incomplete: output = "the response ended without output, suspension or error"
                case .unsupported(let message): output = "the handler sent \(message)"
                }
            } catch {
                output = "unreadable response: \(error)"
            }
        }
        state.withLock { s in
            s.append(RecordedInvocation(
                invocationID: invocationID, service: service, handler: handler, key: request.key,
                headers: Dictionary(request.headers, uniquingKeysWith: { _, last in last }),
                payload: String(decoding: request.input, as: UTF8.self), attempt: s.nextAttempt(of: invocationID),
                start: start, end: end, outcome: outcome, output: output))
        }
    }

    /// The id attempts are counted by: Restate's debug id, else the raw id in hex.
    private static func invocationID(of request: InvocationRequest) -> String {
        request.debugId.isEmpty ? request.id.map { String(format: "%02x", $0) }.joined() : request.debugId
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
