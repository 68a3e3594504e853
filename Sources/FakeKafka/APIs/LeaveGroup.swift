import KafkaProtocol
import NIOCore

/// LeaveGroup (key 13), v0–3. v0–2 name one member; v3 a batch of members, each answered. The
/// remaining members rebalance at once rather than after a session timeout.
enum LeaveGroupAPI: APIHandler {
    static let apiKey = ApiKey.leaveGroup

    static func handle(_ request: LeaveGroupRequest, context: RequestContext) -> EventLoopFuture<LeaveGroupResponse?> {
        let version = context.version
        let response = context.core.withState { state, effects -> LeaveGroupResponse in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) {
                return errorResponse(to: request, code: code, version: version)
            }
            let leaving: [(String, String?)] = version >= 3 ? request.members.map { ($0.memberId, $0.groupInstanceId) } : [(request.memberId, nil)]
            let group = state.groups[request.groupId]
            let codes = leaving.map { group?.leave(memberId: $0.0, groupInstanceId: $0.1, now: .now(), effects: &effects) ?? .unknownMemberId }
            if version >= 3 {
                return LeaveGroupResponse(errorCode: 0, members: zip(request.members, codes).map {
                    .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: $1.rawValue)
                })
            }
            return LeaveGroupResponse(errorCode: codes[0].rawValue)
        }
        return context.answer(response)
    }

    static func errorResponse(to request: LeaveGroupRequest, code: KafkaErrorCode, version: Int16) -> LeaveGroupResponse {
        LeaveGroupResponse(errorCode: code.rawValue)
    }
}
