import KafkaProtocol
import NIOCore

/// DescribeUserScramCredentials (key 50), v0 (KIP-554): each user's SCRAM mechanisms and
/// iteration counts (never salts or keys). No user list (or an empty one) describes every user
/// with a credential. A user named twice is DUPLICATE_RESOURCE, one without credentials
/// RESOURCE_NOT_FOUND, with Kafka's messages.
enum DescribeUserScramCredentialsAPI: APIHandler {
    static let apiKey = ApiKey.describeUserScramCredentials

    static func handle(_ request: DescribeUserScramCredentialsRequest, context: RequestContext) -> EventLoopFuture<DescribeUserScramCredentialsResponse?> {
        let results = context.core.withState { state, _ -> [DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult] in
            let store = state.scramCredentials.byUser
            let asked = request.users.map { $0.map(\.name) } ?? []
            let names = asked.isEmpty ? store.keys.sorted() : asked
            var seen: [String: Int] = [:]
            for name in names { seen[name, default: 0] += 1 }
            var answered: Set<String> = []
            return names.compactMap { name in
                guard answered.insert(name).inserted else { return nil }
                if seen[name]! > 1 {
                    return .init(user: name, errorCode: KafkaErrorCode.duplicateResource.rawValue,
                                 errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request: \(name)")
                }
                guard let credentials = store[name], !credentials.isEmpty else {
                    return .init(user: name, errorCode: KafkaErrorCode.resourceNotFound.rawValue,
                                 errorMessage: "Attempt to describe a user credential that does not exist: \(name)")
                }
                let infos = SCRAMCredentialStore.mechanismCodes.sorted { $0.key < $1.key }.compactMap { code, mechanism in
                    credentials[mechanism].map { DescribeUserScramCredentialsResponse.CredentialInfo(mechanism: code, iterations: $0.iterations) }
                }
                return .init(user: name, errorCode: 0, errorMessage: nil, credentialInfos: infos)
            }
        }
        return context.answer(DescribeUserScramCredentialsResponse(errorCode: 0, errorMessage: nil, results: results))
    }

    static func errorResponse(to request: DescribeUserScramCredentialsRequest, code: KafkaErrorCode, version: Int16) -> DescribeUserScramCredentialsResponse {
        DescribeUserScramCredentialsResponse(errorCode: code.rawValue, errorMessage: code.name)
    }
}
