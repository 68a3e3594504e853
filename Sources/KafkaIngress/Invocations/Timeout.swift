import Synchronization

/// Runs `body`, giving up on waiting after `timeout`; returns whether it finished in time.
/// `body` runs unstructured, so an uncancellable wait inside it cannot hold the caller.
///
/// The caller's own cancellation does not cut the wait short: shutdowns run in cancelled tasks
/// (a signal cancels the serving task), and they still owe their consumers the drain period.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let race = TimeoutRace()
    let finished = await withCheckedContinuation { continuation in
        race.begin(continuation, tasks: [
            Task { await body(); race.end(true) },
            Task { try? await Task.sleep(for: timeout); race.end(false) },
        ])
    }
    race.cancelTasks()
    return finished
}

/// The first of the work and the timer to end answers; the other is cancelled.
private final class TimeoutRace: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Bool, Never>?
        var outcome: Bool?
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<Bool, Never>, tasks: [Task<Void, Never>]) {
        state.withLock { state in
            state.tasks = tasks
            // One of them may already have ended.
            if let outcome = state.outcome { continuation.resume(returning: outcome) } else { state.continuation = continuation }
        }
    }

    func end(_ finished: Bool) {
        state.withLock { state in
            guard state.outcome == nil else { return }
            state.outcome = finished
            state.continuation?.resume(returning: finished)
            state.continuation = nil
        }
    }

    func cancelTasks() {
        state.withLock { $0.tasks }.forEach { $0.cancel() }
    }
}
