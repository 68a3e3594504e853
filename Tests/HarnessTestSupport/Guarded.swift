import LiveResources
import Testing

/// The trait every suite of this package carries: `@Suite("…", .guarded)`.
///
/// For each test it holds back the test's output (swift-log, librdkafka, child processes) and
/// shows it only if the test fails, and tags what the test opens with its name
/// (`LiveResources.owner`). When the suite ends, it fails the suite if anything its tests opened
/// is still open, naming each resource and the test that opened it, and fails it if the process
/// has exceeded its descriptor or thread limits (`ResourceMonitor`).
public struct GuardedTrait: SuiteTrait, TestTrait, TestScoping {
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
                    try await LiveResources.$owner.withValue(owner) {
                        ResourceMonitor.shared.testStarted(output.testName)
                        defer { ResourceMonitor.shared.testEnded(output.testName) }
                        try await observeIssues.provideScope(for: test, testCase: testCase, performing: function)
                    }
                }
            }
        } catch {
            output.markFailed()
            throw error
        }
    }

    /// The innermost suite being run: its id and name.
    @TaskLocal static var suite: (id: String, name: String)?
}

extension Trait where Self == GuardedTrait {
    /// See `GuardedTrait`.
    public static var guarded: GuardedTrait { GuardedTrait() }
}

/// The guard's leak check on its own, so it can be tested on a deliberate leak.
public enum LeakCheck {
    /// What the suite opened and has not closed after `grace`.
    public static func openResources(ofSuite suiteID: String, grace: Duration) async -> [LiveResources.Entry] {
        let deadline = ContinuousClock.now + grace
        while true {
            let open = LiveResources.open(ownedBySuite: suiteID)
            if open.isEmpty || ContinuousClock.now >= deadline { return open }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    public static func report(suite: String, _ leaked: [LiveResources.Entry]) -> String {
        "suite \"\(suite)\" leaked \(leaked.count) resource(s) still open after its tests ended:\n"
            + leaked.map { "  - \($0)" }.joined(separator: "\n")
    }
}
