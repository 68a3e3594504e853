import KafkaProtocol
import NIOCore

/// AddPartitionsToTxn (key 24), v0–3: a transactional producer names the partitions it is about
/// to write to, before its first batch to each. The request is all or nothing: when one partition
/// is refused, the others get OPERATION_NOT_ATTEMPTED. Fencing is PRODUCER_FENCED from v2 and
/// INVALID_PRODUCER_EPOCH before.
enum AddPartitionsToTxnAPI: APIHandler {
    static let apiKey = ApiKey.addPartitionsToTxn

    static func handle(_ request: AddPartitionsToTxnRequest, context: RequestContext) -> EventLoopFuture<AddPartitionsToTxnResponse?> {
        let transactionalId = request.v3AndBelowTransactionalId
        let response = context.core.withState { state, _ -> AddPartitionsToTxnResponse in
            if let code = state.transactionCoordinatorError(transactionalId, broker: context.broker)
                ?? state.checkTransactionalProducer(transactionalId, producerId: request.v3AndBelowProducerId,
                                                    epoch: request.v3AndBelowProducerEpoch, version: context.version) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            var codes: [TopicPartition: KafkaErrorCode] = [:]
            for topic in request.v3AndBelowTopics {
                for p in topic.partitions {
                    let tp = TopicPartition(topic.name, p)
                    codes[tp] = state.partition(tp) == nil ? .unknownTopicOrPartition
                        : context.partitionFault(.addPartitionsToTxn, tp, state: &state) ?? KafkaErrorCode.none
                }
            }
            if codes.values.contains(where: { $0 != .none }) {
                for (tp, code) in codes where code == .none { codes[tp] = .operationNotAttempted }
            } else {
                state.addPartitionsToTransaction(transactionalId, Array(codes.keys))
            }
            return AddPartitionsToTxnResponse(resultsByTopicV3AndBelow: request.v3AndBelowTopics.map { topic in
                .init(name: topic.name, resultsByPartition: topic.partitions.map { p in
                    .init(partitionIndex: p, partitionErrorCode: codes[TopicPartition(topic.name, p)]!.rawValue)
                })
            })
        }
        return context.answer(response)
    }

    static func errorResponse(to request: AddPartitionsToTxnRequest, code: KafkaErrorCode, version: Int16) -> AddPartitionsToTxnResponse {
        AddPartitionsToTxnResponse(resultsByTopicV3AndBelow: request.v3AndBelowTopics.map { t in
            .init(name: t.name, resultsByPartition: t.partitions.map { .init(partitionIndex: $0, partitionErrorCode: code.rawValue) })
        })
    }
}
