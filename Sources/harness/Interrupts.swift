import Dispatch
import Foundation
import Synchronization

/// SIGINT and SIGTERM, caught from the moment this is created.
///
/// The first signal asks the command to stop; it then has `stopLimit` to do so before the process
/// exits regardless, and a second signal exits at once. A supervisor (a test, systemd, Docker)
/// can therefore always count on the process being gone soon after it asked.
/// Sendable: everything is set once in init; the handlers run on one serial queue.
final class Interrupts: @unchecked Sendable {
    /// The longest a command may take to stop after the first signal (a little under 10 s, so
    /// that a supervisor waiting 10 s always sees it gone).
    static let stopLimit: DispatchTimeInterval = .milliseconds(9_500)

    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        let received = DispatchQueue(label: "harness.interrupts")
        let count = SignalCount()
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: received)
            source.setEventHandler {
                if count.increment() == 1 {
                    continuation.yield(sig)
                    received.asyncAfter(deadline: .now() + Self.stopLimit) {
                        Self.exitNow("did not stop within 10 s of \(Self.name(sig)); exiting", code: 1)
                    }
                } else {
                    Self.exitNow("second \(Self.name(sig)): exiting at once", code: 128 + sig)
                }
            }
            source.resume()
            return source
        }
    }

    /// Suspends until the first signal.
    func wait() async {
        for await _ in stream { break }
    }

    /// Exits without running anything else: the rest of the process may be what is stuck.
    private static func exitNow(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("harness: \(message)\n".utf8))
        _exit(code)
    }

    private static func name(_ sig: Int32) -> String { sig == SIGINT ? "SIGINT" : "SIGTERM" }
}

private final class SignalCount: Sendable {
    private let value = Atomic<Int>(0)

    /// The count after this signal.
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}
