import KafkaProtocol
import NIOCore

/// OffsetCommit (key 8), v2–7. A group member's commit must carry the current generation; a
/// commit with generation -1 and no member id is a standalone commit, allowed while the group has
/// no members. Offsets of unknown partitions are refused per partition.
enum OffsetCommitAPI: APIHandler {
    static let apiKey = ApiKey.offsetCommit

    static func handle(_ request: OffsetCommitRequest, context: RequestContext) -> EventLoopFuture<OffsetCommitResponse?> {
        let delay = context.core.configuration.initialRebalanceDelay
        let response = context.core.withState { state, _ -> OffsetCommitResponse in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            let memberCheck = state.groups[request.groupId]?.validateCommit(memberId: request.memberId, groupInstanceId: request.groupInstanceId, generationId: request.generationIdOrMemberEpoch)
                ?? (request.generationIdOrMemberEpoch < 0 ? .none : .unknownMemberId)
            if memberCheck != .none { return errorResponse(to: request, code: memberCheck, version: context.version) }
            _ = state.groupCreatingIfNeeded(request.groupId, delay: delay)
            return OffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { p in
                    let tp = TopicPartition(topic.name, p.partitionIndex)
                    guard state.partition(tp) != nil else { return .init(partitionIndex: p.partitionIndex, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue) }
                    if let code = context.partitionFault(.offsetCommit, tp, state: &state) { return .init(partitionIndex: p.partitionIndex, errorCode: code.rawValue) }
                    state.offsets[request.groupId, default: [:]][tp] = CommittedOffset(offset: p.committedOffset, metadata: p.committedMetadata, leaderEpoch: p.committedLeaderEpoch)
                    return .init(partitionIndex: p.partitionIndex, errorCode: 0)
                })
            })
        }
        return context.answer(response)
    }

    static func errorResponse(to request: OffsetCommitRequest, code: KafkaErrorCode, version: Int16) -> OffsetCommitResponse {
        OffsetCommitResponse(topics: request.topics.map { t in
            .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) })
        })
    }
}
