import KafkaProtocol
import NIOCore

/// CreateAcls (key 30), v0–3. Stores each binding (v0's are literal patterns) after Kafka's
/// checks, each refusal INVALID_REQUEST with Kafka's reason; creating an existing binding again
/// succeeds and changes nothing. ACLs are not enforced.
enum CreateAclsAPI: APIHandler {
    static let apiKey = ApiKey.createAcls

    static func handle(_ request: CreateAclsRequest, context: RequestContext) -> EventLoopFuture<CreateAclsResponse?> {
        let results = context.core.withState { state, _ in
            request.creations.map { c -> CreateAclsResponse.AclCreationResult in
                let acl = AclBinding(resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType,
                                     principal: c.principal, host: c.host, operation: c.operation, permission: c.permissionType)
                if let reason = acl.invalidReason { return .init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: reason) }
                if !state.acls.contains(acl) { state.acls.append(acl) }
                return .init(errorCode: 0, errorMessage: nil)
            }
        }
        return context.answer(CreateAclsResponse(results: results))
    }

    static func errorResponse(to request: CreateAclsRequest, code: KafkaErrorCode, version: Int16) -> CreateAclsResponse {
        CreateAclsResponse(results: request.creations.map { _ in .init(errorCode: code.rawValue, errorMessage: code.name) })
    }
}
