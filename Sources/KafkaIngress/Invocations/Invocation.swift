/// Where an invocation stands. Stored as its raw value.
public enum InvocationStatus: String, Sendable, Codable, CaseIterable {
    /// `suspended`: the handler waits (a durable sleep) and is resumed from its journal.
    /// `paused`: its attempts ran out under `on-max-attempts = pause`; it stays open (and its
    /// object key blocked) until resumed.
    case pending, running, retrying, suspended, paused, completed, failed

    var isFinal: Bool { self == .completed || self == .failed }
}

/// One record turned into a call of a handler: what the dispatcher runs.
struct Invocation: Sendable {
    /// Journal order; exclusive invocations of one key run in this order.
    var seq: Int64
    var id: String
    var subscriptionID: String
    var service: String
    var handler: String
    /// The object or workflow key; nil for services.
    var key: String?
    /// Whether it must run alone, in order, on its key.
    var exclusive: Bool
    var headers: [(String, String)]
    var payload: [UInt8]
    var attempts: Int
    /// Out of attempts and waiting to be resumed (see `RetryPolicy.OnMaxAttempts.pause`).
    var paused = false
    /// The record it came from ("" and -1 for an invocation a handler sent).
    var topic: String
    var partition: Int32
    /// Epoch milliseconds before which it must not start (a delayed send).
    var notBefore: Int64?
    /// Suspended until then (epoch milliseconds): its key stays held, and the next attempt
    /// resumes it from its journal.
    var suspendedUntil: Int64?
    /// For the callee of a request-response call: the caller, and where it waits for the result.
    var caller: Caller?
    /// The W3C `traceparent` of the span the invocation's trace hangs under (its record's
    /// `ingress_kafka` span); nil when not traced.
    var traceParent: String? = nil

    struct Caller: Sendable {
        var id: String
        var completionID: UInt32
    }

    var target: String { "\(service)/\(handler)" }

    /// The subscription's partition it came from: a revoke of that partition waits for it.
    var sourcePartition: SourcePartition { SourcePartition(subscription: subscriptionID, topic: topic, partition: partition) }

    /// Invocations that must not overlap share this (service and key).
    var exclusivityKey: String? {
        guard exclusive, let key else { return nil }
        return "\(service)\u{0}\(key)"
    }
}

/// What the admin API shows for an invocation.
public struct InvocationView: Sendable, Equatable, Codable {
    public var id: String
    public var subscription: String
    public var target: String
    public var key: String?
    public var status: InvocationStatus
    public var attempts: Int
    /// The headers given to the handler.
    public var headers: [String: String]
    /// The handler's output when completed (JSON, or a string when the output is not JSON).
    public var output: JSONValue?
    /// The terminal failure, or the failure of the last failed attempt (kept after a success).
    public var error: String?
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Epoch milliseconds of journaling, first attempt start and completion.
    public var createdAt: Int64
    public var startedAt: Int64?
    public var completedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, subscription, target, key, status, attempts, headers, output, error, topic, partition, offset
        case createdAt = "created_at", startedAt = "started_at", completedAt = "completed_at"
    }
}

/// A partition as one subscription consumes it. A value, not a joined string: the dispatcher
/// counts open invocations by it twice per invocation.
struct SourcePartition: Hashable, Sendable {
    var subscription: String
    var topic: String
    var partition: Int32
}
