/// What an OAUTHBEARER listener accepts, after Kafka's two validators: unsecured JWS tokens
/// (`alg` "none", as Kafka's default `OAuthBearerUnsecuredValidatorCallbackHandler` accepts) and
/// tokens signed by the cluster's own token endpoint (as Kafka's OIDC validator checks a token
/// against its identity provider's JWKS).
public struct OAuthBearerSettings: Sendable {
    /// Whether unsigned (`alg` "none") tokens are let in, as Kafka's default validator does.
    public var acceptsUnsecuredTokens: Bool = true
    /// Scope every token must carry (Kafka's `unsecuredValidatorRequiredScope`); a token without
    /// one of these is refused with `insufficient_scope`.
    public var requiredScope: [String] = []
    /// Audiences a signed token must name one of (Kafka's `sasl.oauthbearer.expected.audience`);
    /// empty: any.
    public var expectedAudience: [String] = []
    /// How long the token endpoint's tokens live.
    public var tokenLifetime: Duration = .seconds(3600)
    /// How far past its `exp` a token is still accepted (Kafka's `sasl.oauthbearer.clock.skew.seconds`).
    public var clockSkew: Duration = .seconds(30)
    /// Replaces the checks above when set: given the token as sent, it decides.
    public var validator: OAuthBearerValidator?

    public init(acceptsUnsecuredTokens: Bool = true, requiredScope: [String] = [], expectedAudience: [String] = [],
                validator: OAuthBearerValidator? = nil) {
        self.acceptsUnsecuredTokens = acceptsUnsecuredTokens
        self.requiredScope = requiredScope
        self.expectedAudience = expectedAudience
        self.validator = validator
    }
}

/// A validator of OAUTHBEARER tokens written in Swift, in place of the built-in ones.
public struct OAuthBearerValidator: Sendable {
    public let validate: @Sendable (_ token: String) -> OAuthBearerVerdict

    public init(_ validate: @escaping @Sendable (_ token: String) -> OAuthBearerVerdict) {
        self.validate = validate
    }
}

/// What a validator decided about a token. Refusals carry the reason the broker logs (and keeps
/// in `authenticationFailures`); clients get Kafka's JSON status only.
public enum OAuthBearerVerdict: Sendable, Equatable {
    case accepted(principal: String)
    /// Kafka's `invalid_token`: malformed, badly signed, expired, from the wrong issuer or audience.
    case invalidToken(reason: String)
    /// Kafka's `insufficient_scope`, naming the scope required.
    case insufficientScope(required: [String], reason: String)
}
