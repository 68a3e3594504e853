import Foundation
import Synchronization

/// Samples the test process's open file descriptors and threads while tests run, keeping the
/// peaks and which tests were running at each.
///
/// Limits: `HARNESS_TEST_MAX_FDS` (default 512) and `HARNESS_TEST_MAX_THREADS` (default 200).
/// With `HARNESS_TEST_RESOURCES=FILE`, the peaks so far are written to FILE as they change,
/// with the slowest tests so far (time from their turn to their end, admission wait excluded):
/// where a suite's wall time goes.
public final class ResourceMonitor: Sendable {
    public static let shared = ResourceMonitor()

    public struct Peak: Sendable, CustomStringConvertible {
        public var value = 0
        public var runningTests: [String] = []

        public var description: String {
            let shown = runningTests.sorted().prefix(8).joined(separator: "; ")
            let more = runningTests.count > 8 ? "; and \(runningTests.count - 8) more" : ""
            return "\(value) (while running: \(runningTests.isEmpty ? "no test" : shown + more))"
        }
    }

    private struct State {
        var running: [String: Int] = [:]
        var started: [String: [ContinuousClock.Instant]] = [:]
        var slowest: [(name: String, seconds: Double)] = []
        /// The most descriptors the process had open while each test ran (shared with whatever ran beside it).
        var fdsWhileRunning: [String: Int] = [:]
        var fds = Peak()
        var threads = Peak()
        var reported = false
    }

    public let maxFDs = Int(ProcessInfo.processInfo.environment["HARNESS_TEST_MAX_FDS"] ?? "") ?? 512
    public let maxThreads = Int(ProcessInfo.processInfo.environment["HARNESS_TEST_MAX_THREADS"] ?? "") ?? 200
    private let reportFile = ProcessInfo.processInfo.environment["HARNESS_TEST_RESOURCES"]
    private let state = Mutex(State())

    private init() {
        let thread = Thread { [self] in
            while true {
                sample()
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        thread.name = "resource-monitor"
        thread.start()
    }

    static let slowestKept = 5

    func testStarted(_ name: String) {
        state.withLock {
            $0.running[name, default: 0] += 1
            $0.started[name, default: []].append(.now)
        }
    }

    func testEnded(_ name: String) {
        state.withLock { state in
            state.running[name, default: 1] -= 1
            if state.running[name] == 0 { state.running[name] = nil }
            if let start = state.started[name]?.popLast() {
                state.slowest.append((name, (ContinuousClock.now - start).seconds))
                state.slowest.sort { $0.seconds > $1.seconds }
                if state.slowest.count > Self.slowestKept { state.slowest.removeLast() }
            }
            if state.started[name]?.isEmpty == true { state.started[name] = nil }
        }
        writeReport()
    }

    public var peaks: (fds: Peak, threads: Peak) {
        sample()
        return state.withLock { ($0.fds, $0.threads) }
    }

    /// A description of the limits exceeded so far, once per run (nil when within them, or
    /// already reported).
    func exceededLimits() -> String? {
        let (fds, threads) = peaks
        var problems: [String] = []
        if fds.value >= maxFDs { problems.append("open file descriptors peaked at \(fds) (limit \(maxFDs))") }
        if threads.value >= maxThreads { problems.append("threads peaked at \(threads) (limit \(maxThreads))") }
        guard !problems.isEmpty else { return nil }
        return state.withLock { state in
            if state.reported { return nil }
            state.reported = true
            return problems.joined(separator: "; ")
        }
    }

    private func sample() {
        let fds = Self.count(directory: "/proc/self/fd")
        let threads = Self.count(directory: "/proc/self/task")
        let changed = state.withLock { state in
            for name in state.running.keys { state.fdsWhileRunning[name] = max(state.fdsWhileRunning[name] ?? 0, fds) }
            var changed = false
            if fds > state.fds.value { state.fds = Peak(value: fds, runningTests: Array(state.running.keys)); changed = true }
            if threads > state.threads.value { state.threads = Peak(value: threads, runningTests: Array(state.running.keys)); changed = true }
            return changed
        }
        if changed { writeReport() }
    }

    private func writeReport() {
        guard let reportFile else { return }
        let text = state.withLock { state in
            "peak open file descriptors: \(state.fds.value)\npeak threads: \(state.threads.value)\nslowest tests: "
                + state.slowest.map { "\($0.name) \(String(format: "%.1f", $0.seconds)) s" }.joined(separator: "; ") + "\n"
                + "most descriptors while running: "
                + state.fdsWhileRunning.sorted { $0.value > $1.value }.prefix(Self.slowestKept).map { "\($0.key) \($0.value)" }.joined(separator: "; ") + "\n"
        }
        try? text.write(toFile: reportFile, atomically: true, encoding: .utf8)
    }

    private static func count(directory: String) -> Int {
        guard let dir = opendir(directory) else { return 0 }
        defer { closedir(dir) }
        var n = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != 0x2E { n += 1 }  // not "." or ".."
        }
        // The directory handle itself is one descriptor.
        return directory.hasSuffix("/fd") ? n - 1 : n
    }
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
