/// How failed attempts are retried: exponential backoff, optionally bounded.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelayMs: Int
    public var factor: Double
    public var maxDelayMs: Int
    /// After this many attempts the invocation is failed; nil retries forever (Restate's behaviour
    /// for a retryable error).
    public var maxAttempts: Int?

    public init(initialDelayMs: Int = 50, factor: Double = 2, maxDelayMs: Int = 10_000, maxAttempts: Int? = nil) {
        self.initialDelayMs = initialDelayMs
        self.factor = factor
        self.maxDelayMs = maxDelayMs
        self.maxAttempts = maxAttempts
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failed ones.
    func delayMs(afterAttempts attempts: Int) -> Int {
        var delay = Double(initialDelayMs)
        for _ in 1..<max(1, attempts) where delay < Double(maxDelayMs) { delay *= factor }
        return Int(min(Double(maxDelayMs), delay))
    }
}
