/// SASL on every listener of a cluster (Kafka's SASL_PLAINTEXT): which mechanisms it offers and
/// who may authenticate.
public struct SASLConfiguration: Sendable, Equatable {
    public enum Mechanism: String, Sendable, CaseIterable {
        case plain = "PLAIN"
        case scramSHA256 = "SCRAM-SHA-256"
        case scramSHA512 = "SCRAM-SHA-512"
    }

    public var mechanisms: [Mechanism]
    /// User name → password (SCRAM credentials are derived from it, 4096 iterations).
    public var users: [String: String]

    public init(mechanisms: [Mechanism] = [.plain], users: [String: String]) {
        self.mechanisms = mechanisms
        self.users = users
    }
}
