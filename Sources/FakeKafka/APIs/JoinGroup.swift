import KafkaProtocol
import NIOCore

/// JoinGroup (key 11), v0–5. The answer waits until every member has (re)joined, the rebalance
/// timeout passes, or the initial rebalance delay ends. From v4 a member without an id is told
/// MEMBER_ID_REQUIRED with one to come back with, unless it is a static member (a
/// group.instance.id, KIP-345): see `ConsumerGroup.rejoinStatic`. The leader gets every member's
/// metadata. An empty KIP-848 consumer group becomes a classic group again; one with members
/// refuses the join with INCONSISTENT_GROUP_PROTOCOL.
enum JoinGroupAPI: APIHandler {
    static let apiKey = ApiKey.joinGroup

    static func handle(_ request: JoinGroupRequest, context: RequestContext) -> EventLoopFuture<JoinGroupResponse?> {
        let promise = context.eventLoop.makePromise(of: JoinGroupResponse.self)
        let config = context.core.configuration
        context.core.withState { state, effects in
            let version = context.version
            func fail(_ code: KafkaErrorCode) {
                let response = errorResponse(to: request, code: code, version: version)
                effects.append { promise.succeed(response) }
            }
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) { return fail(code) }
            guard !request.groupId.isEmpty else { return fail(.invalidGroupId) }
            let timeout = TimeAmount.milliseconds(Int64(request.sessionTimeoutMs))
            guard timeout >= config.minSessionTimeout, timeout <= config.maxSessionTimeout else { return fail(.invalidSessionTimeout) }
            // Kafka 4 can also take classic members into a consumer group (online migration); here a
            // consumer group with members refuses them, as Kafka does without migration.
            guard let group = state.classicGroupForJoin(request.groupId, delay: config.initialRebalanceDelay) else {
                return fail(.inconsistentGroupProtocol)
            }
            group.join(request, version: version, clientId: context.clientId, clientHost: context.clientHost,
                       promise: promise, now: .now(), effects: &effects)
        }
        return promise.futureResult.map { $0 }
    }

    static func errorResponse(to request: JoinGroupRequest, code: KafkaErrorCode, version: Int16) -> JoinGroupResponse {
        JoinGroupResponse(errorCode: code.rawValue, generationId: -1, memberId: request.memberId)
    }
}
