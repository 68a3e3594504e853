import KafkaProtocol
import NIOCore

/// DescribeGroups (key 15), v0–4. An unknown group is described as Dead with no error, as Kafka
/// does. Member metadata is the one for the group's chosen protocol. A KIP-848 consumer group is
/// GROUP_ID_NOT_FOUND here, as in Kafka: ConsumerGroupDescribe describes it. Authorized operations
/// (v3+, when asked) are every group operation of the configured Kafka release (no authorizer).
enum DescribeGroupsAPI: APIHandler {
    static let apiKey = ApiKey.describeGroups

    static func handle(_ request: DescribeGroupsRequest, context: RequestContext) -> EventLoopFuture<DescribeGroupsResponse?> {
        let operations = request.includeAuthorizedOperations ? AuthorizedOperations.group(context.core.configuration.kafkaVersion) : Int32.min
        let groups = context.core.withState { state, _ in
            request.groups.map { id -> DescribeGroupsResponse.DescribedGroup in
                if let code = state.coordinatorError(group: id, broker: context.broker) {
                    return .init(errorCode: code.rawValue, groupId: id)
                }
                if state.modernGroups[id] != nil { return .init(errorCode: KafkaErrorCode.groupIdNotFound.rawValue, groupId: id) }
                guard let group = state.groups[id] else {
                    return .init(errorCode: 0, groupId: id, groupState: GroupState.dead.rawValue, authorizedOperations: operations)
                }
                let d = group.describe()
                return .init(errorCode: 0, groupId: id, groupState: d.state.rawValue, protocolType: d.protocolType ?? "",
                             protocolData: d.protocolName ?? "", members: d.members.map {
                                 .init(memberId: $0.id, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                                       memberMetadata: $0.metadata, memberAssignment: $0.rawAssignment)
                             }, authorizedOperations: operations)
            }
        }
        return context.answer(DescribeGroupsResponse(groups: groups))
    }

    static func errorResponse(to request: DescribeGroupsRequest, code: KafkaErrorCode, version: Int16) -> DescribeGroupsResponse {
        DescribeGroupsResponse(groups: request.groups.map { .init(errorCode: code.rawValue, groupId: $0) })
    }
}
