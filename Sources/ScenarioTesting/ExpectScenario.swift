import EmbeddedIngressTarget
import ScenarioRunner
import Scenarios
import Testing

/// Runs a scenario under Swift Testing: each failed expectation (or a step that could not run)
/// becomes an issue at the line that wrote it, the Swift line for the builder, the YAML line for
/// a file.
@discardableResult
public func expectScenario(_ scenario: Scenario, runner: ScenarioRunner = ScenarioRunner(target: .embedded),
                           sourceLocation: Testing.SourceLocation = #_sourceLocation) async -> ScenarioResult {
    let result = await runner.run(scenario)
    if let error = result.error {
        Issue.record(Comment(rawValue: "\(scenario.name): \(error)"), sourceLocation: result.errorLocation.map(testingLocation) ?? sourceLocation)
    }
    for failure in result.failures {
        Issue.record(Comment(rawValue: "\(scenario.name): \(failure.expectation): \(failure.message)"), sourceLocation: testingLocation(failure.location))
    }
    return result
}

private func testingLocation(_ location: Scenarios.SourceLocation) -> Testing.SourceLocation {
    let name = location.file.split(separator: "/").last.map(String.init) ?? location.file
    return Testing.SourceLocation(fileID: "Scenario/\(name)", filePath: location.file, line: max(1, location.line), column: max(1, location.column))
}
