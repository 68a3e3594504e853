/// SASL on every listener of a cluster (Kafka's SASL_PLAINTEXT): which mechanisms it offers and
/// who may authenticate.
public struct SASLConfiguration: Sendable {
    public enum Mechanism: String, Sendable, CaseIterable {
        case plain = "PLAIN"
        case scramSHA256 = "SCRAM-SHA-256"
        case scramSHA512 = "SCRAM-SHA-512"
        case oauthBearer = "OAUTHBEARER"

        /// The mechanisms a client authenticates with by user name and password.
        public static let passwordBased: [Mechanism] = [.plain, .scramSHA256, .scramSHA512]
    }

    public var mechanisms: [Mechanism]
    /// User name → password (SCRAM credentials are derived from it, 4096 iterations). With
    /// OAUTHBEARER they are also the OAuth clients (client id → client secret) the cluster's
    /// token endpoint issues tokens to.
    public var users: [String: String]
    /// How OAUTHBEARER tokens are checked and issued (used when `mechanisms` has OAUTHBEARER).
    public var oauthBearer: OAuthBearerSettings

    public init(mechanisms: [Mechanism] = [.plain], users: [String: String], oauthBearer: OAuthBearerSettings = OAuthBearerSettings()) {
        self.mechanisms = mechanisms
        self.users = users
        self.oauthBearer = oauthBearer
    }
}
