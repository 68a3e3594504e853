import Foundation
import Logging
import RestateProtocol
import Synchronization

/// An invocation asked for through Restate's HTTP ingress (`POST /Service/handler`,
/// `POST /Object/key/handler`, with `/send` for a one-way call).
public struct IngressInvocationRequest: Sendable {
    public var service: String
    public var handler: String
    /// The object or workflow key (nil for services).
    public var key: String?
    public var body: [UInt8]
    public var headers: [(String, String)]
    /// A one-way call: answered once journaled, not when done.
    public var send: Bool
    /// With `send`: start no earlier than this many milliseconds from now.
    public var delayMs: Int64?
    /// The `idempotency-key` header: a repeated request with the same key (and target) gets the
    /// first one's invocation instead of a new one.
    public var idempotencyKey: String?

    public init(service: String, handler: String, key: String?, body: [UInt8], headers: [(String, String)], send: Bool, delayMs: Int64? = nil,
                idempotencyKey: String? = nil) {
        self.idempotencyKey = idempotencyKey
        self.service = service
        self.handler = handler
        self.key = key
        self.body = body
        self.headers = headers
        self.send = send
        self.delayMs = delayMs
    }
}

/// What Restate's HTTP ingress answers.
public enum IngressInvocationReply: Sendable, Equatable {
    case ended(invocationID: String, CompletionResult)
    /// A one-way call, journaled; `executionTime` (epoch ms) when delayed.
    case accepted(invocationID: String, executionTime: Int64?)
    case serviceNotFound(String)
    case handlerNotFound(service: String, handler: String)
    /// The path has the wrong shape for the service's kind (a key for a service, none for an object).
    case badServicePath
    /// A workflow run sent for a workflow id that already has one, or a send repeated with the
    /// same idempotency key.
    case previouslyAccepted(invocationID: String)
    /// The ingress stopped before the invocation ended (it ends after a restart).
    case stopping
    /// An idempotency key on a workflow's run, which its key already makes idempotent.
    case idempotencyKeyOnWorkflow
    /// No such invocation or workflow run (attach, output).
    case invocationNotFound
    /// The workflow run has not ended (output).
    case notReady
}

extension KafkaIngress {
    /// The service's kind as registered: nil when no deployment serves it.
    public func serviceIsKeyed(_ service: String) -> Bool? {
        catalog.state.withLock { $0.lookup(service).map { $0.1.ty != .service } }
    }

    /// Journals the invocation and starts it; for a call, returns once it has ended.
    public func invoke(_ request: IngressInvocationRequest) async throws -> IngressInvocationReply {
        guard let keyed = serviceIsKeyed(request.service) else { return .serviceNotFound(request.service) }
        guard catalog.state.withLock({ $0.handlerExists(request.service, request.handler) }) else {
            return .handlerNotFound(service: request.service, handler: request.handler)
        }
        guard keyed == (request.key != nil) else { return .badServicePath }
        let exclusive = catalog.state.withLock { $0.isExclusive(request.service, request.handler) }
        // A workflow runs once per id, as in Restate: a second run is refused (call) or reported
        // as accepted before (send).
        let workflowRun = catalog.state.withLock { $0.isWorkflowRun(request.service, request.handler) }
        if workflowRun, request.idempotencyKey != nil { return .idempotencyKeyOnWorkflow }
        if workflowRun, let key = request.key,
           let existing = try await journal.workflowRun(service: request.service, handler: request.handler, key: key) {
            if request.send { return .previouslyAccepted(invocationID: existing.id) }
            return .ended(invocationID: existing.id, .failure(InvocationFailure(code: 409, message: "the workflow method was already invoked")))
        }
        let notBefore = request.delayMs.flatMap { $0 > 0 ? Journal.nowMs() + $0 : nil }
        var id = InvocationID.make(key: request.key)
        if let idempotencyKey = request.idempotencyKey {
            id = InvocationID.idempotent(service: request.service, handler: request.handler, key: request.key, idempotencyKey: idempotencyKey)
            if try await journal.outcome(of: id) != nil { return try await attach(id, send: request.send) }
        }
        let outcome = request.send ? nil : outcomeWaiters.register(id)
        let invocation: Invocation
        do {
            invocation = try await journal.journalIngressInvocation(Journal.Send(
                id: id, service: request.service, handler: request.handler, key: request.key, exclusive: exclusive,
                headers: request.headers, payload: request.body, notBefore: notBefore))
        } catch where request.idempotencyKey != nil {
            // The same idempotent request, sent twice at once: the other one journaled it first.
            // (This request's own registration is answered when that invocation ends.)
            guard try await journal.outcome(of: id) != nil else { throw error }
            return try await attach(id, send: request.send)
        }
        await dispatcher.submit([invocation])
        guard let outcome else { return .accepted(invocationID: invocation.id, executionTime: notBefore) }
        guard let ended = await outcome.value else { return .stopping }
        return .ended(invocationID: invocation.id, ended)
    }

    /// `POST /restate/awakeables/{id}/resolve` or `/reject`: false when the id is not an
    /// awakeable id. Delivered to the invocation if it is still open; dropped otherwise.
    public func completeAwakeable(_ awakeableID: String, _ result: CompletionResult) async throws -> Bool {
        guard let (target, notification) = JournalEntries.awakeableCompletion(awakeableID, result) else { return false }
        try await Self.deliverSignal(notification, to: target, journal: journal, dispatcher: dispatcher, logger: logger)
        return true
    }

