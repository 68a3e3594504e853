import ArgumentParser
import Foundation
import EmbeddedIngressTarget
import FakeKafkaTarget
import PlantedDefects
import ScenarioRunner
import Scenarios

/// `harness run`: runs scenario files against the embedded target.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run scenario files (or every .yaml/.yml in folders) against FakeKafka + the reference ingress + the recorder.",
        discussion: "Prints each scenario's result and a summary; exits 1 if any failed."
    )

    @Argument(help: "Scenario files or folders.")
    var paths: [String]

    @Option(help: "Write a JUnit XML report here (one test case per scenario).")
    var junit: String?

    @Option(help: "Write an HTML report here: results and a timeline of invocations per key and handler.")
    var html: String?

    @Option(help: "embedded (FakeKafka + our ingress + recorder in this process) or restate (an external ingress at --admin-url).")
    var target = "embedded"

    @Option(help: "With --target restate: the ingress's admin API, e.g. http://localhost:9070.")
    var adminURL: String?

    @Option(help: "With --target restate: the ingress's HTTP API, for `call` steps (default: the --admin-url host on port 8080, Restate's).")
    var ingressURL: String?

    @Option(help: "With --target restate: the Kafka cluster name in the ingress's configuration, whose brokers are --advertised-host:--broker-port.")
    var kafkaCluster = "harness"

    @Option(help: "With --target restate: the host the external ingress reaches our broker and recorder at.")
    var advertisedHost = "127.0.0.1"

    @Option(help: "With --target restate: the port our broker listens on (the external configuration names it).")
    var brokerPort = 9092

    @Option(help: "Use this Kafka (host:port,…) instead of FakeKafka. Each run gets topics of its own; scenarios with faults are skipped.")
    var bootstrapServers: String?

    @Option(help: "The seed of scenarios that explore (replaces the one in their explore: key), to replay an exploration.")
    var seed: UInt64?

    @Option(help: "Where an exploration writes the scenario of a failing run.")
    var replayDir = "."

    @Flag(help: "Read and check the files, say which scenarios the target would run or skip, and stop.")
    var dryRun = false

    @Option(name: .customLong("defect"), help: ArgumentHelp("Plant this defect in the ingress or FakeKafka (repeatable), to see the scenarios catch it. `harness mutate --list` lists them.",
                                                           valueName: "name"))
    var defectNames: [String] = []

    /// The defects named by `--defect`.
    var defects: Set<PlantedDefect> {
        get throws { try Self.defects(named: defectNames) }
    }

    static func defects(named names: [String]) throws -> Set<PlantedDefect> {
        Set(try names.map { name in
            guard let defect = PlantedDefect(name: name) else {
                throw ValidationError("--defect: no defect named '\(name)'; the planted defects are: \(PlantedDefect.names)")
            }
            return defect
        })
    }

    func validate() throws {
        switch target {
        case "embedded": break
        case "restate": guard adminURL != nil else { throw ValidationError("--target restate needs --admin-url") }
        default: throw ValidationError("--target must be embedded or restate, got '\(target)'")
        }
        if let bootstrapServers, bootstrapServers.isEmpty { throw ValidationError("--bootstrap-servers is empty") }
        let defects = try self.defects
        if target == "restate", defects.contains(where: { $0.component == .ingress }) {
            throw ValidationError("--defect plants ingress defects in the reference ingress; --target restate runs an external one")
        }
        if bootstrapServers != nil, defects.contains(where: { $0.component == .broker }) {
            throw ValidationError("--defect plants broker defects in FakeKafka; --bootstrap-servers uses an external Kafka")
        }
    }

    /// The target of the flags, with the `--defect` defects planted in the providers of their components.
    var scenarioTarget: ScenarioTarget {
        get throws {
            let kafka: any KafkaTargetProvider = bootstrapServers.map { ExternalKafkaProvider(bootstrapServers: $0) }
                ?? FakeKafkaProvider(brokerPort: target == "restate" ? brokerPort : 0)
            let ingress: any IngressTargetProvider = if target == "restate", let adminURL {
                RemoteIngressProvider(adminURL: adminURL, kafkaCluster: kafkaCluster, advertisedHost: advertisedHost, ingressURL: ingressURL)
            } else {
                EmbeddedIngressProvider()
            }
            let defects = try self.defects
            guard let planted = ScenarioTarget(anyKafka: kafka, ingress: ingress).planting(defects) else {
                throw ValidationError("--defect: \(kafka.name) + \(ingress.name) cannot plant \(defects.sorted().map(\.name).joined(separator: ", "))")
            }
            return planted
        }
    }

    func run() async throws {
        let scenarios = try Self.loadScenarios(paths)
        var runner = ScenarioRunner(target: try scenarioTarget)
        let defects = try self.defects
        if !defects.isEmpty { say("planted: " + defects.sorted().map { "\($0.name) (\($0.summary))" }.joined(separator: "; ")) }
        runner.seed = seed
        runner.replayDirectory = replayDir
        if dryRun {
            for scenario in scenarios {
                say("\(scenario.source.file): \(scenario.name): " + (runner.unsupported(scenario).map { "would skip: \($0)" } ?? "would run"))
            }
            return
        }
        var results: [ScenarioResult] = []
        for (n, scenario) in scenarios.enumerated() {
            say("[\(n + 1)/\(scenarios.count)] \(scenario.name) (\(scenario.source.file)) …", newline: false)
            let result = await runner.run(scenario)
            results.append(result)
            if let reason = result.skipped {
                say(" skipped: \(reason)")
                continue
            }
            say(result.passed ? " passed in \(String(format: "%.2f", result.seconds)) s" : " FAILED in \(String(format: "%.2f", result.seconds)) s")
            if let error = result.error { say("    error: \(error)") }
            for failure in result.failures { say("    \(failure)") }
            if let exploration = result.exploration {
                if let run = exploration.failedRun {
                    say("    exploration: run \(run + 1) of seed \(exploration.seed) failed, with \(exploration.faults.joined(separator: "; "))")
                    say("    replay: " + (exploration.replayFile.map { "harness run \($0)" } ?? "harness run --seed \(exploration.seed) \(scenario.source.file)"))
                } else {
                    say("    exploration: \(exploration.runs) runs of seed \(exploration.seed) passed")
                }
                for (run, faults) in exploration.faultsPerRun.enumerated() {
                    say("      run \(run + 1): " + (faults.isEmpty ? "no faults placed" : faults.joined(separator: "; ")))
                }
            }
        }
        let failed = results.filter { !$0.passed }, skipped = results.filter { $0.skipped != nil }
        say("\n\(results.count - failed.count - skipped.count) of \(results.count) scenarios passed"
            + (skipped.isEmpty ? "" : ", \(skipped.count) skipped (not possible on this target)")
            + (failed.isEmpty ? "" : "; failed: \(failed.map(\.scenario.name).joined(separator: ", "))"))
        if let junit {
            try JUnitReport.render(results).write(toFile: junit, atomically: true, encoding: .utf8)
            say("JUnit report: \(junit)")
        }
        if let html {
            try HTMLReport.render(results).write(toFile: html, atomically: true, encoding: .utf8)
            say("HTML report: \(html)")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// Unbuffered, so progress shows while a scenario runs.
    private func say(_ text: String, newline: Bool = true) {
        FileHandle.standardOutput.write(Data((text + (newline ? "\n" : "")).utf8))
    }

    /// Every scenario of the files and folders. A file's mistake is printed alone, with its line
    /// (the command line was fine, so no usage text), and ends the command with exit code 2.
    static func loadScenarios(_ paths: [String]) throws -> [Scenario] {
        let files = try scenarioFiles(paths)
        guard !files.isEmpty else { throw ValidationError("no .yaml or .yml files in \(paths.joined(separator: ", "))") }
        var scenarios: [Scenario] = []
        var unreadable = 0
        for file in files {
            do {
                scenarios.append(try ScenarioYAML.load(file: file))
            } catch let error as ScenarioFileError {
                FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
                unreadable += 1
            }
        }
        if unreadable > 0 { throw ExitCode(2) }
        return scenarios
    }

    static func scenarioFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("\(path): no such file or folder") }
            if isDirectory.boolValue {
                let entries = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                files += entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }
}
