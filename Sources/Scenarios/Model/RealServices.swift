/// A service endpoint written with a Restate SDK (a "real" deployment, as opposed to the
/// recorder's simulated handlers). The runner starts it (`command`) or reaches it (`url`), then
/// registers it with the ingress through the recorder's pass-through, which records every
/// attempt the ingress sends it and forwards it unchanged: the expectations then judge real code.
public struct DeploymentSpec: Sendable, Equatable {
    public var name: String
    /// An endpoint already running, e.g. `http://127.0.0.1:9080`.
    public var url: String?
    /// A command the runner starts (and stops after the scenario); it must print the URL it
    /// listens on (hypercorn does: `Running on http://127.0.0.1:PORT`).
    public var command: [String]?
    /// Where `command` runs, relative to the scenario file's directory (default: that directory).
    public var directory: String?
    /// A regular expression matching the URL in the command's output.
    public var readyPattern = #"https?://[^\s]+:[0-9]+"#
    public var environment: [String: String] = [:]

    public init(name: String, url: String? = nil, command: [String]? = nil, directory: String? = nil) {
        self.name = name
        self.url = url
        self.command = command
        self.directory = directory
    }
}

/// A request to the ingress's HTTP API (Restate's port 8080), repeated until its answer is the
/// expected one or the time is up: Kafka-fed invocations finish asynchronously, so a scenario
/// asserts state the way Restate's own tests do, by asking until the answer is right.
public struct CallStep: Sendable, Equatable {
    public enum Request: Sendable, Equatable {
        /// `POST /Service[/key]/handler` with `input` (JSON text; nil: no body).
        case invoke(service: String, handler: String, input: String?)
        /// `GET /restate/workflow/Name/key/attach`: waits for the workflow's result.
        case attachWorkflow(String)
        /// `GET /restate/workflow/Name/key/output`: its result if it has one, else 470.
        case workflowOutput(String)
    }

    public var request: Request
    /// The object or workflow key (a template, like produce keys); nil for services.
    public var key: String?
    public var status = 200
    /// The expected body, JSON text compared as JSON (nil: any body).
    public var output: String?
    public var timeoutMs = 30_000

    public init(_ request: Request, key: String? = nil, status: Int = 200, output: String? = nil) {
        self.request = request
        self.key = key
        self.status = status
        self.output = output
    }

    /// `Service/handler`, or `Workflow (attach)`, for messages.
    public var summary: String {
        switch request {
        case .invoke(let service, let handler, _): key.map { "\(service)/\($0)/\(handler)" } ?? "\(service)/\(handler)"
        case .attachWorkflow(let name): "attach to workflow \(name)/\(key ?? "")"
        case .workflowOutput(let name): "output of workflow \(name)/\(key ?? "")"
        }
    }
}
