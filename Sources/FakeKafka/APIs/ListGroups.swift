import KafkaProtocol
import NIOCore

/// ListGroups (key 16), v0–5. Each broker lists the groups it coordinates, so a client asks every
/// broker, as with Kafka. v4+ reports each group's state and keeps only the states asked for
/// (compared ignoring case, as Kafka does); v5+ reports the group type ("classic" or, for KIP-848
/// groups, "consumer") and filters by it.
enum ListGroupsAPI: APIHandler {
    static let apiKey = ApiKey.listGroups

    static func handle(_ request: ListGroupsRequest, context: RequestContext) -> EventLoopFuture<ListGroupsResponse?> {
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        let groups = context.core.withState { state, _ in
            let classic = state.groups.values.map { (id: $0.id, protocolType: $0.protocolType ?? "", state: $0.state, type: GroupType.classic) }
            let modern = state.modernGroups.values.map { (id: $0.id, protocolType: "consumer", state: $0.state, type: GroupType.consumer) }
            return (classic + modern)
                .filter { state.coordinator(for: $0.id) == context.broker }
                .filter { types.isEmpty || types.contains($0.type.rawValue) }
                .filter { states.isEmpty || states.contains($0.state.rawValue.lowercased()) }
                .sorted { $0.id < $1.id }
                .map { ListGroupsResponse.ListedGroup(groupId: $0.id, protocolType: $0.protocolType, groupState: $0.state.rawValue, groupType: $0.type.rawValue) }
        }
        return context.answer(ListGroupsResponse(errorCode: 0, groups: groups))
    }

    static func errorResponse(to request: ListGroupsRequest, code: KafkaErrorCode, version: Int16) -> ListGroupsResponse {
        ListGroupsResponse(errorCode: code.rawValue)
    }
}
