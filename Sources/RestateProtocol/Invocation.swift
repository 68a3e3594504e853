/// The service protocol versions this package speaks (request-response mode). Restate 1.7 runs
/// invocations with the highest version a deployment and it share, at most 6 (7 is opt-in).
public let serviceProtocolVersions = 5...6
/// The lowest, which the recorder's simulated endpoint speaks.
public let serviceProtocolVersion = serviceProtocolVersions.lowerBound
public let invocationContentType = serviceProtocolContentType(serviceProtocolVersion)

public func serviceProtocolContentType(_ version: Int) -> String { "application/vnd.restate.invocation.v\(version)" }

/// What the caller sends to start an invocation in request-response mode: the whole request
/// (StartMessage, then InputCommand) in one body.
public struct InvocationRequest: Sendable, Equatable {
    /// Raw invocation id bytes (the SDK treats them as opaque).
    public var id: [UInt8]
    public var debugId: String
    /// The object or workflow key; empty for services.
    public var key: String
    /// The object's state sent with the request: all of it (eager state), or, with
    /// `partialState`, what the service preloads (the handler asks for the rest: lazy state).
    public var state: [[UInt8]: [UInt8]]
    public var partialState = false
    /// The version the request is written in (and its content type names).
    public var protocolVersion = serviceProtocolVersion
    /// From version 6: the seed of the handler's deterministic random numbers, the same on every
    /// attempt of the invocation.
    public var randomSeed: UInt64?
    public var headers: [(String, String)]
    public var input: [UInt8]
    public var retryCount: UInt32
    /// What the invocation's journal holds after its input (commands the handler sent in earlier
    /// attempts and the notifications that completed them), replayed so the handler resumes
    /// where it suspended.
    public var journal: [Frame]

    public init(id: [UInt8], debugId: String, key: String = "", state: [[UInt8]: [UInt8]] = [:],
                headers: [(String, String)] = [], input: [UInt8], retryCount: UInt32 = 0, journal: [Frame] = []) {
        self.id = id
        self.debugId = debugId
        self.key = key
        self.state = state
        self.headers = headers
        self.input = input
        self.retryCount = retryCount
        self.journal = journal
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.debugId == b.debugId && a.key == b.key && a.state == b.state
            && a.headers.elementsEqual(b.headers, by: ==) && a.input == b.input && a.retryCount == b.retryCount && a.journal == b.journal
            && a.partialState == b.partialState && a.protocolVersion == b.protocolVersion && a.randomSeed == b.randomSeed
    }

    /// The request body: two frames.
    public func encoded() -> [UInt8] {
        var start = ProtobufWriter()
        start.bytes(1, id)
        start.string(2, debugId)
        start.uint(3, UInt64(1 + journal.count))  // known entries: the input command and the journal
        // Sorted so the same state always encodes to the same bytes.
        for (k, v) in state.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            start.message(4) { entry in
                entry.bytes(1, k)
                entry.bytes(2, v)
            }
        }
        start.bool(5, partialState)
        start.string(6, key)
        start.uint(7, UInt64(retryCount))
        if protocolVersion >= 6, let randomSeed { start.uint(9, randomSeed) }
        var input = ProtobufWriter()
        for (k, v) in headers {
            input.message(1) { h in
                h.string(1, k)
                h.string(2, v)
            }
        }
        input.message(14) { $0.bytes(1, self.input) }
        return Frame(.start, body: start.bytes).encoded() + Frame(.inputCommand, body: input.bytes).encoded() + journal.flatMap { $0.encoded() }
    }

    /// Reads a request body (what an endpoint such as the recorder receives).
    public init(decoding data: [UInt8]) throws {
        let frames = try Frame.decodeAll(data)
        guard frames.count >= 2, frames[0].type == MessageType.start.rawValue, frames[1].type == MessageType.inputCommand.rawValue else {
            throw RestateProtocolError("expected StartMessage then InputCommand, got types \(frames.map { "0x" + String($0.type, radix: 16) })")
        }
        self.init(id: [], debugId: "", input: [])
        var start = ProtobufReader(frames[0].body)
        while let (field, value) = try start.next() {
            switch field {
            case 1: id = value.bytes
            case 2: debugId = value.string
            case 4:
                var entry = ProtobufReader(value.bytes)
                var k: [UInt8] = [], v: [UInt8] = []
                while let (f, e) = try entry.next() {
                    if f == 1 { k = e.bytes } else if f == 2 { v = e.bytes }
                }
                state[k] = v
            case 6: key = value.string
            case 7: retryCount = UInt32(truncatingIfNeeded: value.uint)
            default: break
            }
        }
        journal = Array(frames.dropFirst(2))
        var input = ProtobufReader(frames[1].body)
        while let (field, value) = try input.next() {
            switch field {
            case 1: headers.append(try ProtobufReader.stringPair(in: value.bytes))
            case 14:
                self.input = try ProtobufReader.last(1, in: value.bytes)?.bytes ?? []
            default: break
            }
        }
    }
}

