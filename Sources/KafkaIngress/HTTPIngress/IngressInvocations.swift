import Foundation
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

    public init(service: String, handler: String, key: String?, body: [UInt8], headers: [(String, String)], send: Bool, delayMs: Int64? = nil) {
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
    case ended(invocationID: String, InvocationOutcome)
    /// A one-way call, journaled; `executionTime` (epoch ms) when delayed.
    case accepted(invocationID: String, executionTime: Int64?)
    case serviceNotFound(String)
    case handlerNotFound(service: String, handler: String)
    /// The path has the wrong shape for the service's kind (a key for a service, none for an object).
    case badServicePath
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
        let notBefore = request.delayMs.flatMap { $0 > 0 ? Journal.nowMs() + $0 : nil }
        let id = InvocationID.make(key: request.key)
        let outcome = request.send ? nil : outcomeWaiters.register(id)
        let invocation = try await journal.journalIngressInvocation(Journal.Send(
            id: id, service: request.service, handler: request.handler, key: request.key, exclusive: exclusive,
            headers: request.headers, payload: request.body, notBefore: notBefore))
        await dispatcher.submit([invocation])
        guard let outcome else { return .accepted(invocationID: invocation.id, executionTime: notBefore) }
        return .ended(invocationID: invocation.id, await outcome.value)
    }
}

/// Callers waiting for invocations to end, by invocation id.
final class OutcomeWaiters: Sendable {
    private enum Entry {
        case waiting([CheckedContinuation<InvocationOutcome, Never>])
        /// Ended before its caller started to wait.
        case ended(InvocationOutcome)
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Registered before the invocation is submitted, so its end cannot be missed.
    func register(_ id: String) -> Task<InvocationOutcome, Never> {
        entries.withLock { $0[id] = .waiting([]) }
        return Task {
            await withCheckedContinuation { continuation in
                entries.withLock { entries in
                    switch entries[id] {
                    case .ended(let outcome)?:
                        entries[id] = nil
                        continuation.resume(returning: outcome)
                    case .waiting(let list)?:
                        entries[id] = .waiting(list + [continuation])
                    case nil:
                        preconditionFailure("waiting for an invocation that was not registered")
                    }
                }
            }
        }
    }

    /// An invocation ended: its waiters (if any registered) get the outcome.
    func ended(_ id: String, _ outcome: InvocationOutcome) {
        entries.withLock { entries in
            guard case .waiting(let list)? = entries[id] else { return }
            if list.isEmpty {
                entries[id] = .ended(outcome)
            } else {
                entries[id] = nil
                list.forEach { $0.resume(returning: outcome) }
            }
        }
    }
}
