import ArgumentParser
import FakeKafka
import Foundation
import Logging
import NIOCore

/// `harness broker`: runs a FakeKafka cluster until interrupted.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an in-process Kafka cluster that real Kafka clients can use.",
        discussion: "Prints a line starting with 'ready ' and the bootstrap servers once every broker listens; with OAUTHBEARER, a second line 'token-endpoint ' and the OAuth token endpoint's URL. Ctrl-C stops it."
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

    @Option(help: ArgumentHelp(
        "How long a new group waits for more members before its first generation (Kafka's group.initial.rebalance.delay.ms, 3000 there; 0 here by default, for fast tests).",
        valueName: "ms"))
    var initialRebalanceDelayMs: Int64 = 0

    @Option(help: ArgumentHelp(
        "The Kafka release clients see: \(KafkaVersion.allCases.map(\.rawValue).joined(separator: " or ")). It picks the request versions ApiVersions advertises (Kafka's for that release, within what FakeKafka serves).",
        valueName: "version"))
    var kafkaVersion: KafkaVersion = .v3_9

    @Option(help: ArgumentHelp(
        "How often members of KIP-848 consumer groups (group.protocol=consumer) heartbeat (Kafka's group.consumer.heartbeat.interval.ms). Members learn of a rebalance at their next heartbeat, so a lower value makes rebalances quicker.",
        valueName: "ms"))
    var consumerHeartbeatIntervalMs: Int64 = 5000

    @Option(help: ArgumentHelp(
        "How long a KIP-848 consumer group member that stops heartbeating keeps its place (Kafka's group.consumer.session.timeout.ms).",
        valueName: "ms"))
    var consumerSessionTimeoutMs: Int64 = 45000

    @Option(help: ArgumentHelp(
        "The server-side assignors KIP-848 consumer groups may use, comma-separated, the first the default (Kafka's group.consumer.assignors): uniform, range.",
        valueName: "names"))
    var consumerAssignors = "uniform,range"

    @Option(help: ArgumentHelp(
        "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. SSL and SASL_SSL listen with a certificate from a CA generated at start, written to --ca-out; SASL_* clients authenticate with --sasl-mechanisms as one of --user.",
        valueName: "protocol"))
    var securityProtocol = "PLAINTEXT"

    @Option(help: ArgumentHelp("With SASL_PLAINTEXT or SASL_SSL: the mechanisms offered, comma-separated (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER). Default: PLAIN. OAUTHBEARER accepts unsecured tokens (alg none) and tokens from the OAuth token endpoint served beside the brokers, which issues them to the --user names as client ids with their passwords as client secrets.", valueName: "mechanisms"))
    var saslMechanisms: String?

    @Option(name: .customLong("user"), help: ArgumentHelp("With SASL_PLAINTEXT or SASL_SSL: a user allowed in, as NAME:PASSWORD (repeatable). With OAUTHBEARER also an OAuth client, as CLIENT_ID:CLIENT_SECRET.", valueName: "name:password"))
    var users: [String] = []

    @Option(name: .customLong("oauth-required-scope"), help: ArgumentHelp("With OAUTHBEARER: a scope every token must carry (repeatable; Kafka's unsecuredValidatorRequiredScope). Others are refused with insufficient_scope.", valueName: "scope"))
    var oauthRequiredScope: [String] = []

    @Option(name: .customLong("sasl-oauthbearer-expected-audience"), help: ArgumentHelp("With OAUTHBEARER: audiences a token from the token endpoint must name one of, comma-separated (Kafka's sasl.oauthbearer.expected.audience); the endpoint's tokens name them all.", valueName: "audiences"))
    var expectedAudience: String?

    @Flag(help: "With OAUTHBEARER: refuse unsecured (alg none) tokens; only the token endpoint's signed tokens get in.")
    var oauthSignedOnly = false

    @Option(help: ArgumentHelp(
        "With SSL or SASL_SSL (and required there): where to write the generated CA certificate (PEM), for clients' ssl.ca.location. The CA and the brokers' certificate live only as long as this process.",
        valueName: "path"))
    var caOut: String?

    @Option(help: ArgumentHelp(
        "With SSL or SASL_SSL: Kafka's ssl.client.auth. none; requested (a client certificate is asked for and checked when sent); required (mutual TLS: clients without a certificate from the CA are refused; needs --client-cert-out and --client-key-out).",
        valueName: "none|requested|required"))
    var sslClientAuth: String = "none"

    @Option(help: ArgumentHelp("With SSL or SASL_SSL: write a client certificate signed by the CA (PEM) here, for ssl.certificate.location. Needs --client-key-out.", valueName: "path"))
    var clientCertOut: String?

    @Option(help: ArgumentHelp("With --client-cert-out: write that certificate's private key (PEM, PKCS #8, mode 0600) here, for ssl.key.location.", valueName: "path"))
    var clientKeyOut: String?

    @Option(help: "Client connections each broker keeps open at once; more are closed as soon as they are accepted.")
    var maxConnections = 1000

    @Option(help: ArgumentHelp("Close a connection after this many seconds without a byte either way (Kafka's connections.max.idle.ms). 0 never closes one.", valueName: "seconds"))
    var idleTimeout = 600

    @Option(help: ArgumentHelp(
        "Write every distinct request frame clients send into this directory, one file each (size prefix included), named keyAPIKEY-vVERSION-HASH.bin: seeds for the fuzzers in Fuzz/.",
        valueName: "dir"))
    var captureRequests: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    private func parsedSecurityProtocol() throws -> SecurityProtocol {
        guard let parsed = SecurityProtocol(rawValue: securityProtocol) else {
            throw ValidationError("--security-protocol must be one of \(SecurityProtocol.allCases.map(\.rawValue).joined(separator: ", ")), got '\(securityProtocol)'")
        }
        return parsed
    }

    /// The SASL settings the options describe (nil without SASL).
    private func sasl() throws -> SASLConfiguration? {
        let securityProtocol = try parsedSecurityProtocol()
        guard securityProtocol.usesSASL else {
            if !users.isEmpty || saslMechanisms != nil {
                throw ValidationError("--user and --sasl-mechanisms need --security-protocol SASL_PLAINTEXT or SASL_SSL (it is \(securityProtocol))")
            }
            if !oauthRequiredScope.isEmpty || expectedAudience != nil || oauthSignedOnly {
                throw ValidationError("--oauth-required-scope, --sasl-oauthbearer-expected-audience and --oauth-signed-only need --security-protocol SASL_PLAINTEXT or SASL_SSL with OAUTHBEARER (it is \(securityProtocol))")
            }
            return nil
        }
        let mechanisms = try (saslMechanisms ?? "PLAIN").split(separator: ",").map { name in
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
        let oauth = mechanisms.contains(.oauthBearer)
        if !oauth && (!oauthRequiredScope.isEmpty || expectedAudience != nil || oauthSignedOnly) {
            throw ValidationError("--oauth-required-scope, --sasl-oauthbearer-expected-audience and --oauth-signed-only need OAUTHBEARER in --sasl-mechanisms")
        }
        // Unsecured OAUTHBEARER tokens need no credentials; everything else does.
        guard !credentials.isEmpty || (mechanisms == [.oauthBearer] && !oauthSignedOnly) else {
            throw ValidationError(mechanisms.contains(.oauthBearer)
                ? "\(securityProtocol) needs at least one --user NAME:PASSWORD (with OAUTHBEARER, unless it is the only mechanism and unsecured tokens are accepted)"
                : "\(securityProtocol) needs at least one --user NAME:PASSWORD")
        }
        let audience = (expectedAudience ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return SASLConfiguration(mechanisms: mechanisms, users: credentials,
                                 oauthBearer: OAuthBearerSettings(acceptsUnsecuredTokens: !oauthSignedOnly, requiredScope: oauthRequiredScope,
                                                                  expectedAudience: audience))
    }

    /// How clients must authenticate with certificates (nil without TLS); the options that only
    /// make sense with TLS are refused without it.
    private func clientAuthentication() throws -> TLSSettings.ClientAuthentication? {
        let securityProtocol = try parsedSecurityProtocol()
        guard let auth = TLSSettings.ClientAuthentication(rawValue: sslClientAuth) else {
            throw ValidationError("--ssl-client-auth must be none, requested or required, got '\(sslClientAuth)'")
        }
        guard securityProtocol.usesTLS else {
            let given = [("--ca-out", caOut != nil), ("--ssl-client-auth", auth != .none), ("--client-cert-out", clientCertOut != nil),
                         ("--client-key-out", clientKeyOut != nil)].filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError("\(given.joined(separator: ", ")) need\(given.count == 1 ? "s" : "") --security-protocol SSL or SASL_SSL (it is \(securityProtocol))")
            }
            return nil
        }
        guard caOut != nil else {
            throw ValidationError("--security-protocol \(securityProtocol) needs --ca-out PATH: clients must trust the CA generated at start (ssl.ca.location=PATH)")
        }
        guard (clientCertOut == nil) == (clientKeyOut == nil) else {
            throw ValidationError("--client-cert-out and --client-key-out go together: a certificate is no use without its key")
        }
        if auth == .required && clientCertOut == nil {
            throw ValidationError("--ssl-client-auth required needs --client-cert-out and --client-key-out: the CA's key never leaves the broker, so it is the only one that can issue a client certificate it accepts")
        }
        return auth
    }

    func validate() throws {
        _ = try sasl()
        _ = try clientAuthentication()
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1, got \(brokers)") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1, got \(partitions)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1, got \(maxConnections)") }
        guard idleTimeout >= 0 else { throw ValidationError("--idle-timeout must be 0 or more seconds, got \(idleTimeout)") }
        guard (0...65535).contains(port), port == 0 || port + brokers - 1 <= 65535 else {
            throw ValidationError("--port \(port) with \(brokers) brokers does not fit in 0...65535")
        }
    }

    /// Generates the CA and writes what clients need, before anything listens: a client started
    /// on the ready line finds its files there.
    private func tls() throws -> TLSSettings? {
        guard let clientAuthentication = try clientAuthentication(), let caOut else { return nil }
        let settings = try TLSSettings(clientAuthentication: clientAuthentication)
        try write(settings.authority.certificatePEM, to: caOut, option: "--ca-out")
        if let clientCertOut, let clientKeyOut {
            let client = try settings.authority.issueClientCertificate()
            try write(client.certificatePEM, to: clientCertOut, option: "--client-cert-out")
            try write(client.privateKeyPEM, to: clientKeyOut, option: "--client-key-out", permissions: 0o600)
        }
        return settings
    }

    private func write(_ pem: String, to path: String, option: String, permissions: mode_t = 0o644) throws {
        // Replaced, not rewritten in place: a new file gets its mode at creation, so a private
        // key is never readable by others, even for a moment.
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, permissions)
        guard fd >= 0 else { throw OutputFileError("\(option): cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(pem.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw OutputFileError("\(option): cannot write \(path): \(String(cString: strerror(errno)))") }
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
        guard initialRebalanceDelayMs >= 0 else { throw ValidationError("--initial-rebalance-delay-ms must be 0 or more, got \(initialRebalanceDelayMs)") }
        config.initialRebalanceDelay = .milliseconds(initialRebalanceDelayMs)
        config.kafkaVersion = kafkaVersion
        guard consumerHeartbeatIntervalMs > 0, consumerSessionTimeoutMs > consumerHeartbeatIntervalMs else {
            throw ValidationError("--consumer-heartbeat-interval-ms must be more than 0 and less than --consumer-session-timeout-ms, got \(consumerHeartbeatIntervalMs) and \(consumerSessionTimeoutMs)")
        }
        config.consumerGroupHeartbeatInterval = .milliseconds(consumerHeartbeatIntervalMs)
        config.consumerGroupSessionTimeout = .milliseconds(consumerSessionTimeoutMs)
        config.consumerGroupAssignors = consumerAssignors.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let unknownAssignors = config.consumerGroupAssignors.filter { !["uniform", "range"].contains($0) }
        guard !config.consumerGroupAssignors.isEmpty, unknownAssignors.isEmpty else {
            throw ValidationError("--consumer-assignors takes uniform and range, got \(consumerAssignors)")
        }
        config.logger = logger
        config.sasl = try sasl()
        config.tls = try tls()
        config.maxConnectionsPerBroker = maxConnections
        config.connectionIdleTimeout = idleTimeout == 0 ? nil : .seconds(Int64(idleTimeout))
        if let captureRequests {
            config.requestTap = try RequestCapture(directory: captureRequests).write
        }
        let cluster = try await FakeKafkaCluster.start(config)
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions)
        }
        // Scripts wait for the ready line (first, unchanged); what else they need follows it at once.
        var announcement = "ready \(cluster.bootstrapServers)\n"
        if let endpoint = cluster.oauthTokenEndpoint { announcement += "token-endpoint \(endpoint)\n" }
        FileHandle.standardOutput.write(Data(announcement.utf8))
        await interrupts.wait()
        logger.info("stopping")
        try await cluster.shutdown()
    }
}

/// A file the broker was asked to write (the CA, a client certificate) could not be: not a usage
/// mistake, so no usage text follows it.
struct OutputFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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

extension KafkaVersion: ExpressibleByArgument {}

/// `--capture-requests`: each distinct request frame as a file, for the fuzzers' seed corpus.
/// Written on the connection's event loop; a debugging switch can afford the blocking write.
struct RequestCapture: Sendable {
    let directory: URL

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        do {
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        } catch {
            throw OutputFileError("--capture-requests: cannot create \(directory): \(error.localizedDescription)")
        }
    }

    func write(broker: Int32, frame: ByteBuffer) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + frame.readableBytes)
        withUnsafeBytes(of: UInt32(frame.readableBytes).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: frame.readableBytesView)
        let apiKey = frame.getInteger(at: frame.readerIndex, as: Int16.self) ?? -1
        let version = frame.getInteger(at: frame.readerIndex + 2, as: Int16.self) ?? -1
        // FNV-1a: the same bytes get the same name, so repeats are written once.
        let hash = bytes.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        let name = "key\(apiKey)-v\(version)-\(String(hash, radix: 16)).bin"
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data(bytes))
    }
}
