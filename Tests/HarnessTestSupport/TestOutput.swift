import Foundation
import Logging
import Synchronization

/// What one test printed through swift-log (librdkafka's lines included) and what its child
/// processes wrote, held back and shown only if the test fails, so a passing run's output is its
/// results. `HARNESS_TEST_OUTPUT=live` prints everything as it comes instead.
public final class TestOutput: Sendable {
    /// The output of the test running in this task, set by the `.guarded` trait.
    @TaskLocal public static var current: TestOutput?

    /// At most this many lines are kept (and shown) per test: the last ones.
    static let capacity = 1_000
    static let isLive = ProcessInfo.processInfo.environment["HARNESS_TEST_OUTPUT"] == "live"

    public let testName: String
    private let state = Mutex<(lines: [String], dropped: Int, failed: Bool)>(([], 0, false))

    public init(testName: String) {
        self.testName = testName
    }

    public func append(_ line: String) {
        if Self.isLive {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
            return
        }
        state.withLock { state in
            state.lines.append(line)
            // Trimmed in chunks, so a chatty test does not pay for a shift per line.
            if state.lines.count >= 2 * Self.capacity {
                state.dropped += state.lines.count - Self.capacity
                state.lines.removeFirst(state.lines.count - Self.capacity)
            }
        }
    }

    public func markFailed() {
        state.withLock { $0.failed = true }
    }

    public var failed: Bool { state.withLock { $0.failed } }

    /// Writes the held lines to stderr if the test failed.
    func showIfFailed() {
        let (kept, dropped, failed) = state.withLock { ($0.lines, $0.dropped + max(0, $0.lines.count - Self.capacity), $0.failed) }
        let lines = kept.suffix(Self.capacity)
        guard failed, !lines.isEmpty else { return }
        var text = "──── output of failing test \"\(testName)\"" + (dropped > 0 ? " (last \(lines.count) lines; \(dropped) earlier dropped)" : "") + " ────\n"
        text += lines.joined(separator: "\n")
        text += "\n──── end of output of \"\(testName)\" ────\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// swift-log's handler in tests: a logger made inside a test writes to that test's output; one
/// made outside any test writes errors to stderr and drops the rest.
struct TestLogHandler: LogHandler {
    let label: String
    let output: TestOutput?
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(Date().formatted(.iso8601.time(includingFractionalSeconds: true))) \(level) \(label):\(fields) \(message)"
        if let output {
            output.append(text)
        } else if level >= .error || TestOutput.isLive {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    /// Installs the handler once per process, before the first test's loggers exist.
    static let installed: Void = {
        LoggingSystem.bootstrap { label in TestLogHandler(label: label, output: TestOutput.current) }
    }()
}
