import Logging
import RestateProtocol

/// The admin API's `PATCH /invocations/{id}/kill`, `/pause`, `/purge` and `/purge-journal`.
extension KafkaIngress {
    public enum ControlOutcome: Sendable, Equatable {
        /// Done (kill, purge), or asked for (pause: it pauses once its attempt in flight ends).
        case done
        /// Pause: it was paused already.
        case alreadyDone
        case unknown
        /// Kill or pause of an invocation that has ended.
        case completed
        /// Purge of an invocation that has not ended.
        case notCompleted
    }

    /// How long a kill waits for the invocation to end before answering (an attempt in flight
    /// runs to its end; one queued behind its key ends when it reaches the front).
    static let killWait: Duration = .seconds(10)

    /// Ends the invocation as failed with Restate's 409 "killed", its attempts' effects not
    /// applied; a caller waiting for it gets that failure and an object key moves on.
    public func killInvocation(_ id: String) async throws -> ControlOutcome {
        guard let status = try await journal.status(of: id) else { return .unknown }
        if status.isFinal { return .completed }
        let ending = outcomeWaiters.register(id)
        controls.request(.kill, for: id)
        try await attemptSoon(id, status)
        // It may have ended meanwhile, without this kill: tell the registration so.
        if let outcome = try await journal.outcome(of: id)?.outcome { outcomeWaiters.ended(id, outcome) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await ending.value }
            group.addTask { try? await Task.sleep(for: Self.killWait) }
            await group.next()
            group.cancelAll()
        }
        return .done
    }

    /// Pauses the invocation at its next attempt boundary, as Restate pauses a running one.
    public func pauseInvocation(_ id: String) async throws -> ControlOutcome {
        switch try await journal.status(of: id) {
        case nil: return .unknown
        case .paused?: return .alreadyDone
        case .completed?, .failed?: return .completed
        case let status?:
            controls.request(.pause, for: id)
            try await attemptSoon(id, status)
            return .done
        }
    }

    public func purgeInvocation(_ id: String, journalOnly: Bool) async throws -> ControlOutcome {
        guard let status = try await journal.status(of: id) else { return .unknown }
        guard status.isFinal, try await journal.purge(id, journalOnly: journalOnly) else { return .notCompleted }
        // The input goes with the journal, as in Restate: a restart-as-new of it is refused now.
        if journalOnly { try await journal.markJournalPurged(id) }
        logger.info("invocation \(id) purged\(journalOnly ? " (its journal)" : "")")
        return .done
    }

    /// Brings a waiting invocation's next attempt forward, where the controls are obeyed; one
    /// running or queued gets there by itself.
    private func attemptSoon(_ id: String, _ status: InvocationStatus) async throws {
        switch status {
        case .paused:
            if let invocation = try await journal.resume(id) { _ = await dispatcher.resume(invocation) }
        case .retrying, .suspended:
            await dispatcher.retryNow(id)
        case .pending, .running, .completed, .failed:
            break
        }
    }
}
