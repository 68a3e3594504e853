import KafkaProtocol
import NIOCore

/// DescribeConfigs (key 32), v0–4, for topics and brokers. A topic is described with every config
/// FakeKafka knows: its overrides as DYNAMIC_TOPIC_CONFIG, the rest as Kafka's defaults (DEFAULT_CONFIG,
/// `is_default`). A broker answers the few settings the cluster really has and its dynamic
/// overrides (DYNAMIC_BROKER_CONFIG, or DYNAMIC_DEFAULT_BROKER_CONFIG for cluster-wide ones). Errors are per resource,
/// as in Kafka, so one unknown topic does not fail the others. Synonyms are not listed.
enum DescribeConfigsAPI: APIHandler {
    static let apiKey = ApiKey.describeConfigs

    static func handle(_ request: DescribeConfigsRequest, context: RequestContext) -> EventLoopFuture<DescribeConfigsResponse?> {
        let config = context.core.configuration
        let results = context.core.withState { state, _ in
            request.resources.map { resource -> DescribeConfigsResponse.DescribeConfigsResult in
                func fail(_ code: KafkaErrorCode, _ message: String) -> DescribeConfigsResponse.DescribeConfigsResult {
                    .init(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName)
                }
                switch ConfigResourceType(rawValue: resource.resourceType) {
                case .topic?:
                    guard let topic = state.topics[resource.resourceName] else {
                        return fail(.unknownTopicOrPartition, "The topic '\(resource.resourceName)' does not exist.")
                    }
                    return .init(errorCode: 0, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName,
                                 configs: TopicConfigs.describe(topic.configs, keys: resource.configurationKeys))
                case .broker?:
                    // An empty name asks for the cluster-wide defaults, which here are the same.
                    if let (code, message) = state.brokerResourceProblem(resource.resourceName) { return fail(code, message) }
                    let brokerId = resource.resourceName.isEmpty ? String(context.broker) : resource.resourceName
                    let settings: [(String, String, ConfigType, readOnly: Bool)] = [
                        ("auto.create.topics.enable", String(config.autoCreateTopics), .boolean, true),
                        ("broker.id", brokerId, .int, true),
                        ("default.replication.factor", "1", .int, true),
                        ("num.partitions", String(config.defaultPartitions), .int, true),
                    ]
                    let wanted = resource.configurationKeys.map(Set.init)
                    let fixed = settings.filter { wanted?.contains($0.0) ?? true }.map {
                        DescribeConfigsResponse.DescribeConfigsResourceResult(
                            name: $0.0, value: $0.1, readOnly: $0.readOnly, isDefault: false,
                            configSource: ConfigSource.staticBrokerConfig.rawValue, configType: $0.2.rawValue, documentation: nil)
                    }
                    let dynamic = state.dynamicBrokerConfigs(resource.resourceName).filter { wanted?.contains($0.name) ?? true }.sorted { $0.name < $1.name }.map {
                        DescribeConfigsResponse.DescribeConfigsResourceResult(
                            name: $0.name, value: $0.value, readOnly: false, isDefault: false,
                            configSource: $0.source.rawValue, configType: ConfigType.string.rawValue, documentation: nil)
                    }
                    return .init(errorCode: 0, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName,
                                 configs: fixed + dynamic)
                case nil:
                    return fail(.invalidRequest, "Resource type \(resource.resourceType) is not described by FakeKafka (topics: 2, brokers: 4).")
                }
            }
        }
        return context.answer(DescribeConfigsResponse(results: results))
    }

    static func errorResponse(to request: DescribeConfigsRequest, code: KafkaErrorCode, version: Int16) -> DescribeConfigsResponse {
        DescribeConfigsResponse(results: request.resources.map {
            .init(errorCode: code.rawValue, errorMessage: code.name, resourceType: $0.resourceType, resourceName: $0.resourceName)
        })
    }
}