/// A handler's failure as the protocol carries it.
public struct InvocationFailure: Sendable, Equatable {
    public var code: UInt32
    public var message: String

    public init(code: UInt32, message: String) {
        self.code = code
        self.message = message
    }
}

/// A one-way call a handler made (`ctx.service_send`, `object_send`, `generic_send`): a new
/// invocation, to start once the caller's outcome is durable.
public struct OneWayCall: Sendable, Equatable {
    public var service: String
    public var handler: String
    public var parameter: [UInt8]
    public var headers: [(String, String)]
    /// The object or workflow key; empty for services.
    public var key: String
    /// When to start it, in epoch milliseconds; 0 (or the past) is at once.
    public var invokeTimeMs: UInt64
    public var idempotencyKey: String?

    public init(service: String, handler: String, parameter: [UInt8], headers: [(String, String)] = [], key: String = "",
                invokeTimeMs: UInt64 = 0, idempotencyKey: String? = nil) {
        self.service = service
        self.handler = handler
        self.parameter = parameter
        self.headers = headers
        self.key = key
        self.invokeTimeMs = invokeTimeMs
        self.idempotencyKey = idempotencyKey
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.service == b.service && a.handler == b.handler && a.parameter == b.parameter && a.headers.elementsEqual(b.headers, by: ==)
            && a.key == b.key && a.invokeTimeMs == b.invokeTimeMs && a.idempotencyKey == b.idempotencyKey
    }

    init(decoding body: [UInt8]) throws {
        self.init(service: "", handler: "", parameter: [])
        var r = ProtobufReader(body)
        while let (field, value) = try r.next() {
            switch field {
            case 1: service = value.string
            case 2: handler = value.string
            case 3: parameter = value.bytes
            case 4: invokeTimeMs = value.uint
            case 5: headers.append(try ProtobufReader.stringPair(in: value.bytes))
            case 6: key = value.string
            case 7: idempotencyKey = value.string
            default: break
            }
        }
    }

    func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        w.string(1, service)
        w.string(2, handler)
        w.bytes(3, parameter)
        if invokeTimeMs > 0 { w.uint(4, invokeTimeMs) }
        for (k, v) in headers {
            w.message(5) { h in
                h.string(1, k)
                h.string(2, v)
            }
        }
        w.string(6, key)
        if let idempotencyKey { w.string(7, idempotencyKey) }
        return Frame(.oneWayCallCommand, body: w.bytes).encoded()
    }
}

/// A change to an object's state made by a handler.
public enum StateMutation: Sendable, Equatable {
    case set(key: [UInt8], value: [UInt8])
    case clear(key: [UInt8])
    case clearAll
}

