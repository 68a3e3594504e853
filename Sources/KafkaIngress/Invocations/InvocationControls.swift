import Logging
import RestateProtocol
import Synchronization

/// Kills and pauses asked for through the admin API (`PATCH /invocations/{id}/kill|pause`),
/// waiting for the invocation's next attempt to start or its current one to end. An attempt in
/// flight is not interrupted: its handler's answer is then discarded (kill) or its retry
/// skipped (pause).
final class InvocationControls: Sendable {
    enum Request: Sendable {
        case kill, pause
    }

    private let requests = Mutex<[String: Request]>([:])

    /// A kill replaces a pause asked for earlier, not the other way round.
    func request(_ request: Request, for id: String) {
        requests.withLock { requests in
            if case .kill? = requests[id] { return }
            requests[id] = request
        }
    }

    func take(_ id: String) -> Request? {
        requests.withLock { $0.removeValue(forKey: id) }
    }
}

extension InvocationExecutor {
    /// Restate's `KILLED_INVOCATION_ERROR`.
    static let killed = InvocationFailure(code: 409, message: "killed")

    /// One attempt, with the kill or pause asked for meanwhile obeyed before the handler is
    /// called, or once its attempt has ended without finishing the invocation.
    func attempt(_ invocation: Invocation) async -> Dispatcher.AttemptResult {
        if let request = controls.take(invocation.id) { return await obey(request, invocation) }
        let result = await runAttempt(invocation)
        switch result {
        case .finished, .finishedSending:
            return result
        case .retry, .suspended, .paused:
            guard let request = controls.take(invocation.id) else { return result }
            if case .paused = result, case .pause = request { return result }
            return await obey(request, invocation)
        }
    }

    private func obey(_ request: InvocationControls.Request, _ invocation: Invocation) async -> Dispatcher.AttemptResult {
        do {
            switch request {
            case .kill:
                // What the killed attempts did is not applied: no state changes, no sends.
                try await journal.finish(invocation, status: .failed, attempts: invocation.attempts, output: nil,
                                         error: "[\(Self.killed.code)] \(Self.killed.message)", mutations: [],
                                         callerNotification: invocation.caller.map { JournalEntries.callCompletion($0.completionID, .failure(Self.killed)) })
                if let caller = invocation.caller { await wake(caller.id) }
                ended(invocation.id, .failure(Self.killed))
                logger.info("invocation \(invocation.id) killed")
                return .finished
            case .pause:
                try await journal.markPaused(invocation.id, attempts: invocation.attempts, error: "paused through the admin API")
                logger.info("invocation \(invocation.id) paused")
                return .paused
            }
        } catch {
            logger.error("journal error obeying \(request) of invocation \(invocation.id): \(error)")
            controls.request(request, for: invocation.id)
            return .retry(afterMs: 100)
        }
    }
}
