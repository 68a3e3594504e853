import KafkaProtocol
import NIOCore

/// DeleteAcls (key 31), v0–3. Removes the stored bindings each filter matches and lists them in
/// that filter's result; an invalid filter is INVALID_REQUEST for that filter alone.
enum DeleteAclsAPI: APIHandler {
    static let apiKey = ApiKey.deleteAcls

    static func handle(_ request: DeleteAclsRequest, context: RequestContext) -> EventLoopFuture<DeleteAclsResponse?> {
        let results = context.core.withState { state, _ in
            request.filters.map { f -> DeleteAclsResponse.DeleteAclsFilterResult in
                let filter = AclFilter(resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter,
                                       principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permission: f.permissionType)
                if let reason = filter.invalidReason { return .init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: reason) }
                let removed = state.acls.filter(filter.matches)
                state.acls.removeAll(where: filter.matches)
                return .init(errorCode: 0, errorMessage: nil, matchingAcls: removed.map {
                    .init(errorCode: 0, errorMessage: nil, resourceType: $0.resourceType, resourceName: $0.resourceName, patternType: $0.patternType,
                          principal: $0.principal, host: $0.host, operation: $0.operation, permissionType: $0.permission)
                })
            }
        }
        return context.answer(DeleteAclsResponse(filterResults: results))
    }

    static func errorResponse(to request: DeleteAclsRequest, code: KafkaErrorCode, version: Int16) -> DeleteAclsResponse {
        DeleteAclsResponse(filterResults: request.filters.map { _ in .init(errorCode: code.rawValue, errorMessage: code.name) })
    }
}