/// What came back from an invocation attempt.
public struct InvocationResponse: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// OutputCommand with a value: the invocation completed.
        case value([UInt8])
        /// OutputCommand with a failure: completed, with a terminal error (not retried).
        case failure(InvocationFailure)
        /// ErrorMessage: this attempt failed and should be retried.
        case error(InvocationFailure, retryAfterMs: UInt64?)
        /// The endpoint suspended, waiting for something request-response mode cannot deliver.
        case suspended
        /// The body ended without output, error, suspension or EndMessage.
        case incomplete
        /// The handler used something this package does not serve (named as the protocol names
        /// the message): the attempt must fail rather than have that part silently dropped.
        case unsupported(String)
    }

    public var outcome: Outcome
    public var stateMutations: [StateMutation]
    /// One-way calls the handler made, in order.
    public var sends: [OneWayCall]
    /// Whether the handler made a request-response call or completed a durable promise: the
    /// runtime must act on those even when the handler ended without waiting for them.
    public var needsJournal = false
    public var ended: Bool

    public init(outcome: Outcome, stateMutations: [StateMutation] = [], sends: [OneWayCall] = [], ended: Bool = true) {
        self.outcome = outcome
        self.stateMutations = stateMutations
        self.sends = sends
        self.ended = ended
    }

    /// Reads a whole response body. State reads are answered from the eager state map the
    /// request carried, so their commands need nothing; any message this package cannot act on
    /// makes the outcome `unsupported`, naming it.
    public init(decoding data: [UInt8]) throws {
        self.init(outcome: .incomplete, ended: false)
        var output: Outcome?
        for frame in try Frame.decodeAll(data) {
            var r = ProtobufReader(frame.body)
            switch MessageType(rawValue: frame.type) {
            case .getEagerStateCommand, .getEagerStateKeysCommand:
                continue
            case .callCommand, .completePromiseCommand, .completeAwakeableCommand, .sendSignalCommand:
                needsJournal = true
            case .runCommand, .proposeRunCompletion, .sleepCommand, .getPromiseCommand, .peekPromiseCommand,
                 .attachInvocationCommand, .getInvocationOutputCommand, .getLazyStateCommand, .getLazyStateKeysCommand:
                // Durable execution: the caller journals these (see `JournalEntries`) and
                // resumes the handler once what it waits for is done.
                continue
            case .oneWayCallCommand:
                sends.append(try OneWayCall(decoding: frame.body))
            case .outputCommand:
                while let (field, value) = try r.next() {
                    if field == 14 { output = .value(try Self.content(value.bytes)) }
                    if field == 15 { output = .failure(try InvocationFailure(decoding: value.bytes)) }
                }
            case .setStateCommand:
                var key: [UInt8] = [], content: [UInt8] = []
                while let (field, value) = try r.next() {
                    if field == 1 { key = value.bytes }
                    if field == 3 { content = try Self.content(value.bytes) }
                }
                stateMutations.append(.set(key: key, value: content))
            case .clearStateCommand:
                stateMutations.append(.clear(key: try ProtobufReader.last(1, in: frame.body)?.bytes ?? []))
            case .clearAllStateCommand:
                stateMutations.append(.clearAll)
            case .error:
                var code: UInt32 = 0, message = "", delay: UInt64?
                while let (field, value) = try r.next() {
                    switch field {
                    case 1: code = UInt32(truncatingIfNeeded: value.uint)
                    case 2: message = value.string
                    case 8: delay = value.uint
                    default: break
                    }
                }
                outcome = .error(InvocationFailure(code: code, message: message), retryAfterMs: delay)
                return
            case .suspension:
                outcome = .suspended
                return
            case .end:
                ended = true
            default:
                outcome = .unsupported(MessageType.name(of: frame.type))
                return
            }
        }
        if let output { outcome = output }
    }

    private static func content(_ value: [UInt8]) throws -> [UInt8] {
        try ProtobufReader.last(1, in: value)?.bytes ?? []
    }


    /// Encodes a response the way an endpoint writes it (for the recorder and for tests).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = sends.flatMap { $0.encoded() }
        for mutation in stateMutations {
            var w = ProtobufWriter()
            switch mutation {
            case .set(let key, let value):
                w.bytes(1, key)
                w.message(3) { $0.bytes(1, value) }
                out += Frame(.setStateCommand, body: w.bytes).encoded()
            case .clear(let key):
                w.bytes(1, key)
                out += Frame(.clearStateCommand, body: w.bytes).encoded()
            case .clearAll:
                out += Frame(.clearAllStateCommand, body: []).encoded()
            }
        }
        var w = ProtobufWriter()
        switch outcome {
        case .value(let v):
            w.message(14) { $0.bytes(1, v) }
            out += Frame(.outputCommand, body: w.bytes).encoded()
        case .failure(let f):
            w.message(15) { m in
                m.uint(1, UInt64(f.code))
                m.string(2, f.message)
            }
            out += Frame(.outputCommand, body: w.bytes).encoded()
        case .error(let f, let delay):
            w.uint(1, UInt64(f.code))
            w.string(2, f.message)
            if let delay { w.uint(8, delay) }
            return out + Frame(.error, body: w.bytes).encoded()
        case .suspended:
            return out + Frame(.suspension, body: []).encoded()
        case .incomplete, .unsupported:
            return out
        }
        return ended ? out + Frame(.end, body: []).encoded() : out
    }
}
