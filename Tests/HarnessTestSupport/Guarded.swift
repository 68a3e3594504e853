import Foundation
// Tests reach `ChildProcess` and `withChildProcess` through this module.
@_exported import ChildProcesses
import LiveResources
import Testing

/// The trait every suite of this package carries: `@Suite("…", .guarded)`.
///
/// For each test it holds back the test's output (swift-log, librdkafka, child processes) and
/// shows it only if the test fails, and tags what the test opens with its name
/// (`LiveResources.owner`). When the suite ends, it fails the suite if anything its tests opened
/// is still open, naming each resource and the test that opened it, and fails it if the process
/// has exceeded its descriptor or thread limits (`ResourceMonitor`).
///
/// It also bounds each test's time (`timeLimit`, `HARNESS_TEST_TIME_LIMIT` seconds), counted from
/// when the test gets its turn (`TestAdmission`). Swift Testing's own `.timeLimit` counts the wait
/// for a turn too, which on a slow machine is most of the run, so suites do not use it.
public struct GuardedTrait: SuiteTrait, TestTrait, TestScoping {
    public static let timeLimit: Duration = .seconds(Int(ProcessInfo.processInfo.environment["HARNESS_TEST_TIME_LIMIT"] ?? "") ?? 300)

    /// How long a suite's resources get to finish closing after its last test (librdkafka
    /// destroys handles on threads of its own, a moment after the last reference goes).
    static let closeGrace: Duration = .seconds(15)

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> GuardedTrait? {
        test.isSuite || testCase != nil ? self : nil
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        TestLogHandler.installed
        if test.isSuite {
            try await guardSuite(test, function)
        } else {
            try await guardTestCase(test, testCase, function)
        }
    }

    private func guardSuite(_ suite: Test, _ function: @Sendable () async throws -> Void) async throws {
        let id = suite.id.description
        let name = suite.displayName ?? suite.name
        try await Self.$suite.withValue((id, name)) { try await function() }
        let leaked = await LeakCheck.openResources(ofSuite: id, grace: Self.closeGrace)
        if !leaked.isEmpty {
            Issue.record(Comment(rawValue: LeakCheck.report(suite: name, leaked)))
        }
        if let exceeded = ResourceMonitor.shared.exceededLimits() {
            Issue.record("the test process exceeded its resource limits: \(exceeded)")
        }
    }

    private func guardTestCase(_ test: Test, _ testCase: Test.Case?, _ function: @Sendable () async throws -> Void) async throws {
        let suite = Self.suite ?? (test.id.description, "(no suite)")
        let name = test.displayName ?? test.name
        let output = TestOutput(testName: "\(suite.name) / \(name)")
        let owner = LiveResources.Owner(suiteID: suite.id, suiteName: suite.name, test: name)
        defer { output.showIfFailed() }
        let observeIssues = IssueHandlingTrait.compactMapIssues { issue in
            if issue.isFailure { output.markFailed() }
            return issue
        }
        do {
            try await TestAdmission.shared.run {
                try await TestOutput.$current.withValue(output) {
                    try await ChildProcess.$outputLines.withValue({ output.append($0) }) {
                        try await LiveResources.$owner.withValue(owner) {
                            ResourceMonitor.shared.testStarted(output.testName)
                            defer { ResourceMonitor.shared.testEnded(output.testName) }
                            try await Self.withTimeLimit {
                                try await observeIssues.provideScope(for: test, testCase: testCase, performing: function)
                            }
                        }
                    }
                }
            }
        } catch {
            output.markFailed()
            throw error
        }
    }

    /// Runs `body`, cancelling it and failing with `TestTimeLimitExceeded` if it runs past
    /// `timeLimit`. A body that ignores cancellation still runs to its end (`.ci/run`'s watchdog
    /// ends a run that never does).
    public static func withTimeLimit(_ limit: Duration = timeLimit, _ body: @Sendable () async throws -> Void) async throws {
        try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    throw TestTimeLimitExceeded(limit: limit)
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }

    /// The innermost suite being run: its id and name.
    @TaskLocal static var suite: (id: String, name: String)?
}

extension Trait where Self == GuardedTrait {
    /// See `GuardedTrait`.
    public static var guarded: GuardedTrait { GuardedTrait() }
}

public struct TestTimeLimitExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "the test ran for more than \(limit) after its turn came (HARNESS_TEST_TIME_LIMIT)" }
}

/// The guard's leak check on its own, so it can be tested on a deliberate leak.
public enum LeakCheck {
    /// What the suite opened and has not closed after `grace`.
    public static func openResources(ofSuite suiteID: String, grace: Duration) async -> [LiveResources.Entry] {
        _ = await waitUntil(timeout: grace) { LiveResources.open(ownedBySuite: suiteID).isEmpty }
        return LiveResources.open(ownedBySuite: suiteID)
    }

    public static func report(suite: String, _ leaked: [LiveResources.Entry]) -> String {
        "suite \"\(suite)\" leaked \(leaked.count) resource(s) still open after its tests ended:\n"
            + leaked.map { "  - \($0)" }.joined(separator: "\n")
    }
}
