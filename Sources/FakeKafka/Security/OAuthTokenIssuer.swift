import Crypto
import Foundation

/// The cluster's identity provider: it signs OAUTHBEARER tokens (ES256) for the OAuth clients
/// the cluster knows and checks tokens against its own key, as a Kafka broker does against its
/// provider's JWKS. The key lives only as long as the cluster.
public struct OAuthTokenIssuer: Sendable {
    /// The `iss` claim of every token this issuer signs.
    public let issuer: String
    let keyID: String
    private let key: P256.Signing.PrivateKey

    init(issuer: String) {
        self.issuer = issuer
        key = P256.Signing.PrivateKey()
        keyID = Base64URL.encode(Array(SHA256.hash(data: key.publicKey.x963Representation)).prefix(8).map { $0 })
    }

    /// A signed token for `subject`. A negative `lifetime` gives one already expired.
    public func issueToken(subject: String, scope: [String] = [], audience: [String] = [], lifetime: Duration = .seconds(3600),
                           now: Date = Date()) -> String {
        let issuedAt = Int(now.timeIntervalSince1970)
        var claims: [String: Any] = ["iss": issuer, "sub": subject, "iat": issuedAt, "exp": issuedAt + Int(lifetime.components.seconds),
                                     "jti": UUID().uuidString]
        if !scope.isEmpty { claims["scope"] = scope.joined(separator: " ") }
        if audience.count == 1 { claims["aud"] = audience[0] } else if !audience.isEmpty { claims["aud"] = audience }
        // `try!`: signing with an in-memory P-256 key fails only if the system RNG does.
        return JSONWebToken.encode(header: ["alg": "ES256", "typ": "JWT", "kid": keyID], claims: claims) { input in
            Array(try! key.signature(for: Data(input.utf8)).rawRepresentation)
        }
    }

    /// Whether the token's signature is this issuer's.
    func verifies(_ token: JSONWebToken) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: token.signature) else { return false }
        return key.publicKey.isValidSignature(signature, for: Data(token.signingInput.utf8))
    }

    /// The public key as a JSON Web Key Set (RFC 7517), for clients that check tokens themselves.
    var jwks: [String: Any] {
        let point = Array(key.publicKey.x963Representation)  // 0x04 || x || y
        return ["keys": [["kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": keyID,
                          "x": Base64URL.encode(Array(point[1...32])), "y": Base64URL.encode(Array(point[33...64]))]]]
    }
}
