/// The one way the runner waits for something outside it (a group to form, invocations to
/// complete, a server to answer): check, sleep, check again, until a deadline.
enum Polling {
    /// Calls `check` every `interval` until it returns true or `timeout` has passed; returns
    /// whether it did. `check` may keep what it saw, for the caller's message.
    static func until(timeout: Duration, every interval: Duration = .milliseconds(20),
                      _ check: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try await check() { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: interval)
        }
    }
}
