import KafkaProtocol
import NIOCore

/// DeleteTopics (key 20), v1. Removes the topic and its data at once; fetches waiting on it wake
/// up and see UNKNOWN_TOPIC_OR_PARTITION. Committed offsets of groups for it are dropped too.
enum DeleteTopicsAPI: APIHandler {
    static let apiKey = ApiKey.deleteTopics

    static func handle(_ request: DeleteTopicsRequest, context: RequestContext) -> EventLoopFuture<DeleteTopicsResponse?> {
        let results = context.core.withState { state, effects in
            request.topicNames.map { name in
                guard state.deleteTopic(name, effects: &effects) else {
                    return DeleteTopicsResponse.DeletableTopicResult(name: name, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue)
                }
                return DeleteTopicsResponse.DeletableTopicResult(name: name, errorCode: 0)
            }
        }
        return context.answer(DeleteTopicsResponse(responses: results))
    }

    static func errorResponse(to request: DeleteTopicsRequest, code: KafkaErrorCode, version: Int16) -> DeleteTopicsResponse {
        DeleteTopicsResponse(responses: request.topicNames.map { .init(name: $0, errorCode: code.rawValue) })
    }
}

extension ClusterState {
    /// Deletes a topic with its offsets; false when it does not exist.
    mutating func deleteTopic(_ name: String, effects: inout ConsumerGroup.Effects) -> Bool {
        guard let removed = topics.removeValue(forKey: name) else { return false }
        topicNamesById[removed.id] = nil
        for group in offsets.keys {
            offsets[group] = offsets[group]!.filter { $0.key.topic != name }
        }
        wakeFetchers(for: nil, effects: &effects)
        return true
    }
}
