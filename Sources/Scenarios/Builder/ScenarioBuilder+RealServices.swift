import Foundation

/// A deployment written with a Restate SDK, reached at `url` or started by `command` (which must
/// print the URL it listens on); its services are discovered.
public struct Deployment: ScenarioComponent {
    let spec: DeploymentSpec

    public init(_ name: String, url: String) {
        spec = DeploymentSpec(name: name, url: url)
    }

    public init(_ name: String, command: [String], directory: String? = nil, environment: [String: String] = [:],
                ready: String? = nil) {
        var spec = DeploymentSpec(name: name, command: command, directory: directory)
        spec.environment = environment
        if let ready { spec.readyPattern = ready }
        self.spec = spec
    }

    public func apply(to scenario: inout Scenario) { scenario.deployments.append(spec) }
}

/// Asks the ingress's HTTP API until it answers `status` with `output` (JSON text, compared as
/// JSON): `Call("Counter/get", key: "a", output: "6")`, or `Call.attach(workflow:key:output:)`.
public struct Call: ScenarioComponent {
    let step: Located<Step>

    public init(_ handler: String, key: String? = nil, input: String? = nil, status: Int = 200, output: String? = nil, timeoutMs: Int = 30_000,
                filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) {
        let parts = handler.split(separator: "/", maxSplits: 1).map(String.init)
        var call = CallStep(.invoke(service: parts[0], handler: parts.count > 1 ? parts[1] : "", input: input), key: key, status: status, output: output)
        call.timeoutMs = timeoutMs
        step = located(.call(call), filePath, line, column)
    }

    private init(_ call: CallStep, _ filePath: StaticString, _ line: UInt, _ column: UInt) {
        step = located(.call(call), filePath, line, column)
    }

    /// Waits for the workflow's result (`GET /restate/workflow/NAME/KEY/attach`).
    public static func attach(workflow: String, key: String, status: Int = 200, output: String? = nil, timeoutMs: Int = 30_000,
                              filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Call {
        var call = CallStep(.attachWorkflow(workflow), key: key, status: status, output: output)
        call.timeoutMs = timeoutMs
        return Call(call, filePath, line, column)
    }

    /// The workflow's result so far (`GET /restate/workflow/NAME/KEY/output`; 470 while it runs).
    public static func output(workflow: String, key: String, status: Int = 200, output: String? = nil, timeoutMs: Int = 30_000,
                              filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column) -> Call {
        var call = CallStep(.workflowOutput(workflow), key: key, status: status, output: output)
        call.timeoutMs = timeoutMs
        return Call(call, filePath, line, column)
    }

    public func apply(to scenario: inout Scenario) { scenario.steps.append(step) }
}
