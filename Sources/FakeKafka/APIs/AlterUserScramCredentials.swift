import KafkaProtocol
import NIOCore

/// AlterUserScramCredentials (key 51), v0 (KIP-554): upserts and deletes SCRAM credentials, one
/// result per user, each user's changes applied all or none. The client sends the salt and salted
/// password it derived; SCRAM logins use them from then on. Refusals are Kafka's: an unknown
/// mechanism, iterations outside 4096–16384, an empty user name, the same user and mechanism
/// twice, deleting a credential that does not exist.
enum AlterUserScramCredentialsAPI: APIHandler {
    static let apiKey = ApiKey.alterUserScramCredentials

    private enum Change {
        case upsert(SASLConfiguration.Mechanism, SCRAMCredential)
        case delete(SASLConfiguration.Mechanism)
    }

    static func handle(_ request: AlterUserScramCredentialsRequest, context: RequestContext) -> EventLoopFuture<AlterUserScramCredentialsResponse?> {
        let results = context.core.withState { state, _ -> [AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult] in
            // Users in the order they first appear, each with its changes (or why it is refused).
            var order: [String] = []
            var changes: [String: [(code: Int8, change: Change?)]] = [:]
            var refusals: [String: (KafkaErrorCode, String)] = [:]
            func note(_ user: String, _ code: Int8, _ change: Change?) {
                if changes[user] == nil { order.append(user) }
                if changes[user, default: []].contains(where: { $0.code == code }) {
                    refusals[user] = refusals[user] ?? (.duplicateResource, "A user credential cannot be altered twice in the same request")
                }
                changes[user, default: []].append((code, change))
            }
            for d in request.deletions {
                note(d.name, d.mechanism, SCRAMCredentialStore.mechanismCodes[d.mechanism].map { .delete($0) })
            }
            for u in request.upsertions {
                note(u.name, u.mechanism, SCRAMCredentialStore.mechanismCodes[u.mechanism].map {
                    .upsert($0, SCRAMCredential(salt: u.salt, iterations: u.iterations, saltedPassword: u.saltedPassword))
                })
                if !SCRAMCredentialStore.iterationBounds.contains(u.iterations), SCRAMCredentialStore.mechanismCodes[u.mechanism] != nil {
                    let message = u.iterations < SCRAMCredentialStore.iterationBounds.lowerBound ? "Too few iterations" : "Too many iterations"
                    refusals[u.name] = refusals[u.name] ?? (.unacceptableCredential, message)
                }
            }
            return order.map { user in
                func result(_ code: KafkaErrorCode, _ message: String?) -> AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult {
                    .init(user: user, errorCode: code.rawValue, errorMessage: message)
                }
                if user.isEmpty { return result(.unacceptableCredential, "Username must not be empty") }
                if let (code, message) = refusals[user] { return result(code, message) }
                var store = state.scramCredentials
                for (_, change) in changes[user]! {
                    switch change {
                    case nil: return result(.unsupportedSaslMechanism, "Unknown SCRAM mechanism")
                    case .upsert(let mechanism, let credential)?: store.set(credential, user: user, mechanism: mechanism)
                    case .delete(let mechanism)?:
                        guard store.remove(user: user, mechanism: mechanism) else {
                            return result(.resourceNotFound, "Attempt to delete a user credential that does not exist")
                        }
                    }
                }
                state.scramCredentials = store
                return result(.none, nil)
            }
        }
        return context.answer(AlterUserScramCredentialsResponse(results: results))
    }

    static func errorResponse(to request: AlterUserScramCredentialsRequest, code: KafkaErrorCode, version: Int16) -> AlterUserScramCredentialsResponse {
        let users = (request.deletions.map(\.name) + request.upsertions.map(\.name)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return AlterUserScramCredentialsResponse(results: users.map { .init(user: $0, errorCode: code.rawValue, errorMessage: code.name) })
    }
}
