import KafkaProtocol
import NIOCore

/// CreateTopics (key 19), v2–4. Validates the name, partition count and replication factor (at
/// most the number of brokers; data is kept once whatever the factor). `validateOnly` checks
/// without creating. Topic configs are checked as AlterConfigs checks them and kept for
/// DescribeConfigs.
enum CreateTopicsAPI: APIHandler {
    static let apiKey = ApiKey.createTopics

    static func handle(_ request: CreateTopicsRequest, context: RequestContext) -> EventLoopFuture<CreateTopicsResponse?> {
        let defaultPartitions = context.core.configuration.defaultPartitions
        let results = context.core.withState { state, _ in
            request.topics.map { topic -> CreateTopicsResponse.CreatableTopicResult in
                func fail(_ code: KafkaErrorCode, _ message: String) -> CreateTopicsResponse.CreatableTopicResult {
                    .init(name: topic.name, errorCode: code.rawValue, errorMessage: message)
                }
                let partitions = topic.numPartitions == -1 ? defaultPartitions : topic.numPartitions
                guard ClusterState.isValidTopicName(topic.name) else { return fail(.invalidTopicException, "Topic name '\(topic.name)' is illegal") }
                guard state.topics[topic.name] == nil else { return fail(.topicAlreadyExists, "Topic '\(topic.name)' already exists.") }
                guard partitions > 0 else { return fail(.invalidPartitions, "Number of partitions must be larger than 0.") }
                guard topic.replicationFactor == -1 || (topic.replicationFactor > 0 && Int(topic.replicationFactor) <= state.brokers.count) else {
                    return fail(.invalidReplicationFactor, "Replication factor \(topic.replicationFactor) is not within 1...\(state.brokers.count).")
                }
                var configs: [String: String] = [:]
                for config in topic.configs {
                    if let (code, message) = TopicConfigs.problem(name: config.name, value: config.value) { return fail(code, message) }
                    configs[config.name] = config.value
                }
                if !request.validateOnly { state.createTopic(topic.name, partitions: partitions, configs: configs) }
                return .init(name: topic.name, errorCode: 0)
            }
        }
        return context.answer(CreateTopicsResponse(topics: results))
    }

    static func errorResponse(to request: CreateTopicsRequest, code: KafkaErrorCode, version: Int16) -> CreateTopicsResponse {
        CreateTopicsResponse(topics: request.topics.map { .init(name: $0.name, errorCode: code.rawValue, errorMessage: code.name) })
    }
}
