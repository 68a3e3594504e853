import KafkaProtocol
import NIOCore

/// ListGroups (key 16), v0–2. Each broker lists the groups it coordinates, so a client asks every
/// broker, as with Kafka.
enum ListGroupsAPI: APIHandler {
    static let apiKey = ApiKey.listGroups

    static func handle(_ request: ListGroupsRequest, context: RequestContext) -> EventLoopFuture<ListGroupsResponse?> {
        let groups = context.core.withState { state, _ in
            state.groups.values.filter { state.coordinator(for: $0.id) == context.broker }.sorted { $0.id < $1.id }.map {
                ListGroupsResponse.ListedGroup(groupId: $0.id, protocolType: $0.protocolType ?? "")
            }
        }
        return context.answer(ListGroupsResponse(errorCode: 0, groups: groups))
    }

    static func errorResponse(to request: ListGroupsRequest, code: KafkaErrorCode, version: Int16) -> ListGroupsResponse {
        ListGroupsResponse(errorCode: code.rawValue)
    }
}