    /// Appends a signal to an open invocation's journal and resumes it; a signal for an
    /// invocation that ended (or never was) is dropped, as Restate drops it.
    static func deliverSignal(_ notification: Frame, to id: String, journal: Journal, dispatcher: Dispatcher?, logger: Logger) async throws {
        guard let status = try await journal.status(of: id), !status.isFinal else {
            logger.info("a signal for invocation \(id), which is not open, was dropped")
            return
        }
        try await journal.notify(id, notification)
        await dispatcher?.retryNow(id)
    }

    public enum CancelOutcome: Sendable, Equatable {
        case appended, unknown, completed
    }

    /// `PATCH /invocations/{id}/cancel`: the cancellation signal goes into the invocation's journal.
    public func cancelInvocation(_ id: String) async throws -> CancelOutcome {
        guard let status = try await journal.status(of: id) else { return .unknown }
        if status.isFinal { return .completed }
        try await Self.deliverSignal(JournalEntries.signalNotification(JournalEntries.cancelSignal, nil), to: id, journal: journal,
                                     dispatcher: dispatcher, logger: logger)
        return .appended
    }

    /// `GET /restate/workflow/{name}/{key}/attach` (`wait`) or `/output`: the run's outcome.
    public func workflowOutcome(service: String, key: String, wait: Bool) async throws -> IngressInvocationReply {
        let runHandler = catalog.state.withLock { catalog in
            catalog.lookup(service)?.1.handlers.first { catalog.isWorkflowRun(service, $0.name) }?.name
        }
        guard let runHandler, let run = try await journal.workflowRun(service: service, handler: runHandler, key: key) else {
            return .invocationNotFound
        }
        return try await invocationOutcome(id: run.id, wait: wait)
    }

    /// `GET /restate/invocation/{id}/attach` (`wait`: until it ends) or `/output` (470 while it
    /// runs); also by idempotency key: `/restate/invocation/{service}[/{key}]/{handler}/{idempotency key}/…`.
    public func invocationOutcome(id: String, wait: Bool) async throws -> IngressInvocationReply {
        guard let found = try await journal.outcome(of: id) else { return .invocationNotFound }
        if let outcome = found.outcome { return .ended(invocationID: id, outcome) }
        guard wait else { return .notReady }
        let outcome = outcomeWaiters.register(id)
        // It may have ended before the registration: the journal knows.
        if let ended = try await journal.outcome(of: id)?.outcome { outcomeWaiters.ended(id, ended) }
        guard let result = await outcome.value else { return .stopping }
        return .ended(invocationID: id, result)
    }

    /// The id an idempotent request to this target gets (for attach/output by idempotency key).
    public nonisolated func idempotentInvocationID(service: String, handler: String, key: String?, idempotencyKey: String) -> String {
        InvocationID.idempotent(service: service, handler: handler, key: key, idempotencyKey: idempotencyKey)
    }

    /// A repeated idempotent request: a send is reported as accepted before; a call gets the
    /// first request's result, waiting for it if need be.
    private func attach(_ id: String, send: Bool) async throws -> IngressInvocationReply {
        if send { return .previouslyAccepted(invocationID: id) }
        return try await invocationOutcome(id: id, wait: true)
    }
}

/// Callers waiting for invocations to end, by invocation id. When the ingress stops, whoever
/// still waits gets nil: the invocation stays journaled and ends after a restart, but no task
/// (an HTTP caller, a handler's attach) may stay parked on an ingress that is gone.
final class OutcomeWaiters: Sendable {
    /// One invocation's waiters: registered (and not yet answered), and the outcome once known.
    private struct Entry {
        var registered = 0
        var waiting: [CheckedContinuation<CompletionResult?, Never>] = []
        var outcome: CompletionResult?
    }

    private let state = Mutex<(entries: [String: Entry], stopped: Bool)>(([:], false))

    /// Registered before the invocation is submitted (or its journaled status read), so its end
    /// cannot be missed. Several callers may wait for one invocation.
    func register(_ id: String) -> Task<CompletionResult?, Never> {
        let stopped = state.withLock { state in
            if !state.stopped { state.entries[id, default: Entry()].registered += 1 }
            return state.stopped
        }
        if stopped { return Task { nil } }
        return Task {
            await withCheckedContinuation { continuation in
                state.withLock { state in
                    // Absent: the ingress stopped meanwhile.
                    guard var entry = state.entries[id] else { return continuation.resume(returning: nil) }
                    if let outcome = entry.outcome {
                        entry.registered -= 1
                        continuation.resume(returning: outcome)
                    } else {
                        entry.waiting.append(continuation)
                    }
                    state.entries[id] = entry.registered == 0 ? nil : entry
                }
            }
        }
    }

    /// An invocation ended: whoever registered for it gets the outcome (now, or when they wait).
    func ended(_ id: String, _ outcome: CompletionResult) {
        state.withLock { state in
            guard var entry = state.entries[id] else { return }
            entry.outcome = outcome
            entry.waiting.forEach { $0.resume(returning: outcome) }
            entry.registered -= entry.waiting.count
            entry.waiting = []
            state.entries[id] = entry.registered == 0 ? nil : entry
        }
    }

    /// The ingress stops: every waiter gets nil, and later registrations at once.
    func stop() {
        state.withLock { state in
            state.stopped = true
            for entry in state.entries.values { entry.waiting.forEach { $0.resume(returning: nil) } }
            state.entries = [:]
        }
    }
}
