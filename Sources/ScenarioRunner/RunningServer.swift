import Scenarios

/// A server running in a task of its own, started by `start` once it reports the port it bound.
/// Every way the server can fail to come up ends the wait (it throws, returns, or stays silent
/// past the deadline), so a run never waits forever on a server that did not bind.
public struct RunningServer: Sendable {
    public let url: String
    public let port: Int
    private let task: Task<Void, any Error>

    /// `run` serves until cancelled, calling `ready` with the bound port once it listens.
    public static func start(_ what: String, host: String = "127.0.0.1", within limit: Duration = .seconds(30),
                             _ run: @escaping @Sendable (_ ready: @escaping @Sendable (Int) async -> Void) async throws -> Void) async throws -> RunningServer {
        let started = ContinuousClock.now
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await run { continuation.yield($0) }
        }
        let deadline = Task {
            try? await Task.sleep(for: limit)
            continuation.finish()
        }
        var bound: Int?
        for await port in ports { bound = port; break }
        deadline.cancel()
        guard let bound else {
            let timedOut = ContinuousClock.now - started >= limit
            task.cancel()
            let reason: String
            switch await task.result {
            case .failure(let error) where !timedOut: reason = "\(error)"
            default: reason = timedOut ? "it did not listen within \(limit)" : "it stopped before listening"
            }
            throw ScenarioError("\(what) did not start: \(reason)")
        }
        return RunningServer(url: "http://\(host):\(bound)", port: bound, task: task)
    }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}
