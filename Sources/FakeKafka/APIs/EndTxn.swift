import KafkaProtocol
import NIOCore

/// EndTxn (key 26), v0–3: commits or aborts the producer's transaction. The coordinator writes a
/// COMMIT or ABORT marker into every partition of the transaction and, on commit, makes its
/// TxnOffsetCommit offsets visible to their groups, all before answering. Fencing is
/// PRODUCER_FENCED from v2 and INVALID_PRODUCER_EPOCH before.
enum EndTxnAPI: APIHandler {
    static let apiKey = ApiKey.endTxn

    static func handle(_ request: EndTxnRequest, context: RequestContext) -> EventLoopFuture<EndTxnResponse?> {
        let logger = context.core.logger
        let marker: ControlBatch.Marker = request.committed ? .commit : .abort
        let response = context.core.withState { state, effects -> EndTxnResponse in
            if let code = state.transactionCoordinatorError(request.transactionalId, broker: context.broker)
                ?? state.checkTransactionalProducer(request.transactionalId, producerId: request.producerId,
                                                    epoch: request.producerEpoch, version: context.version) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            if let code = state.endTransaction(request.transactionalId, marker, effects: &effects) {
                logger.info("cannot \(marker) the transaction of '\(request.transactionalId)': \(code)")
                return errorResponse(to: request, code: code, version: context.version)
            }
            return EndTxnResponse(errorCode: 0)
        }
        return context.answer(response)
    }

    static func errorResponse(to request: EndTxnRequest, code: KafkaErrorCode, version: Int16) -> EndTxnResponse {
        EndTxnResponse(errorCode: code.rawValue)
    }
}
