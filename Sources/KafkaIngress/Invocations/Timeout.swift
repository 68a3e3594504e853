/// Runs `body`, giving up on waiting after `timeout`; returns whether it finished in time.
/// `body` runs unstructured, so an uncancellable wait inside it cannot hold the caller.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let (results, continuation) = AsyncStream<Bool>.makeStream()
    let work = Task {
        await body()
        continuation.yield(true)
    }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        continuation.yield(false)
    }
    for await finished in results {
        work.cancel()
        timer.cancel()
        return finished
    }
    return false
}
