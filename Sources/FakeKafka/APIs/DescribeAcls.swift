import KafkaProtocol
import NIOCore

/// DescribeAcls (key 29), v0–3. The stored bindings matching the filter, grouped by resource
/// pattern; v0 cannot express prefixed patterns, so it sees only literal ones, as from Kafka.
enum DescribeAclsAPI: APIHandler {
    static let apiKey = ApiKey.describeAcls

    static func handle(_ request: DescribeAclsRequest, context: RequestContext) -> EventLoopFuture<DescribeAclsResponse?> {
        let filter = AclFilter(resourceType: request.resourceTypeFilter, resourceName: request.resourceNameFilter,
                               patternType: request.patternTypeFilter, principal: request.principalFilter, host: request.hostFilter,
                               operation: request.operation, permission: request.permissionType)
        if let reason = filter.invalidReason {
            return context.answer(DescribeAclsResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: reason))
        }
        let version = context.version
        let matching = context.core.withState { state, _ in
            state.acls.filter { filter.matches($0) && (version > 0 || $0.patternType == AclBinding.PatternType.literal.rawValue) }
        }
        var order: [AclResource] = []
        var byResource: [AclResource: [DescribeAclsResponse.AclDescription]] = [:]
        for acl in matching {
            let resource = AclResource(type: acl.resourceType, name: acl.resourceName, patternType: acl.patternType)
            if byResource[resource] == nil { order.append(resource) }
            byResource[resource, default: []].append(.init(principal: acl.principal, host: acl.host, operation: acl.operation, permissionType: acl.permission))
        }
        let resources = order.map { DescribeAclsResponse.DescribeAclsResource(resourceType: $0.type, resourceName: $0.name, patternType: $0.patternType, acls: byResource[$0]!) }
        return context.answer(DescribeAclsResponse(errorCode: 0, errorMessage: nil, resources: resources))
    }

    private struct AclResource: Hashable {
        var type: Int8
        var name: String
        var patternType: Int8
    }

    static func errorResponse(to request: DescribeAclsRequest, code: KafkaErrorCode, version: Int16) -> DescribeAclsResponse {
        DescribeAclsResponse(errorCode: code.rawValue, errorMessage: code.name)
    }
}
