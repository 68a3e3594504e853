import KafkaProtocol
import NIOCore

/// DescribeTopicPartitions (key 75), v0 (KIP-966): topics with their partitions, as Metadata
/// describes them, paged. No topics named means every topic, by name. At most
/// `responsePartitionLimit` partitions are returned; the cursor names where the next page starts.
/// Unknown topics are never created here. Authorized operations are always included (every
/// topic operation: there is no authorizer).
enum DescribeTopicPartitionsAPI: APIHandler {
    static let apiKey = ApiKey.describeTopicPartitions

    static func handle(_ request: DescribeTopicPartitionsRequest, context: RequestContext) -> EventLoopFuture<DescribeTopicPartitionsResponse?> {
        let response = context.core.withState { state, _ -> DescribeTopicPartitionsResponse in
            var names = request.topics.isEmpty ? state.topics.keys.sorted() : request.topics.map(\.name).sorted()
            var firstPartition: Int32 = 0
            if let cursor = request.cursor {
                names = names.filter { $0 >= cursor.topicName }
                if names.first == cursor.topicName { firstPartition = max(0, cursor.partitionIndex) }
            }
            var budget = max(1, Int(request.responsePartitionLimit))
            var topics: [DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic] = []
            var next: DescribeTopicPartitionsResponse.Cursor?
            for (i, name) in names.enumerated() {
                guard let topic = state.topics[name] else {
                    topics.append(.init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, name: name))
                    continue
                }
                if budget == 0 {
                    next = .init(topicName: name, partitionIndex: 0)
                    break
                }
                let described = MetadataAPI.describe(name, topic, brokers: state.brokers)
                let start = i == 0 ? Int(firstPartition) : 0
                let partitions = described.partitions.dropFirst(start)
                let taken = partitions.prefix(budget)
                budget -= taken.count
                topics.append(.init(errorCode: 0, name: name, topicId: topic.id, isInternal: false, partitions: taken.map {
                    .init(errorCode: $0.errorCode, partitionIndex: $0.partitionIndex, leaderId: $0.leaderId, leaderEpoch: $0.leaderEpoch,
                          replicaNodes: $0.replicaNodes, isrNodes: $0.isrNodes, eligibleLeaderReplicas: [], lastKnownElr: [],
                          offlineReplicas: $0.offlineReplicas)
                }, topicAuthorizedOperations: AuthorizedOperations.topic))
                if taken.count < partitions.count {
                    next = .init(topicName: name, partitionIndex: Int32(start + taken.count))
                    break
                }
            }
            return DescribeTopicPartitionsResponse(topics: topics, nextCursor: next)
        }
        return context.answer(response)
    }

    static func errorResponse(to request: DescribeTopicPartitionsRequest, code: KafkaErrorCode, version: Int16) -> DescribeTopicPartitionsResponse {
        DescribeTopicPartitionsResponse(topics: request.topics.map { .init(errorCode: code.rawValue, name: $0.name) })
    }
}
