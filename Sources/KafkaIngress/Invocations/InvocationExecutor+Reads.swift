import Logging
import RestateProtocol
import Synchronization

/// The attaches (invocation id and completion id) waiting for their target to end, so that a
/// handler suspending again on the same attach is not registered twice (its completion would
/// then be journaled twice).
final class AttachRegistrations: Sendable {
    private let waiting = Mutex<Set<String>>([])

    /// False when this attach is registered already.
    func insert(_ invocation: String, _ completionID: UInt32) -> Bool {
        waiting.withLock { $0.insert("\(invocation)#\(completionID)").inserted }
    }

    func remove(_ invocation: String, _ completionID: UInt32) {
        _ = waiting.withLock { $0.remove("\(invocation)#\(completionID)") }
    }
}

extension InvocationExecutor {
    /// A handler reading another invocation (`ctx.attach_invocation`, get-output): the answer
    /// if there is one now. An attach to an invocation still running is registered instead, and
    /// its completion goes into this invocation's journal (which is then resumed) when it ends.
    func settle(_ read: InvocationRead, of invocation: Invocation) async throws -> Frame? {
        guard let target = try await resolve(read.target), target != invocation.id,
              let found = try await journal.outcome(of: target) else {
            return read.completion(.failure(InvocationRead.notFound))
        }
        if let outcome = found.outcome { return read.completion(outcome) }
        if read.kind == .output { return read.completion(nil) }
        guard attaches.insert(invocation.id, read.completionID) else { return nil }
        let ending = awaitEnd(target)
        // It may have ended between the read and the registration: the journal knows, and
        // telling the waiters again releases this registration.
        if let outcome = try await journal.outcome(of: target)?.outcome { ended(target, outcome) }
        let (journal, wake, attaches, logger) = (self.journal, self.wake, self.attaches, self.logger)
        Task {
            // The ingress stopped: nothing is written; the next start registers the attach again.
            guard let outcome = await ending.value else { return attaches.remove(invocation.id, read.completionID) }
            do {
                try await journal.notify(invocation.id, read.completion(outcome))
            } catch {
                logger.error("invocation \(invocation.id) attached to \(target), which ended, but its journal could not take the result: \(error)")
            }
            attaches.remove(invocation.id, read.completionID)
            await wake(invocation.id)
        }
        return nil
    }

    /// The invocation a read names; nil when no invocation could be it.
    private func resolve(_ target: InvocationRead.Target) async throws -> String? {
        switch target {
        case .id(let id):
            return InvocationID.isWellFormed(id) ? id : nil
        case .idempotentRequest(let service, let key, let handler, let idempotencyKey):
            return InvocationID.idempotent(service: service, handler: handler, key: key, idempotencyKey: idempotencyKey)
        case .workflow(let name, let key):
            guard let run = workflowRunHandler(name) else { return nil }
            return try await journal.workflowRun(service: name, handler: run, key: key)?.id
        }
    }
}
