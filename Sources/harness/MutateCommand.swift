import ArgumentParser
import EmbeddedIngressTarget
import Foundation
import PlantedDefects
import ScenarioRunner
import Scenarios

/// `harness mutate`: measures how strong a set of scenarios is, by planting each defect of the
/// catalogue in turn and seeing which scenarios catch it.
struct MutateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mutate",
        abstract: "Run scenarios on the clean build and against every planted defect, and print the kill matrix.",
        discussion: """
            Each scenario runs once clean, then once per defect it could catch, in parallel. Prints which
            expectation caught each defect, the defects no scenario catches, and the scenarios that catch
            nothing. Exits 1 when a scenario fails clean or catches nothing, unless its file says
            `mutation: none  # why`.
            """
    )

    @Argument(help: "Scenario files or folders.")
    var paths: [String] = []

    @Option(name: .customLong("defect"), help: ArgumentHelp("Only these defects (repeatable; default: all).", valueName: "name"))
    var defectNames: [String] = []

    @Option(help: "Runs at once (default: the machine's cores).")
    var parallel: Int?

    @Option(help: "Write the matrix as JUnit XML here (one test case per scenario × defect).")
    var junit: String?

    @Option(help: "Write the matrix as an HTML page here.")
    var html: String?

    @Flag(help: "List the planted defects and stop.")
    var list = false

    func validate() throws {
        if !list && paths.isEmpty { throw ValidationError("give scenario files or folders (or --list)") }
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        _ = try RunCommand.defects(named: defectNames)
    }

    func run() async throws {
        if list {
            for defect in PlantedDefect.allCases {
                print("\(defect.name) [\(defect.component.rawValue)]: \(defect.summary)" + (defect.mirrors.map { "\n    mirrors \($0)" } ?? ""))
            }
            return
        }
        let scenarios = try RunCommand.loadScenarios(paths)
        let chosen = try RunCommand.defects(named: defectNames)
        var testing = MutationTesting(runner: ScenarioRunner(target: .embedded), defects: chosen.isEmpty ? PlantedDefect.allCases : chosen.sorted())
        if let parallel { testing.parallelism = parallel }
        say("\(scenarios.count) scenarios × \(testing.defects.count) defects, \(testing.parallelism) runs at a time")
        let matrix = await testing.run(scenarios) { say($0) }
        say("")
        say(MutationReport.text(matrix))
        if let junit {
            try MutationReport.junit(matrix).write(toFile: junit, atomically: true, encoding: .utf8)
            say("JUnit report: \(junit)")
        }
        if let html {
            try MutationReport.html(matrix).write(toFile: html, atomically: true, encoding: .utf8)
            say("HTML report: \(html)")
        }
        if !matrix.passed { throw ExitCode(1) }
    }
}

/// Unbuffered, so progress shows while the runs go.
private func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
