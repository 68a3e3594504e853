import KafkaProtocol
import NIOCore

/// Heartbeat (key 12), v0–3. Keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
/// rejoin, ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID that it was left behind.
enum HeartbeatAPI: APIHandler {
    static let apiKey = ApiKey.heartbeat

    static func handle(_ request: HeartbeatRequest, context: RequestContext) -> EventLoopFuture<HeartbeatResponse?> {
        let code = context.core.withState { state, _ -> KafkaErrorCode in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) { return code }
            guard let group = state.groups[request.groupId] else { return .unknownMemberId }
            return group.heartbeat(memberId: request.memberId, groupInstanceId: request.groupInstanceId, generationId: request.generationId, now: .now())
        }
        return context.answer(HeartbeatResponse(errorCode: code.rawValue))
    }

    static func errorResponse(to request: HeartbeatRequest, code: KafkaErrorCode, version: Int16) -> HeartbeatResponse {
        HeartbeatResponse(errorCode: code.rawValue)
    }
}
