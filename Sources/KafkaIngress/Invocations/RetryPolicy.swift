import RestateProtocol

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
    /// Restate's `max-retry-policy-max-attempts`: the most attempts a service's or handler's own
    /// policy (from its discovery manifest) may ask for; nil: no limit.
    public var manifestMaxAttemptsCap: Int?

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

extension RetryPolicy {
    /// Restate's merge: this (the runtime's default), then the settings the service's discovery
    /// manifest gives, then its handler's; each field on its own.
    func overridden(by service: EndpointManifest.Service, handler: EndpointManifest.Handler?) -> RetryPolicy {
        var policy = self
        policy.apply(service.retryPolicyInitialInterval, service.retryPolicyMaxInterval, service.retryPolicyMaxAttempts,
                     service.retryPolicyExponentiationFactor, service.retryPolicyOnMaxAttempts)
        if let handler {
            policy.apply(handler.retryPolicyInitialInterval, handler.retryPolicyMaxInterval, handler.retryPolicyMaxAttempts,
                         handler.retryPolicyExponentiationFactor, handler.retryPolicyOnMaxAttempts)
        }
        return policy
    }

    private mutating func apply(_ initial: Int?, _ maxInterval: Int?, _ maxAttempts: Int?, _ factor: Double?, _ onMax: String?) {
        if let initial { initialDelayMs = initial }
        if let maxInterval { maxDelayMs = maxInterval }
        if let maxAttempts { self.maxAttempts = manifestMaxAttemptsCap.map { Swift.min($0, maxAttempts) } ?? maxAttempts }
        if let factor { self.factor = factor }
        if let onMax, let value = OnMaxAttempts(rawValue: onMax.lowercased()) { onMaxAttempts = value }
    }
}
