/// Defects the ingress can be told to have, so tests can prove that the harness's assertions
/// catch them. Never set outside tests.
public enum DeliberateDefect: String, Sendable, CaseIterable {
    /// Exclusive handlers run like shared ones: no per-key order, overlaps allowed.
    case ignoreKeyOrder
    /// `kafka.offset` is left out of the headers given to handlers.
    case dropOffsetHeader
    /// Deleting a subscription forgets it but leaves its consumer running.
    case keepConsumingAfterDelete
    /// Every completed invocation is sent to the handler a second time.
    case invokeTwice
    /// After its first rebalance, a consumer journals records as if the handler were shared: a
    /// defect that only some interleavings of faults reveal (for exploration's tests).
    case loseKeyOrderAfterRebalance
    /// Replays leave the first `ctx.run` result out of the journal they send: a handler then
    /// runs that side effect again (a broken journal replay, for the SDK scenarios' tests).
    case dropRunCompletionOnReplay
}
