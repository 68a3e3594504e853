import ArgumentParser
import FakeKafka
import Foundation
import Logging

/// `harness broker`: runs a FakeKafka cluster until interrupted.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an in-process Kafka cluster that real Kafka clients can use.",
        discussion: "Prints a line starting with 'ready ' and the bootstrap servers once every broker listens. Ctrl-C stops it."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port of the first broker; the others use the following ports. 0 picks free ports.")
    var port = 9092

    @Option(help: "Number of brokers.")
    var brokers = 1

    @Option(help: "Host advertised to clients in Metadata (e.g. for Docker). Defaults to --host.")
    var advertisedHost: String?

    @Option(help: "Partitions of auto-created topics.")
    var partitions: Int32 = 4

    @Option(name: .customLong("topic"), help: ArgumentHelp("Create a topic at start, as NAME:PARTITIONS (repeatable).", valueName: "name:partitions"))
    var topics: [TopicSpec] = []

    @Flag(help: "Refuse to create unknown topics on Metadata requests.")
    var noAutoCreate = false

    @Option(help: "PLAINTEXT, or SASL_PLAINTEXT (clients authenticate with --sasl-mechanisms as one of --user).")
    var securityProtocol = "PLAINTEXT"

    @Option(help: "With SASL_PLAINTEXT: the mechanisms offered, comma-separated (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).")
    var saslMechanisms = "PLAIN"

    @Option(name: .customLong("user"), help: ArgumentHelp("With SASL_PLAINTEXT: a user allowed in, as NAME:PASSWORD (repeatable).", valueName: "name:password"))
    var users: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    /// The SASL settings the options describe (nil for PLAINTEXT).
    private func sasl() throws -> SASLConfiguration? {
        switch securityProtocol {
        case "PLAINTEXT": return nil
        case "SASL_PLAINTEXT": break
        case "SSL", "SASL_SSL": throw ValidationError("--security-protocol \(securityProtocol) is not supported yet (TLS listeners are not implemented); use PLAINTEXT or SASL_PLAINTEXT")
        default: throw ValidationError("--security-protocol must be PLAINTEXT or SASL_PLAINTEXT, got '\(securityProtocol)'")
        }
        let mechanisms = try saslMechanisms.split(separator: ",").map { name in
            guard let m = SASLConfiguration.Mechanism(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--sasl-mechanisms: '\(name)' is not one of \(SASLConfiguration.Mechanism.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return m
        }
        guard !mechanisms.isEmpty else { throw ValidationError("--sasl-mechanisms is empty") }
        var credentials: [String: String] = [:]
        for user in users {
            guard let colon = user.firstIndex(of: ":"), colon != user.startIndex else { throw ValidationError("--user must be NAME:PASSWORD, got '\(user)'") }
            credentials[String(user[..<colon])] = String(user[user.index(after: colon)...])
        }
        guard !credentials.isEmpty else { throw ValidationError("SASL_PLAINTEXT needs at least one --user NAME:PASSWORD") }
        return SASLConfiguration(mechanisms: mechanisms, users: credentials)
    }

    func validate() throws {
        _ = try sasl()
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1, got \(brokers)") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1, got \(partitions)") }
        guard (0...65535).contains(port), port == 0 || port + brokers - 1 <= 65535 else {
            throw ValidationError("--port \(port) with \(brokers) brokers does not fit in 0...65535")
        }
    }

    func run() async throws {
        // Listen for Ctrl-C before announcing readiness, so an early SIGINT is never lost.
        let interrupts = Interrupts()
        var logger = Logger(label: "fakekafka")
        logger.logLevel = logLevel
        var config = FakeKafkaCluster.Configuration(brokers: brokers, defaultPartitions: partitions)
        config.host = host
        config.port = port
        config.advertisedHost = advertisedHost
        config.autoCreateTopics = !noAutoCreate
        config.logger = logger
        config.sasl = try sasl()
        let cluster = try await FakeKafkaCluster.start(config)
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions)
        }
        // Scripts wait for this line; write it unbuffered.
        FileHandle.standardOutput.write(Data("ready \(cluster.bootstrapServers)\n".utf8))
        await interrupts.wait()
        logger.info("stopping")
        try await cluster.shutdown()
    }
}

/// A `--topic NAME:PARTITIONS` argument.
struct TopicSpec: ExpressibleByArgument {
    let name: String
    let partitions: Int32?

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else { return nil }
        name = String(parts[0])
        if parts.count == 2 {
            guard let n = Int32(parts[1]), n >= 1 else { return nil }
            partitions = n
        } else {
            partitions = nil
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
