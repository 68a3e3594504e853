import ArgumentParser
import Foundation
import Recorder

/// `harness recorder`: a Restate-protocol endpoint that records every invocation.
struct RecorderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder",
        abstract: "Serve Restate services that record every invocation they receive.",
        discussion: """
            Register it with an ingress (POST /deployments {"uri": "http://HOST:PORT", "use_http_11": true}). \
            GET /records returns what it saw as JSON; DELETE /records clears it. Prints a line starting with \
            'ready ' and its URL once it listens.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port (0 picks a free one).")
    var port = 9080

    @Option(name: .customLong("service"), help: ArgumentHelp(
        "A service as NAME:KIND:HANDLER[,HANDLER...], KIND one of service, object, workflow; a handler may end in @shared (repeatable).",
        valueName: "spec"))
    var services: [String] = []

    @Option(help: "JSON file of services and per-handler behaviour (instead of --service).")
    var file: String?

    @Option(help: "Milliseconds each handler takes (with --service).")
    var latencyMs = 0

    @Option(help: "Fail the first N attempts of every invocation with a retryable error (with --service).")
    var failFirst = 0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard services.isEmpty != (file == nil) else { throw ValidationError("give either --service (one or more) or --file") }
        guard latencyMs >= 0, failFirst >= 0 else { throw ValidationError("--latency-ms and --fail-first cannot be negative") }
    }

    func run() async throws {
        let interrupts = Interrupts()
        let configuration: RecorderConfiguration
        do {
            if let file {
                configuration = try RecorderConfiguration.load(file: file)
            } else {
                let behaviour = RecorderConfiguration.Behaviour(latencyMs: latencyMs, failFirstAttempts: failFirst)
                configuration = RecorderConfiguration(services: try services.map { try RecorderConfiguration.parseService($0, behaviour: behaviour) })
            }
        } catch let error as RecorderConfigurationError {
            throw ValidationError(error.description)
        }
        let server = RecorderServer(recorder: InvocationRecorder(configuration: configuration))
        let host = self.host
        let port = self.port
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.run(host: host, port: port) { bound in
                    FileHandle.standardOutput.write(Data("ready http://\(host):\(bound)\n".utf8))
                }
            }
            group.addTask { await interrupts.wait() }
            try await group.next()
            group.cancelAll()
        }
    }
}
