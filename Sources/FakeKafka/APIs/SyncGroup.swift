import KafkaProtocol
import NIOCore

/// SyncGroup (key 14), v0–3. Followers wait until the leader sends the assignment; then everyone
/// gets their own part and the group is Stable.
enum SyncGroupAPI: APIHandler {
    static let apiKey = ApiKey.syncGroup

    static func handle(_ request: SyncGroupRequest, context: RequestContext) -> EventLoopFuture<SyncGroupResponse?> {
        let promise = context.eventLoop.makePromise(of: SyncGroupResponse.self)
        context.core.withState { state, effects in
            func fail(_ code: KafkaErrorCode) {
                effects.append { promise.succeed(SyncGroupResponse(errorCode: code.rawValue)) }
            }
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) { return fail(code) }
            guard let group = state.groups[request.groupId] else { return fail(.unknownMemberId) }
            group.sync(request, promise: promise, now: .now(), effects: &effects)
        }
        return promise.futureResult.map { $0 }
    }

    static func errorResponse(to request: SyncGroupRequest, code: KafkaErrorCode, version: Int16) -> SyncGroupResponse {
        SyncGroupResponse(errorCode: code.rawValue)
    }
}
