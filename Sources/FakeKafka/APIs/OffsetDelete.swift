import KafkaProtocol
import NIOCore

/// OffsetDelete (key 47), v0. Forgets a group's committed offsets for the partitions given, as
/// Kafka does: an unknown group is GROUP_ID_NOT_FOUND; a group with members refuses, per
/// partition, the topics its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC) and a group of a
/// protocol other than "consumer" refuses all (NON_EMPTY_GROUP); unknown partitions are
/// UNKNOWN_TOPIC_OR_PARTITION. A partition without a committed offset is no error.
enum OffsetDeleteAPI: APIHandler {
    static let apiKey = ApiKey.offsetDelete

    static func handle(_ request: OffsetDeleteRequest, context: RequestContext) -> EventLoopFuture<OffsetDeleteResponse?> {
        let response = context.core.withState { state, _ -> OffsetDeleteResponse in
            let id = request.groupId
            if id.isEmpty { return errorResponse(to: request, code: .invalidGroupId, version: context.version) }
            if let code = state.coordinatorError(group: id, broker: context.broker) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            let group = state.groups[id]
            guard group != nil || state.offsets[id] != nil else {
                return OffsetDeleteResponse(errorCode: KafkaErrorCode.groupIdNotFound.rawValue)
            }
            var subscribed: Set<String> = []
            if let group, !group.members.isEmpty {
                guard group.protocolType == "consumer" else {
                    return OffsetDeleteResponse(errorCode: KafkaErrorCode.nonEmptyGroup.rawValue)
                }
                subscribed = group.subscribedTopics
            }
            return OffsetDeleteResponse(errorCode: 0, topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { p in
                    let tp = TopicPartition(topic.name, p.partitionIndex)
                    func answer(_ code: KafkaErrorCode) -> OffsetDeleteResponse.OffsetDeleteResponsePartition {
                        .init(partitionIndex: p.partitionIndex, errorCode: code.rawValue)
                    }
                    guard state.partition(tp) != nil else { return answer(.unknownTopicOrPartition) }
                    guard !subscribed.contains(topic.name) else { return answer(.groupSubscribedToTopic) }
                    state.offsets[id]?[tp] = nil
                    return answer(.none)
                })
            })
        }
        return context.answer(response)
    }

    static func errorResponse(to request: OffsetDeleteRequest, code: KafkaErrorCode, version: Int16) -> OffsetDeleteResponse {
        OffsetDeleteResponse(errorCode: code.rawValue)
    }
}

extension ConsumerGroup {
    /// The topics the members subscribe to, read from their consumer-protocol metadata for the
    /// group's protocol (or their first one, before a protocol is chosen).
    var subscribedTopics: Set<String> {
        var topics: Set<String> = []
        for member in members.values {
            guard let metadata = member.protocols.first(where: { $0.name == protocolName })?.metadata ?? member.protocols.first?.metadata,
                  !metadata.isEmpty else { continue }
            var buf = ByteBuffer(bytes: metadata)
            guard let version = try? buf.readKafkaInt16(),
                  let subscription = try? ConsumerProtocolSubscription(from: &buf, version: min(version, ConsumerProtocolSubscription.versions.upperBound))
            else { continue }
            topics.formUnion(subscription.topics)
        }
        return topics
    }
}
