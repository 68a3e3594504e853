import KafkaProtocol
import NIOCore

/// OffsetCommit (key 8), v2–9. A classic group member's commit must carry the current
/// generation; a KIP-848 consumer group member's its current member epoch, through v9+
/// (STALE_MEMBER_EPOCH for an older epoch, FENCED_MEMBER_EPOCH for a newer one). A commit with
/// generation -1 and no member id is a standalone commit, allowed while the group has no members.
/// Offsets of unknown partitions are refused per partition, before the member is checked.
enum OffsetCommitAPI: APIHandler {
    static let apiKey = ApiKey.offsetCommit

    static func handle(_ request: OffsetCommitRequest, context: RequestContext) -> EventLoopFuture<OffsetCommitResponse?> {
        let delay = context.core.configuration.initialRebalanceDelay
        let response = context.core.withState { state, _ -> OffsetCommitResponse in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            // As in Kafka, unknown partitions are refused before the group is consulted: a commit
            // of nothing but unknown partitions never meets the member checks.
            let known = request.topics.contains { t in t.partitions.contains { state.partition(TopicPartition(t.name, $0.partitionIndex)) != nil } }
            var memberCheck = KafkaErrorCode.none
            if known {
                memberCheck = state.validateCommit(group: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                                                   generationOrEpoch: request.generationIdOrMemberEpoch,
                                                   apiVersion: context.version, transactional: false)
                // From v9 a member's commit to a group that does not exist is GROUP_ID_NOT_FOUND.
                if memberCheck == .unknownMemberId && context.version >= 9 && state.groupType(request.groupId) == nil { memberCheck = .groupIdNotFound }
                if memberCheck == .none && state.groupType(request.groupId) == nil { _ = state.groupCreatingIfNeeded(request.groupId, delay: delay) }
            }
            return OffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { p in
                    let tp = TopicPartition(topic.name, p.partitionIndex)
                    guard state.partition(tp) != nil else { return .init(partitionIndex: p.partitionIndex, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue) }
                    if memberCheck != .none { return .init(partitionIndex: p.partitionIndex, errorCode: memberCheck.rawValue) }
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
