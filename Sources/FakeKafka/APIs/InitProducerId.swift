import KafkaProtocol
import NIOCore

/// InitProducerId (key 22), v0–4. Without a transactional id it serves idempotent producers: a new
/// id starts at epoch 0, and from v3 a producer may present its id and epoch to bump the epoch.
/// With one, the transaction coordinator answers: the id keeps its producer id across inits and
/// each init bumps the epoch, fencing older producers and aborting a transaction they left open.
enum InitProducerIdAPI: APIHandler {
    static let apiKey = ApiKey.initProducerId

    static func handle(_ request: InitProducerIdRequest, context: RequestContext) -> EventLoopFuture<InitProducerIdResponse?> {
        if let transactionalId = request.transactionalId {
            return context.answer(initTransactional(transactionalId, request, context: context))
        }
        let response = context.core.withState { state, _ -> InitProducerIdResponse in
            if request.producerId >= 0 {
                guard let epoch = state.producerEpochs[request.producerId], epoch == request.producerEpoch else {
                    return errorResponse(to: request, code: .invalidProducerEpoch, version: context.version)
                }
                state.producerEpochs[request.producerId] = epoch + 1
                return InitProducerIdResponse(errorCode: 0, producerId: request.producerId, producerEpoch: epoch + 1)
            }
            let id = state.nextProducerId
            state.nextProducerId += 1
            state.producerEpochs[id] = 0
            return InitProducerIdResponse(errorCode: 0, producerId: id, producerEpoch: 0)
        }
        return context.answer(response)
    }

    private static func initTransactional(_ transactionalId: String, _ request: InitProducerIdRequest, context: RequestContext) -> InitProducerIdResponse {
        guard !transactionalId.isEmpty else { return errorResponse(to: request, code: .invalidRequest, version: context.version) }
        let logger = context.core.logger
        return context.core.withState { state, effects in
            if let code = state.transactionCoordinatorError(transactionalId, broker: context.broker) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            // Kafka's transaction.max.timeout.ms (15 minutes) bounds what a producer may ask for.
            guard request.transactionTimeoutMs > 0, request.transactionTimeoutMs <= maxTransactionTimeoutMs else {
                return errorResponse(to: request, code: .invalidTransactionTimeout, version: context.version)
            }
            let presented = request.producerId >= 0 ? (request.producerId, request.producerEpoch) : nil
            switch state.initTransactionalProducer(transactionalId, timeoutMs: request.transactionTimeoutMs, presented: presented,
                                                   version: context.version, effects: &effects) {
            case .success(let (id, epoch)):
                logger.debug("transactional id '\(transactionalId)': producer id \(id), epoch \(epoch)")
                return InitProducerIdResponse(errorCode: 0, producerId: id, producerEpoch: epoch)
            case .failure(let code):
                return errorResponse(to: request, code: code, version: context.version)
            }
        }
    }

    static let maxTransactionTimeoutMs: Int32 = 900_000

    static func errorResponse(to request: InitProducerIdRequest, code: KafkaErrorCode, version: Int16) -> InitProducerIdResponse {
        InitProducerIdResponse(errorCode: code.rawValue, producerId: -1, producerEpoch: -1)
    }
}
