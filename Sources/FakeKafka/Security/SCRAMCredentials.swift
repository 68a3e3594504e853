import KafkaProtocol

/// A user's SCRAM credential as Kafka keeps it (KIP-554): never the password, only the salt, the
/// iteration count and the salted password a client derived from them.
public struct SCRAMCredential: Sendable, Equatable {
    public var salt: [UInt8]
    public var iterations: Int32
    public var saltedPassword: [UInt8]
}

/// Every user's SCRAM credentials, by mechanism. The users configured with a password start with
/// a credential for each SCRAM mechanism the listeners offer (as if created with kafka-configs);
/// AlterUserScramCredentials adds, replaces and deletes them, and SCRAM logins use what is here.
struct SCRAMCredentialStore {
    /// The mechanisms' codes in the SCRAM credential APIs.
    static let mechanismCodes: [Int8: SASLConfiguration.Mechanism] = [1: .scramSHA256, 2: .scramSHA512]
    /// Kafka's bounds on a credential's iterations.
    static let iterationBounds: ClosedRange<Int32> = 4096...16384

    private(set) var byUser: [String: [SASLConfiguration.Mechanism: SCRAMCredential]] = [:]

    init(sasl: SASLConfiguration?) {
        guard let sasl else { return }
        for mechanism in sasl.mechanisms where mechanism == .scramSHA256 || mechanism == .scramSHA512 {
            for (user, password) in sasl.users {
                let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
                let salted = SCRAMServer.saltedPassword(Self.hash(mechanism), password: Array(password.utf8), salt: salt,
                                                        iterations: SCRAMServer.iterations)
                byUser[user, default: [:]][mechanism] = SCRAMCredential(salt: salt, iterations: Int32(SCRAMServer.iterations), saltedPassword: salted)
            }
        }
    }

    static func hash(_ mechanism: SASLConfiguration.Mechanism) -> SCRAMServer.Hash {
        mechanism == .scramSHA512 ? .sha512 : .sha256
    }

    func credential(user: String, mechanism: SASLConfiguration.Mechanism) -> SCRAMCredential? {
        byUser[user]?[mechanism]
    }

    mutating func set(_ credential: SCRAMCredential, user: String, mechanism: SASLConfiguration.Mechanism) {
        byUser[user, default: [:]][mechanism] = credential
    }

    /// Removes a credential; false when there was none.
    mutating func remove(user: String, mechanism: SASLConfiguration.Mechanism) -> Bool {
        guard byUser[user]?.removeValue(forKey: mechanism) != nil else { return false }
        if byUser[user]?.isEmpty == true { byUser[user] = nil }
        return true
    }
}
