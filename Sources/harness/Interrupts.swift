import Dispatch
import Foundation

/// SIGINT and SIGTERM, caught from the moment this is created.
/// Sendable: the sources are set once in init and only cancelled by the one waiter.
final class Interrupts: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
    }

    /// Suspends until the first signal.
    func wait() async {
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
