import ChildProcesses
import Foundation
import Scenarios

/// A scenario's real deployments (services written with a Restate SDK): the ones it names by URL,
/// and the ones it starts by command, which stop with the scenario.
final class RealDeployments: Sendable {
    /// Deployment name → the URL the deployment itself listens on.
    let upstreams: [String: String]
    private let processes: [(name: String, process: ChildProcess)]

    private init(upstreams: [String: String], processes: [(name: String, process: ChildProcess)]) {
        self.upstreams = upstreams
        self.processes = processes
    }

    /// How long a started deployment may take to print the URL it listens on (a Python SDK
    /// endpoint imports for a second or two on a busy machine).
    static let startTimeout: Duration = .seconds(60)

    static func start(_ scenario: Scenario) async throws -> RealDeployments {
        var upstreams: [String: String] = [:]
        var started: [(name: String, process: ChildProcess)] = []
        do {
            for spec in scenario.deployments {
                if let url = spec.url {
                    upstreams[spec.name] = url
                    continue
                }
                guard let command = spec.command, let executable = command.first else { continue }
                let directory = Self.directory(of: spec, in: scenario)
                let environment = ProcessInfo.processInfo.environment.merging(spec.environment) { $1 }
                let process: ChildProcess
                do {
                    process = try await ChildProcess.start(executable, Array(command.dropFirst()), environment: environment, directory: directory)
                } catch {
                    throw ScenarioError("deployment '\(spec.name)': \(error)")
                }
                started.append((spec.name, process))
                do {
                    upstreams[spec.name] = try await process.waitForOutput(matching: spec.readyPattern, timeout: startTimeout)
                } catch {
                    throw ScenarioError("deployment '\(spec.name)' (`\(command.joined(separator: " "))` in \(directory)) did not start: \(error)")
                }
            }
        } catch {
            for (_, process) in started { await process.stop(grace: .seconds(5)) }
            throw error
        }
        return RealDeployments(upstreams: upstreams, processes: started)
    }

    /// A command's directory: relative paths are the scenario file's.
    private static func directory(of spec: DeploymentSpec, in scenario: Scenario) -> String {
        let base = URL(fileURLWithPath: scenario.source.file).deletingLastPathComponent()
        guard let directory = spec.directory else { return base.path }
        return directory.hasPrefix("/") ? directory : base.appendingPathComponent(directory).standardizedFileURL.path
    }

    /// The last lines each started deployment printed, for a failure report.
    func outputTail(lines: Int = 30) -> String {
        processes.map { name, process in
            let tail = process.outputText.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            return "output of deployment '\(name)' (last \(lines) lines):\n\(tail)"
        }.joined(separator: "\n")
    }

    var startedAny: Bool { !processes.isEmpty }

    func stop() async {
        for (_, process) in processes { await process.stop(grace: .seconds(5)) }
    }
}
