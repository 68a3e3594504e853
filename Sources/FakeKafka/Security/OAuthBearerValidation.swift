import Foundation

/// The built-in token checks, after Kafka's unsecured validator (for `alg` "none") and its OIDC
/// validator (for tokens the cluster's issuer signed): a `sub` principal, an `exp` not past
/// (give or take the clock skew), the required scope, and for signed tokens the issuer, the
/// signature and the audience.
enum OAuthBearerValidation {
    static func verdict(_ token: String, settings: OAuthBearerSettings, issuer: OAuthTokenIssuer, now: Date = Date()) -> OAuthBearerVerdict {
        if let validator = settings.validator { return validator.validate(token) }
        let jwt: JSONWebToken
        do { jwt = try JSONWebToken(parsing: token) } catch { return .invalidToken(reason: "\(error)") }
        switch jwt.algorithm {
        case "none"?:
            guard settings.acceptsUnsecuredTokens else { return .invalidToken(reason: "unsecured (alg none) tokens are not accepted") }
            guard jwt.signature.isEmpty else { return .invalidToken(reason: "an unsecured token has a signature") }
        case "ES256"?:
            guard jwt.string("iss") == issuer.issuer else {
                return .invalidToken(reason: "issuer \(jwt.string("iss").map { "'\($0)'" } ?? "missing"), expected '\(issuer.issuer)'")
            }
            guard issuer.verifies(jwt) else { return .invalidToken(reason: "the signature does not verify with the token endpoint's key") }
            if !settings.expectedAudience.isEmpty && Set(jwt.audience).isDisjoint(with: settings.expectedAudience) {
                return .invalidToken(reason: "audience \(jwt.audience) has none of \(settings.expectedAudience)")
            }
        case let other:
            return .invalidToken(reason: "algorithm \(other.map { "'\($0)'" } ?? "missing") is neither 'none' nor the token endpoint's ES256")
        }
        guard let subject = jwt.string("sub"), !subject.isEmpty else { return .invalidToken(reason: "no 'sub' claim (the principal)") }
        guard let expiry = jwt.number("exp") else { return .invalidToken(reason: "no numeric 'exp' claim") }
        let expiredFor = now.timeIntervalSince1970 - expiry
        if expiredFor >= Double(settings.clockSkew.components.seconds) {
            return .invalidToken(reason: "the token of '\(subject)' expired \(Int(expiredFor)) s ago")
        }
        let missing = settings.requiredScope.filter { !jwt.scope.contains($0) }
        if !missing.isEmpty {
            return .insufficientScope(required: settings.requiredScope,
                                      reason: "the token of '\(subject)' has scope \(jwt.scope) without \(missing.joined(separator: ", "))")
        }
        return .accepted(principal: subject)
    }

    /// The JSON a Kafka broker sends as its SASL challenge when it refuses a token, which it also
    /// repeats as the SaslAuthenticate error message.
    static func kafkaErrorJSON(_ verdict: OAuthBearerVerdict) -> String? {
        switch verdict {
        case .accepted: nil
        case .invalidToken: #"{"status":"invalid_token"}"#
        case .insufficientScope(let required, _): #"{"status":"insufficient_scope", "scope":"[\#(required.joined(separator: ", "))]"}"#
        }
    }
}
