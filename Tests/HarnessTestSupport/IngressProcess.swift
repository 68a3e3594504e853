import Foundation

/// `harness ingress` as a child process (see `ChildProcess`).
public struct IngressProcess: Sendable {
    public let child: ChildProcess
    public let adminURL: String
    /// Restate's HTTP ingress, when started with `--ingress-port`.
    public let ingressURL: String?

    /// Starts `harness ingress --admin-port 0 ARGUMENTS` (the binary beside the test bundle) and
    /// waits for its `ready` line.
    public static func start(arguments: [String]) async throws -> IngressProcess {
        let child = try await ChildProcess.start(try harnessBinary(), ["ingress", "--admin-port", "0", "--log-level", "warning"] + arguments)
        do {
            // The first line is "ready http://127.0.0.1:PORT".
            let ready = try await child.waitForOutput(matching: "^ready .*")
            // Then "ingress http://127.0.0.1:PORT" when the HTTP ingress was asked for.
            let ingress = arguments.contains("--ingress-port") ? try await child.waitForOutput(matching: "^ingress .*") : nil
            return IngressProcess(child: child, adminURL: String(ready.dropFirst("ready ".count)),
                                  ingressURL: ingress.map { String($0.dropFirst("ingress ".count)) })
        } catch {
            await child.kill()
            throw error
        }
    }

    /// Starts `harness ingress --admin-port 0 ARGUMENTS` on a data directory another one holds,
    /// and waits until it runs as a node of it (its 'node of pid …' line). Once the holder is
    /// gone it prints 'ready …' as a holder does.
    public static func startNode(arguments: [String]) async throws -> ChildProcess {
        let child = try await ChildProcess.start(try harnessBinary(), ["ingress", "--admin-port", "0", "--log-level", "warning"] + arguments)
        do {
            try await child.waitForOutput(matching: "^node of pid .*")
            return child
        } catch {
            await child.kill()
            throw error
        }
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed or committed.
    public func kill() async {
        await child.kill()
    }
}

/// Runs `body` with a started `harness ingress`, which is stopped (SIGTERM, then SIGKILL)
/// however `body` ends.
public func withIngressProcess<T>(arguments: [String], _ body: (IngressProcess) async throws -> T) async throws -> T {
    let ingress = try await IngressProcess.start(arguments: arguments)
    return try await ingress.child.stopping { try await body(ingress) }
}

/// The `harness` executable beside the test bundle.
public func harnessBinary() throws -> String {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("harness").path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw ChildProcessError("\(binary) is missing: build the package (swift build) before the tests")
    }
    return binary
}

/// A temporary directory holding a `restate.toml` with one Kafka cluster (`name`, `brokers`,
/// librdkafka `properties`), for `harness ingress`; `body` gets the arguments that point the
/// ingress at it (`--config`, `--data-dir`). The directory is removed afterwards.
public func withIngressFiles<T>(cluster name: String, brokers: String, properties: [String: String], moreTOML: String = "",
                                _ body: ([String]) async throws -> T) async throws -> T {
    let dir = NSTemporaryDirectory() + uniqueName("ingress")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let lines = properties.sorted { $0.key < $1.key }.map { "\"\($0.key)\" = \"\($0.value)\"" }
    try ([moreTOML, #"[[ingress.kafka-clusters]]"#, #"name = "\#(name)""#, #"brokers = ["PLAINTEXT://\#(brokers)"]"#] + lines)
        .joined(separator: "\n").write(toFile: dir + "/restate.toml", atomically: true, encoding: .utf8)
    return try await body(["--config", dir + "/restate.toml", "--data-dir", dir + "/data"])
}
