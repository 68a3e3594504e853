import KafkaProtocol
import NIOCore

/// OffsetForLeaderEpoch (key 23), v2. Newer librdkafka asks it to validate its position after a
/// leader change. With one replica and no truncation, the end offset of any epoch is the log end.
enum OffsetForLeaderEpochAPI: APIHandler {
    static let apiKey = ApiKey.offsetForLeaderEpoch

    static func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) -> EventLoopFuture<OffsetForLeaderEpochResponse?> {
        let topics = context.core.withState { state, _ in
            request.topics.map { topic in
                OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult(topic: topic.topic, partitions: topic.partitions.map { p in
                    guard let log = state.partition(TopicPartition(topic.topic, p.partition)) else {
                        return .init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, partition: p.partition)
                    }
                    guard log.leader == context.broker else {
                        return .init(errorCode: KafkaErrorCode.notLeaderOrFollower.rawValue, partition: p.partition)
                    }
                    return .init(errorCode: 0, partition: p.partition, leaderEpoch: p.leaderEpoch, endOffset: log.highWatermark)
                })
            }
        }
        return context.answer(OffsetForLeaderEpochResponse(topics: topics))
    }

    static func errorResponse(to request: OffsetForLeaderEpochRequest, code: KafkaErrorCode, version: Int16) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(topics: request.topics.map { t in
            .init(topic: t.topic, partitions: t.partitions.map { .init(errorCode: code.rawValue, partition: $0.partition) })
        })
    }
}
