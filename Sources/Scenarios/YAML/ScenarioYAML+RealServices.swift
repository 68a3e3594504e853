import Foundation
import Yams

/// The parts of a scenario file about services written with a Restate SDK: `deployments:` and
/// the `call` step.
extension ScenarioParser {
    func deployment(_ node: Node) throws -> DeploymentSpec {
        var spec = DeploymentSpec(name: "")
        let fields = try reader.mapping(node, "deployment", allowed: ScenarioGrammar.keys("deployment"), required: ["name"])
        for (key, value, _) in fields {
            switch key {
            case "name": spec.name = try reader.string(value, "deployment name")
            case "url":
                spec.url = try reader.string(value, "deployment url")
                guard let url = URL(string: spec.url!), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                    throw reader.fail(value, "deployment url must be an http(s) URL such as http://127.0.0.1:9080, found '\(spec.url!)'")
                }
            case "command":
                // A string is split at spaces; a list is taken as is (for arguments with spaces).
                if case .sequence = value {
                    spec.command = try reader.sequence(value, "deployment command").map { try reader.string($0, "deployment command argument") }
                } else {
                    spec.command = try reader.string(value, "deployment command").split(separator: " ").map(String.init)
                }
                if spec.command?.isEmpty ?? true { throw reader.fail(value, "deployment command is empty") }
            case "directory": spec.directory = try reader.string(value, "deployment directory")
            case "ready":
                spec.readyPattern = try reader.string(value, "deployment ready")
                guard (try? NSRegularExpression(pattern: spec.readyPattern)) != nil else {
                    throw reader.fail(value, "deployment ready must be a regular expression matching the URL the command prints")
                }
            default: spec.environment = try reader.stringMap(value, "deployment environment")
            }
        }
        guard (spec.url == nil) != (spec.command == nil) else {
            throw reader.fail(node, "deployment '\(spec.name)': give either url (an endpoint already running) or command (one the runner starts)")
        }
        if spec.url != nil, let directory = fields.first(where: { $0.key == "directory" }) {
            throw reader.fail(directory.keyNode, "deployment '\(spec.name)': directory goes with command, not url")
        }
        return spec
    }

    func call(_ node: Node) throws -> CallStep {
        let fields = try reader.mapping(node, "call", allowed: ScenarioGrammar.keys("call"))
        var handler: String?, workflow: String?, read: String?, input: String?
        var step = CallStep(.attachWorkflow(""))
        for (key, value, _) in fields {
            switch key {
            case "handler":
                handler = try reader.string(value, "call.handler")
                guard handler!.split(separator: "/").count == 2 else { throw reader.fail(value, "call.handler must be Service/handler, found '\(handler!)'") }
            case "workflow": workflow = try reader.string(value, "call.workflow")
            case "read": read = try reader.string(value, "call.read")
            case "key": step.key = try reader.string(value, "call.key")
            case "input": input = try reader.json(value, "call.input")
            case "status": step.status = try reader.int(value, "call.status", min: 100)
            case "output": step.output = try reader.json(value, "call.output")
            default: step.timeoutMs = try reader.int(value, "call.timeout_ms", min: 1)
            }
        }
        switch (handler, workflow) {
        case (let handler?, nil):
            if read != nil { throw reader.fail(node, "call: read goes with workflow, not handler") }
            let parts = handler.split(separator: "/").map(String.init)
            step.request = .invoke(service: parts[0], handler: parts[1], input: input)
        case (nil, let workflow?):
            guard step.key != nil else { throw reader.fail(node, "call: a workflow is read by its key; add key") }
            if input != nil { throw reader.fail(node, "call: reading a workflow takes no input") }
            switch read {
            case "attach": step.request = .attachWorkflow(workflow)
            case "output": step.request = .workflowOutput(workflow)
            default: throw reader.fail(node, "call: with workflow, read is attach (wait for its result) or output (its result so far)")
            }
        default:
            throw reader.fail(node, "call: give handler (Service/handler) or workflow (with read: attach or output)")
        }
        return step
    }
}
