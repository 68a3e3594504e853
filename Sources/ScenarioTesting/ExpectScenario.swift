import EmbeddedIngressTarget
import PlantedDefects
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

/// Proves the scenario bites: it must pass on the clean build and fail with `defect` planted.
/// Failing clean is recorded as `expectScenario` records it; passing with the defect is an
/// issue at the caller. Returns the run with the defect planted, whose failures say where it
/// was caught.
@discardableResult
public func expectScenario(_ scenario: Scenario, runner: ScenarioRunner = ScenarioRunner(target: .embedded), catches defect: PlantedDefect,
                           sourceLocation: Testing.SourceLocation = #_sourceLocation) async -> ScenarioResult {
    // The defect goes into the provider of its component; the clean run plants none anywhere.
    if let why = defect.notApplicable(to: scenario, target: runner.target) {
        Issue.record(Comment(rawValue: "\(scenario.name) cannot catch \(defect.name): \(why)"), sourceLocation: sourceLocation)
        return ScenarioResult(scenario: scenario, skipped: why)
    }
    guard let cleanTarget = runner.target.planting([]), let plantedTarget = runner.target.planting([defect]) else {
        Issue.record(Comment(rawValue: "\(runner.target.name) cannot plant \(defect.name)"), sourceLocation: sourceLocation)
        return ScenarioResult(scenario: scenario, skipped: "\(runner.target.name) cannot plant \(defect.name)")
    }
    var clean = runner
    clean.target = cleanTarget
    let cleanResult = await expectScenario(scenario, runner: clean, sourceLocation: sourceLocation)
    var planted = runner
    planted.target = plantedTarget
    let result = await planted.run(scenario)
    if cleanResult.passed, cleanResult.skipped == nil, result.passed {
        Issue.record(Comment(rawValue: "\(scenario.name) passed with \(defect.name) planted (\(defect.summary)): it does not catch it"
                             + (result.skipped.map { " (skipped: \($0))" } ?? "")), sourceLocation: sourceLocation)
    }
    return result
}

private func testingLocation(_ location: Scenarios.SourceLocation) -> Testing.SourceLocation {
    let name = location.file.split(separator: "/").last.map(String.init) ?? location.file
    return Testing.SourceLocation(fileID: "Scenario/\(name)", filePath: location.file, line: max(1, location.line), column: max(1, location.column))
}
