import KafkaProtocol
import NIOCore

/// InitProducerId (key 22), v0–4, for idempotent producers. A new id starts at epoch 0; from v3 a
/// producer may present its id and epoch to bump the epoch. Transactional ids are refused:
/// FakeKafka has no transaction coordinator.
enum InitProducerIdAPI: APIHandler {
    static let apiKey = ApiKey.initProducerId

    static func handle(_ request: InitProducerIdRequest, context: RequestContext) -> EventLoopFuture<InitProducerIdResponse?> {
        if let transactionalId = request.transactionalId {
            context.core.logger.warning("refusing transactional id \(transactionalId): transactions are not supported")
            return context.answer(errorResponse(to: request, code: .transactionalIdNotFound, version: context.version))
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

    static func errorResponse(to request: InitProducerIdRequest, code: KafkaErrorCode, version: Int16) -> InitProducerIdResponse {
        InitProducerIdResponse(errorCode: code.rawValue, producerId: -1, producerEpoch: -1)
    }
}
