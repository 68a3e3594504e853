import Foundation

/// How many tests run at once. Swift Testing starts every test of the run together; with each
/// one bringing brokers, librdkafka clients (a handful of threads and sockets each), ingresses
/// and child processes, that exhausted descriptors and threads on a 2-core machine, and the
/// contention made each test slower than running them a few at a time.
/// Most tests spend their time waiting (on clients, group joins, child processes), so a few more
/// than the cores run at once: on 2 cores, 5 at a time took the suite from 256 s to 163 s with
/// 364 descriptors and 114 threads at the peak, within `ResourceMonitor`'s limits (issue 25).
/// `HARNESS_TEST_PARALLELISM` overrides the width (default: three more than the cores, at least 5).
actor TestAdmission {
    static let shared = TestAdmission(width: Int(ProcessInfo.processInfo.environment["HARNESS_TEST_PARALLELISM"] ?? "")
        ?? max(5, ProcessInfo.processInfo.activeProcessorCount + 3))

    private let width: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) {
        self.width = max(1, width)
    }

    /// Runs `body` once fewer than `width` others run, in the order tests asked.
    nonisolated func run(_ body: () async throws -> Void) async throws {
        await enter()
        do {
            try await body()
            await leave()
        } catch {
            await leave()
            throw error
        }
    }

    private func enter() async {
        if running < width {
            running += 1
            return
        }
        // The leaving test hands its place over; `running` does not change.
        await withCheckedContinuation { waiting.append($0) }
    }

    private func leave() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
