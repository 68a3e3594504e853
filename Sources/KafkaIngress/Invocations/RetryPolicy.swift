/// How failed attempts are retried: exponential backoff, then, after `maxAttempts`, the
/// invocation is paused or killed. The defaults are Restate's `[default-retry-policy]` (1.6 and
/// 1.7): first retry after 500 ms, factor 2, at most 60 s apart, paused after 70 attempts.
public struct RetryPolicy: Sendable, Equatable {
    /// What happens once `maxAttempts` attempts have failed (Restate's `on-max-attempts`).
    public enum OnMaxAttempts: String, Sendable, Equatable, CaseIterable {
        /// The invocation stops being attempted but stays open: an object key stays blocked
        /// behind it until it is resumed (`PATCH /invocations/{id}/resume`).
        case pause
        /// The invocation ends as failed; an object key's next record runs.
        case kill
    }

    public var initialDelayMs: Int
    public var factor: Double
    public var maxDelayMs: Int
    /// Attempts in all, the first included; nil retries forever (Restate's `unlimited`).
    public var maxAttempts: Int?
    public var onMaxAttempts: OnMaxAttempts

    public init(initialDelayMs: Int = 500, factor: Double = 2, maxDelayMs: Int = 60_000, maxAttempts: Int? = 70,
                onMaxAttempts: OnMaxAttempts = .pause) {
        self.initialDelayMs = initialDelayMs
        self.factor = factor
        self.maxDelayMs = maxDelayMs
        self.maxAttempts = maxAttempts
        self.onMaxAttempts = onMaxAttempts
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failed ones.
    func delayMs(afterAttempts attempts: Int) -> Int {
        var delay = Double(initialDelayMs)
        for _ in 1..<max(1, attempts) where delay < Double(maxDelayMs) { delay *= factor }
        return Int(min(Double(maxDelayMs), delay))
    }
}
