import KafkaProtocol
import NIOCore

/// ConsumerGroupHeartbeat (key 68), v0–1: the whole KIP-848 membership protocol in one request.
/// Epoch 0 joins, -1 leaves, -2 leaves for now (a static member keeping its assignment); any
/// other epoch is a heartbeat that reconciles the member towards the coordinator's assignment.
/// v1 adds a topic regex (librdkafka 2.12 sends v1 only).
enum ConsumerGroupHeartbeatAPI: APIHandler {
    static let apiKey = ApiKey.consumerGroupHeartbeat

    static func handle(_ request: ConsumerGroupHeartbeatRequest, context: RequestContext) -> EventLoopFuture<ConsumerGroupHeartbeatResponse?> {
        let configuration = context.core.configuration
        let response = context.core.withState { state, _ -> ConsumerGroupHeartbeatResponse in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            guard !request.groupId.isEmpty else {
                return refusal(GroupRefusal(code: .invalidRequest, message: "GroupId can't be empty."))
            }
            switch state.modernGroup(request.groupId, joining: request.memberEpoch == 0, configuration: configuration) {
            case .failure(let refused):
                return refusal(refused)
            case .success(let group):
                return group.heartbeat(request, clientId: context.clientId, clientHost: context.clientHost,
                                       topics: state.topicCatalog, now: .now())
            }
        }
        return context.answer(response)
    }

    private static func refusal(_ r: GroupRefusal) -> ConsumerGroupHeartbeatResponse {
        ConsumerGroupHeartbeatResponse(errorCode: r.code.rawValue, errorMessage: r.message, memberEpoch: -1)
    }

    static func errorResponse(to request: ConsumerGroupHeartbeatRequest, code: KafkaErrorCode, version: Int16) -> ConsumerGroupHeartbeatResponse {
        ConsumerGroupHeartbeatResponse(errorCode: code.rawValue, errorMessage: code.name, memberEpoch: -1)
    }
}
