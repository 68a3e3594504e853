import KafkaProtocol
import NIOCore

/// TxnOffsetCommit (key 28), v0–3, served by the group coordinator: offsets committed inside a
/// transaction, held back until it commits (and dropped if it aborts). The group must have been
/// added with AddOffsetsToTxn. From v3 a member id and generation (a KIP-848 member's epoch) are
/// checked as OffsetCommit checks them; without a member id (a producer outside the group) they
/// are not.
enum TxnOffsetCommitAPI: APIHandler {
    static let apiKey = ApiKey.txnOffsetCommit

    static func handle(_ request: TxnOffsetCommitRequest, context: RequestContext) -> EventLoopFuture<TxnOffsetCommitResponse?> {
        let response = context.core.withState { state, _ -> TxnOffsetCommitResponse in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker)
                ?? state.checkTransactionalProducer(request.transactionalId, producerId: request.producerId,
                                                    epoch: request.producerEpoch, version: context.version) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            guard let producer = state.transactions.producers[request.transactionalId], producer.groups.contains(request.groupId) else {
                return errorResponse(to: request, code: .invalidTxnState, version: context.version)
            }
            if !request.memberId.isEmpty, state.groupType(request.groupId) != nil {
                let code = state.validateCommit(group: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                                                generationOrEpoch: request.generationId, apiVersion: context.version, transactional: true)
                if code != .none { return errorResponse(to: request, code: code, version: context.version) }
            }
            return TxnOffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { p in
                    let tp = TopicPartition(topic.name, p.partitionIndex)
                    guard state.partition(tp) != nil else { return .init(partitionIndex: p.partitionIndex, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue) }
                    if let code = context.partitionFault(.txnOffsetCommit, tp, state: &state) { return .init(partitionIndex: p.partitionIndex, errorCode: code.rawValue) }
                    state.transactions.producers[request.transactionalId]!.pendingOffsets[request.groupId, default: [:]][tp] =
                        CommittedOffset(offset: p.committedOffset, metadata: p.committedMetadata, leaderEpoch: p.committedLeaderEpoch)
                    return .init(partitionIndex: p.partitionIndex, errorCode: 0)
                })
            })
        }
        return context.answer(response)
    }

    static func errorResponse(to request: TxnOffsetCommitRequest, code: KafkaErrorCode, version: Int16) -> TxnOffsetCommitResponse {
        TxnOffsetCommitResponse(topics: request.topics.map { t in
            .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) })
        })
    }
}
