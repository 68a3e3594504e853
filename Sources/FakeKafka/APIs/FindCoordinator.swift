import KafkaProtocol
import NIOCore

/// FindCoordinator (key 10), v0–2. Groups (key type 0) and transactional ids (key type 1) are
/// spread over brokers by a hash of the key unless a control moved one.
enum FindCoordinatorAPI: APIHandler {
    static let apiKey = ApiKey.findCoordinator

    static func handle(_ request: FindCoordinatorRequest, context: RequestContext) -> EventLoopFuture<FindCoordinatorResponse?> {
        guard request.keyType == 0 || request.keyType == 1 else {
            return context.answer(errorResponse(to: request, code: .coordinatorNotAvailable, version: context.version))
        }
        let response = context.core.withState { state, _ -> FindCoordinatorResponse in
            let id = state.coordinator(for: request.key)
            guard let broker = state.brokers.first(where: { $0.id == id }), broker.isUp else {
                return errorResponse(to: request, code: .coordinatorNotAvailable, version: context.version)
            }
            return FindCoordinatorResponse(errorCode: 0, nodeId: broker.id, host: broker.host, port: Int32(broker.port))
        }
        return context.answer(response)
    }

    static func errorResponse(to request: FindCoordinatorRequest, code: KafkaErrorCode, version: Int16) -> FindCoordinatorResponse {
        FindCoordinatorResponse(errorCode: code.rawValue, errorMessage: code.name, nodeId: -1, host: "", port: -1)
    }
}
