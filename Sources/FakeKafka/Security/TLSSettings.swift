import NIOSSL

/// TLS on every listener of a cluster (Kafka's SSL, or SASL_SSL together with SASL): the
/// brokers present a certificate the `authority` signed, and with `clientAuth` they ask clients
/// for one it signed too.
public struct TLSSettings: Sendable {
    /// Kafka's `ssl.client.auth`.
    public enum ClientAuthentication: String, Sendable, CaseIterable {
        /// No client certificate is asked for.
        case none
        /// A client certificate is asked for and, when one is sent, must be signed by the authority.
        case requested
        /// A client without a certificate signed by the authority is refused during the handshake.
        case required
    }

    public var authority: CertificateAuthority
    public var clientAuthentication: ClientAuthentication

    public init(authority: CertificateAuthority, clientAuthentication: ClientAuthentication = .none) {
        self.authority = authority
        self.clientAuthentication = clientAuthentication
    }

    /// A fresh authority of its own.
    public init(clientAuthentication: ClientAuthentication = .none) throws {
        self.init(authority: try CertificateAuthority(), clientAuthentication: clientAuthentication)
    }

    /// The server context of the brokers: a certificate for every name clients may use to reach
    /// them (`hosts`, plus loopback, where tests and local tools connect).
    func serverContext(hosts: [String]) throws -> NIOSSLContext {
        let loopback = ["localhost", "127.0.0.1", "::1"]
        // 0.0.0.0 and :: are where to listen, never what a client connects to.
        let names = hosts.filter { !["0.0.0.0", "::", ""].contains($0) } + loopback
        let issued = try authority.issueServerCertificate(hosts: names)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        // A client certificate names a principal, not a host, so only its chain is checked.
        switch clientAuthentication {
        case .none: configuration.certificateVerification = .none
        case .requested: configuration.certificateVerification = .optionalVerification
        case .required: configuration.certificateVerification = .noHostnameVerification
        }
        if clientAuthentication != .none {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.certificatePEM.utf8)))
            configuration.sendCANameList = true
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// What a cluster's listeners speak, by Kafka's `security.protocol` names.
public enum SecurityProtocol: String, Sendable, CaseIterable, CustomStringConvertible {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSSL = "SASL_SSL"

    public var usesTLS: Bool { self == .ssl || self == .saslSSL }
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
    public var description: String { rawValue }

    public init(tls: Bool, sasl: Bool) {
        self = switch (tls, sasl) {
        case (false, false): .plaintext
        case (true, false): .ssl
        case (false, true): .saslPlaintext
        case (true, true): .saslSSL
        }
    }
}

extension BoringSSLError {
    /// BoringSSL's reason names (CERTIFICATE_VERIFY_FAILED, TLSV1_ALERT_UNKNOWN_CA,
    /// WRONG_VERSION_NUMBER…): what a reader of a failed handshake needs, without the error codes
    /// and the library's source paths the full description carries.
    var reasons: String {
        switch self {
        case .sslError(let stack), .unknownError(let stack):
            let names = stack.compactMap { $0.description.firstMatch(of: /:([A-Z0-9_]+)\sat\s/).map { String($0.1) } }
            return names.isEmpty ? "\(self)" : names.joined(separator: ", ")
        default:
            return "\(self)"
        }
    }
}
