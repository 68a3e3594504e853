import KafkaProtocol
import NIOCore

/// AddOffsetsToTxn (key 25), v0–3: a transactional producer is about to commit a group's offsets
/// in its transaction (TxnOffsetCommit to the group coordinator follows). Fencing is
/// PRODUCER_FENCED from v2 and INVALID_PRODUCER_EPOCH before.
enum AddOffsetsToTxnAPI: APIHandler {
    static let apiKey = ApiKey.addOffsetsToTxn

    static func handle(_ request: AddOffsetsToTxnRequest, context: RequestContext) -> EventLoopFuture<AddOffsetsToTxnResponse?> {
        let response = context.core.withState { state, _ -> AddOffsetsToTxnResponse in
            if let code = state.transactionCoordinatorError(request.transactionalId, broker: context.broker)
                ?? state.checkTransactionalProducer(request.transactionalId, producerId: request.producerId,
                                                    epoch: request.producerEpoch, version: context.version) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            guard !request.groupId.isEmpty else { return errorResponse(to: request, code: .invalidGroupId, version: context.version) }
            state.addGroupToTransaction(request.transactionalId, group: request.groupId)
            return AddOffsetsToTxnResponse(errorCode: 0)
        }
        return context.answer(response)
    }

    static func errorResponse(to request: AddOffsetsToTxnRequest, code: KafkaErrorCode, version: Int16) -> AddOffsetsToTxnResponse {
        AddOffsetsToTxnResponse(errorCode: code.rawValue)
    }
}
