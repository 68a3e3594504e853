import Foundation
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
        /// Awaiting the client's token, or (with the refusal sent as a challenge) its %x01.
        case oauthBearer(refusal: String?)
        case authenticated(user: String)
        case failed
    }
    private var state = State.awaitingHandshake
    private let issuer: OAuthTokenIssuer
    /// Why the exchange failed, in more detail than the client is told (for the broker's log).
    private(set) var failureDetail: String?

    /// The SCRAM credential of a user for a mechanism, looked up when a SCRAM client names itself.
    private let scramCredential: @Sendable (String, SASLConfiguration.Mechanism) -> SCRAMCredential?

    init(configuration: SASLConfiguration, issuer: OAuthTokenIssuer,
         scramCredential: @escaping @Sendable (String, SASLConfiguration.Mechanism) -> SCRAMCredential?) {
        self.configuration = configuration
        self.issuer = issuer
        self.scramCredential = scramCredential
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
        case .scramSHA256?: state = scram(.scramSHA256)
        case .scramSHA512?: state = scram(.scramSHA512)
        case .oauthBearer?: state = .oauthBearer(refusal: nil)
        }
        return (SaslHandshakeResponse(errorCode: 0, mechanisms: offered), false)
    }

    private func scram(_ mechanism: SASLConfiguration.Mechanism) -> State {
        let lookup = scramCredential
        return .scram(SCRAMServer(hash: SCRAMCredentialStore.hash(mechanism), credential: { lookup($0, mechanism) }), mechanism: mechanism)
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
        case .oauthBearer(let refusal?):
            // The client acknowledges the refusal with a lone %x01 (RFC 7628 §3.2.3); Kafka then
            // fails the exchange with the same JSON as the message.
            return fail(refusal, detail: failureDetail)
        case .oauthBearer(nil):
            return authenticateBearer(request.authBytes)
        case .awaitingHandshake, .authenticated, .failed:
            state = .failed
            return (SaslAuthenticateResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue, errorMessage: "Unexpected SaslAuthenticate request", authBytes: []), true)
        }
    }

    /// The client's first message (RFC 7628): `n,[a=authzid],` then `%x01`-separated
    /// `key=value` pairs, `auth=Bearer TOKEN` among them, ending in `%x01%x01`.
    private mutating func authenticateBearer(_ message: [UInt8]) -> (SaslAuthenticateResponse, close: Bool) {
        let text = String(decoding: message, as: UTF8.self)
        let fields = text.split(separator: "\u{01}", omittingEmptySubsequences: true)
        guard let gs2 = fields.first, gs2.hasPrefix("n,") || gs2.hasPrefix("y,"),
              let auth = fields.dropFirst().first(where: { $0.hasPrefix("auth=") }) else {
            return fail("Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER",
                        detail: "invalid OAUTHBEARER client first message")
        }
        let credentials = auth.dropFirst("auth=".count).split(separator: " ", omittingEmptySubsequences: true)
        guard credentials.count == 2, credentials[0].lowercased() == "bearer" else {
            return fail("Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER",
                        detail: "invalid scheme in OAUTHBEARER client first message")
        }
        let verdict = OAuthBearerValidation.verdict(String(credentials[1]), settings: configuration.oauthBearer, issuer: issuer)
        switch verdict {
        case .accepted(let principal):
            let authzid = gs2.split(separator: ",", omittingEmptySubsequences: false).dropFirst().first.flatMap {
                $0.hasPrefix("a=") ? String($0.dropFirst(2)) : nil
            }
            if let authzid, !authzid.isEmpty, authzid != principal {
                return fail("Authentication failed: Client requested an authorization id (\(authzid)) that is different from the token's principal name (\(principal))")
            }
            state = .authenticated(user: principal)
            return (SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: []), false)
        case .invalidToken(let reason), .insufficientScope(_, let reason):
            let json = OAuthBearerValidation.kafkaErrorJSON(verdict)!
            state = .oauthBearer(refusal: json)
            failureDetail = "OAUTHBEARER token refused (\(reason)): \(json)"
            return (SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: Array(json.utf8)), false)
        }
    }

    private mutating func fail(_ message: String, detail: String? = nil) -> (SaslAuthenticateResponse, close: Bool) {
        failureDetail = detail ?? message
        state = .failed
        return (SaslAuthenticateResponse(errorCode: KafkaErrorCode.saslAuthenticationFailed.rawValue, errorMessage: message, authBytes: []), true)
    }
}
