import KafkaProtocol
import NIOCore

/// DeleteGroups (key 42), v0–2. Removes a group with no members, and its committed offsets, as
/// Kafka does; a group with members is NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND, and a
/// group this broker does not coordinate NOT_COORDINATOR.
enum DeleteGroupsAPI: APIHandler {
    static let apiKey = ApiKey.deleteGroups

    static func handle(_ request: DeleteGroupsRequest, context: RequestContext) -> EventLoopFuture<DeleteGroupsResponse?> {
        let results = context.core.withState { state, _ in
            request.groupsNames.map { id -> DeleteGroupsResponse.DeletableGroupResult in
                if let code = state.coordinatorError(group: id, broker: context.broker) { return .init(groupId: id, errorCode: code.rawValue) }
                guard state.groupType(id) != nil || state.offsets[id] != nil else {
                    return .init(groupId: id, errorCode: KafkaErrorCode.groupIdNotFound.rawValue)
                }
                if state.groups[id].map({ !$0.members.isEmpty }) ?? state.modernGroups[id].map({ !$0.isEmpty }) ?? false {
                    return .init(groupId: id, errorCode: KafkaErrorCode.nonEmptyGroup.rawValue)
                }
                state.groups[id] = nil
                state.modernGroups[id] = nil
                state.offsets[id] = nil
                return .init(groupId: id, errorCode: 0)
            }
        }
        return context.answer(DeleteGroupsResponse(results: results))
    }

    static func errorResponse(to request: DeleteGroupsRequest, code: KafkaErrorCode, version: Int16) -> DeleteGroupsResponse {
        DeleteGroupsResponse(results: request.groupsNames.map { .init(groupId: $0, errorCode: code.rawValue) })
    }
}
