import KafkaProtocol
import NIOCore

/// Metadata (key 3), v0–12. Lists the brokers that are up and the requested topics with their
/// partition leaders; unknown topics are created when auto-creation is on and the client allows
/// it (v4+). Each partition reports its replicas; the in-sync ones are those on brokers that are
/// up, the others offline. Leader epochs are reported as -1 (unknown), so clients never need
/// leader-epoch validation. From v10 every topic carries its id, new at each creation: that is
/// how librdkafka 2.x tells a deleted and re-created topic from the old one. From v12 a topic may
/// be asked for by id alone (librdkafka's KIP-848 consumer learns its assignment as topic ids and
/// looks them up so); an unknown id is UNKNOWN_TOPIC_ID. Authorized operations (v8+, when asked)
/// are every operation on the resource, as a Kafka without an authorizer answers.
enum MetadataAPI: APIHandler {
    static let apiKey = ApiKey.metadata

    static func handle(_ request: MetadataRequest, context: RequestContext) -> EventLoopFuture<MetadataResponse?> {
        let config = context.core.configuration
        let version = context.version
        let response = context.core.withState { state, _ in
            let requested: [MetadataRequest.MetadataRequestTopic]? = request.topics.flatMap { topics in
                version == 0 && topics.isEmpty ? nil : topics
            }
            let allowCreate = config.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation)
            var topics: [MetadataResponse.MetadataResponseTopic] = []
            for wanted in requested ?? state.topics.keys.sorted().map({ .init(name: $0) }) {
                guard let name = wanted.name ?? state.topicName(id: wanted.topicId) else {
                    topics.append(.init(errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: wanted.topicId))
                    continue
                }
                if state.topics[name] == nil {
                    guard ClusterState.isValidTopicName(name) else {
                        topics.append(.init(errorCode: KafkaErrorCode.invalidTopicException.rawValue, name: name))
                        continue
                    }
                    guard allowCreate else {
                        topics.append(.init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, name: name))
                        continue
                    }
                    state.createTopic(name, partitions: config.defaultPartitions)
                    context.core.logger.info("auto-created topic \(name) with \(config.defaultPartitions) partitions")
                }
                var topic = describe(name, state.topics[name]!, brokers: state.brokers)
                if request.includeTopicAuthorizedOperations { topic.topicAuthorizedOperations = AuthorizedOperations.topic }
                topics.append(topic)
            }
            return MetadataResponse(
                brokers: state.brokers.filter(\.isUp).map { .init(nodeId: $0.id, host: $0.host, port: Int32($0.port)) },
                clusterId: config.clusterId,
                controllerId: state.brokers.first(where: \.isUp)?.id ?? -1,
                topics: topics,
                clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? AuthorizedOperations.cluster : Int32.min)
        }
        return context.answer(response)
    }

    static func describe(_ name: String, _ topic: TopicState, brokers: [BrokerInfo]) -> MetadataResponse.MetadataResponseTopic {
        let partitions = topic.partitions.enumerated().map { index, log in
            func isUp(_ id: Int32) -> Bool { brokers.first { $0.id == id }?.isUp ?? false }
            let up = isUp(log.leader)
            return MetadataResponse.MetadataResponsePartition(
                errorCode: up ? 0 : KafkaErrorCode.leaderNotAvailable.rawValue,
                partitionIndex: Int32(index), leaderId: up ? log.leader : -1, leaderEpoch: -1,
                replicaNodes: log.replicas, isrNodes: log.replicas.filter(isUp), offlineReplicas: log.replicas.filter { !isUp($0) })
        }
        return .init(errorCode: 0, name: name, topicId: topic.id, isInternal: false, partitions: partitions)
    }

    static func errorResponse(to request: MetadataRequest, code: KafkaErrorCode, version: Int16) -> MetadataResponse {
        MetadataResponse(topics: (request.topics ?? []).map { .init(errorCode: code.rawValue, name: $0.name) })
    }
}
