import ArgumentParser
import Foundation
import KafkaIngress
import Logging

/// `harness ingress`: runs the reference Kafka ingress and its admin API until interrupted.
struct IngressCommand: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        commandName: "ingress",
        abstract: "Run the reference Restate-compatible Kafka ingress.",
        discussion: """
            Kafka clusters come from --config (restate.toml, [[ingress.kafka-clusters]]) and/or the \
            RESTATE_INGRESS__KAFKA_CLUSTERS environment variable. Prints a line starting with 'ready ' \
            and the admin URL once the admin API listens. Ctrl-C stops it; state under --data-dir survives.

            Several processes may share one --data-dir, as nodes of one Restate cluster: the first \
            holds it (journal, invocations, admin API); each other one prints 'node of pid PID' and \
            consumes every subscription in its group, sending what it reads to the holder, which \
            deduplicates and orders it. When the holder stops or dies, the first node to claim the \
            directory takes over and prints 'ready'.
            """
    )

    @Option(help: "restate.toml to read Kafka clusters from.")
    var config: String?

    @Option(help: "Admin API address.")
    var adminHost = "127.0.0.1"

    @Option(help: "Admin API port (0 picks a free one).")
    var adminPort = 9070

    @Option(help: ArgumentHelp(
        "Also serve Restate's HTTP ingress (POST /Service/handler, /Object/key/handler, …/send) on this port (0 picks a free one).",
        discussion: "Once both listen, a line 'ingress http://HOST:PORT' follows the 'ready' line. Restate's own default is 8080."))
    var ingressPort: Int?

    @Option(help: "Directory of the journal (subscriptions, deployments, invocations, object state).")
    var dataDir = "restate-data"

    @Option(help: "Invocation attempts running at once.")
    var concurrency = KafkaIngress.Settings.defaultConcurrency

    @Option(help: "Nodes this process runs: each runs a consumer of every subscription in its group; all share one journal.")
    var nodes = 1

    @Option(help: ArgumentHelp(
        "Attempts per invocation before on-max-attempts applies (Restate's default: 70, then pause).",
        discussion: "Overrides max-attempts of [default-retry-policy] in --config, where the intervals and on-max-attempts (pause or kill) are set."))
    var maxAttempts: Int?

    @Option(help: ArgumentHelp(
        "OTLP endpoint for the spans of invocations, as Restate's --tracing-endpoint: http:// or https:// is gRPC, otlp+http:// is HTTP.",
        discussion: "Overrides tracing-endpoint of --config and RESTATE_TRACING_ENDPOINT. Without one, nothing is traced."))
    var tracingEndpoint: String?

    @Option(help: "As Restate's --tracing-services-endpoint: overrides --tracing-endpoint for the spans of invocations.")
    var tracingServicesEndpoint: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (0...65535).contains(adminPort) else { throw ValidationError("--admin-port must be in 0...65535, got \(adminPort)") }
        if let ingressPort, !(0...65535).contains(ingressPort) { throw ValidationError("--ingress-port must be in 0...65535, got \(ingressPort)") }
        guard nodes >= 1 else { throw ValidationError("--nodes must be at least 1, got \(nodes)") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1, got \(concurrency)") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1, got \(maxAttempts)") }
    }

    func run() async throws {
        let interrupts = Interrupts()
        var logger = Logger(label: "ingress")
        logger.logLevel = logLevel
        var configuration: IngressConfiguration
        do {
            configuration = try IngressConfiguration.load(file: config)
            try configuration.tracing.override(endpoint: tracingEndpoint, servicesEndpoint: tracingServicesEndpoint)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        var retry = configuration.defaultRetryPolicy
        if let maxAttempts { retry.maxAttempts = maxAttempts }
        let settings = KafkaIngress.Settings(configuration: configuration, dataDirectory: dataDir, concurrency: concurrency, nodes: nodes,
                                             retry: retry, acceptsNodes: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await interrupts.wait() }
            group.addTask { [logger] in try await self.holdOrJoin(settings, logger: logger) }
            // A signal (which cancels the other) or the end of serving, whichever comes first.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Holds the data directory, or runs a node of whoever holds it until that one is gone and
    /// this process can hold it. Returns once cancelled and stopped.
    private func holdOrJoin(_ settings: KafkaIngress.Settings, logger: Logger) async throws {
        var announcedWait = false
        while !Task.isCancelled {
            let ingress: KafkaIngress
            do {
                ingress = try KafkaIngress(settings: settings, logger: logger)
            } catch let inUse as DataDirectoryInUse {
                if let node = try? IngressNode(dataDirectory: dataDir, nodes: nodes, logger: logger),
                   let ending = try? await node.run(onJoined: { [holder = node.holder] admin in
                       FileHandle.standardOutput.write(Data("node of pid \(holder)\(admin.map { " (admin \($0))" } ?? "")\n".utf8))
                   }) {
                    announcedWait = false
                    if ending == .left { return }
                    continue
                }
                if !announcedWait {
                    logger.info("waiting for the ingress holding \(dataDir)\(inUse.holder.map { " (pid \($0))" } ?? "") to accept nodes")
                    announcedWait = true
                }
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            try await hold(ingress, logger: logger)
            return
        }
    }

    private func hold(_ ingress: KafkaIngress, logger: Logger) async throws {
        do {
            try await ingress.start()
        } catch {
            await ingress.shutdown(gracePeriod: .zero)
            throw error
        }
        let host = adminHost
        let port = adminPort
        let ingressPort = self.ingressPort
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The HTTP ingress listens first, so that whoever reads 'ready' can use both.
                var ingressLine = ""
                if let ingressPort {
                    let (bound, continuation) = AsyncStream<Int>.makeStream()
                    group.addTask {
                        // A server that fails to listen ends the stream, so nobody waits for its port.
                        defer { continuation.finish() }
                        try await RestateHTTPIngress(ingress: ingress).run(host: host, port: ingressPort) { continuation.yield($0) }
                    }
                    for await port in bound {
                        ingressLine = "ingress http://\(host):\(port)\n"
                        break
                    }
                    if ingressLine.isEmpty { try await group.next() }
                }
                group.addTask { [ingressLine] in
                    try await AdminAPI(ingress: ingress).run(host: host, port: port) { bound in
                        await ingress.announce(adminURL: "http://\(host):\(bound)")
                        FileHandle.standardOutput.write(Data("ready http://\(host):\(bound)\n\(ingressLine)".utf8))
                    }
                }
                // The servers run until cancelled; one that ends early has failed: stop the rest.
                try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.info("stopping")
            await ingress.shutdown(gracePeriod: .seconds(7))
            throw error
        }
        logger.info("stopping")
        await ingress.shutdown(gracePeriod: .seconds(7))
    }
}
