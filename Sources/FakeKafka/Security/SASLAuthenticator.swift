import KafkaProtocol

/// One connection's SASL exchange, as a Kafka SASL_PLAINTEXT listener runs it: SaslHandshake
/// picks the mechanism, SaslAuthenticate carries its messages, and until it succeeds nothing
/// but ApiVersions and these two is served. A failure is answered with
/// SASL_AUTHENTICATION_FAILED and Kafka's message, then the connection is closed.
struct SASLAuthenticator {
    private let configuration: SASLConfiguration
    private enum State {
        case awaitingHandshake
        case plain
        case scram(SCRAMServer, mechanism: SASLConfiguration.Mechanism)
        case authenticated(user: String)
        case failed
    }
    private var state = State.awaitingHandshake

    init(configuration: SASLConfiguration) {
        self.configuration = configuration
    }

    var isAuthenticated: Bool {
        if case .authenticated = state { return true }
        return false
    }

    /// Whether a request with this API key may be served now (ApiVersions at any version: a
    /// client newer than us asks with one we answer in v0).
    func admits(_ apiKey: Int16) -> Bool {
        isAuthenticated || [ApiKey.apiVersions, .saslHandshake, .saslAuthenticate].map(\.rawValue).contains(apiKey)
    }

    /// The answer, and whether the connection must close once it is sent.
    mutating func handshake(_ request: SaslHandshakeRequest) -> (SaslHandshakeResponse, close: Bool) {
        let offered = configuration.mechanisms.map(\.rawValue)
        guard case .awaitingHandshake = state else {
            return (SaslHandshakeResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue, mechanisms: offered), true)
        }
        switch SASLConfiguration.Mechanism(rawValue: request.mechanism).flatMap({ configuration.mechanisms.contains($0) ? $0 : nil }) {
        case nil:
            state = .failed
            return (SaslHandshakeResponse(errorCode: KafkaErrorCode.unsupportedSaslMechanism.rawValue, mechanisms: offered), true)
        case .plain?: state = .plain
        case .scramSHA256?: state = .scram(SCRAMServer(hash: .sha256, users: configuration.users), mechanism: .scramSHA256)
        case .scramSHA512?: state = .scram(SCRAMServer(hash: .sha512, users: configuration.users), mechanism: .scramSHA512)
        }
        return (SaslHandshakeResponse(errorCode: 0, mechanisms: offered), false)
    }

    mutating func authenticate(_ request: SaslAuthenticateRequest) -> (SaslAuthenticateResponse, close: Bool) {
        switch state {
        case .plain:
            // [authzid] NUL authcid NUL password
            let parts = request.authBytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard parts.count == 3, let password = configuration.users[parts[1]], password == parts[2] else {
                return fail("Authentication failed: Invalid username or password")
            }
            state = .authenticated(user: parts[1])
            return (SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: []), false)
        case .scram(var server, let mechanism):
            switch server.step(request.authBytes) {
            case .challenge(let bytes):
                state = .scram(server, mechanism: mechanism)
                return (SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: bytes), false)
            case .succeeded(let user, let serverFinal):
                state = .authenticated(user: user)
                return (SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: serverFinal), false)
            case .failed:
                return fail("Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism.rawValue)")
            }
        case .awaitingHandshake, .authenticated, .failed:
            state = .failed
            return (SaslAuthenticateResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue, errorMessage: "Unexpected SaslAuthenticate request", authBytes: []), true)
        }
    }

    private mutating func fail(_ message: String) -> (SaslAuthenticateResponse, close: Bool) {
        state = .failed
        return (SaslAuthenticateResponse(errorCode: KafkaErrorCode.saslAuthenticationFailed.rawValue, errorMessage: message, authBytes: []), true)
    }
}
