import Foundation

/// What running one scenario gave.
public struct ScenarioResult: Sendable {
    public var scenario: Scenario
    public var failures: [ExpectationFailure]
    /// Set when a step could not run (the expectations were then not checked).
    public var error: String?
    /// The step that could not run, when there is one.
    public var errorLocation: SourceLocation?
    public var seconds: Double
    public var observations: Observations?
    /// Why the scenario did not run on this target (it needs what the target lacks).
    public var skipped: String?
    /// For a scenario with `explore:`: the runs made, and the one that failed.
    public var exploration: ExplorationOutcome?

    /// True also when skipped: nothing failed.
    public var passed: Bool { failures.isEmpty && error == nil }

    public init(scenario: Scenario, failures: [ExpectationFailure] = [], error: String? = nil, errorLocation: SourceLocation? = nil,
                seconds: Double = 0, observations: Observations? = nil, skipped: String? = nil, exploration: ExplorationOutcome? = nil) {
        self.scenario = scenario
        self.failures = failures
        self.error = error
        self.errorLocation = errorLocation
        self.seconds = seconds
        self.observations = observations
        self.skipped = skipped
        self.exploration = exploration
    }
}
