import KafkaProtocol
import NIOCore

/// AlterConfigs (key 33), v0–2, for topics. Kafka's non-incremental form: the configs sent become
/// the topic's whole set of overrides, so any not sent go back to their defaults. Every value is
/// checked before any is applied, so a refused resource is left as it was; `validateOnly` only
/// checks. For brokers, the configs sent become the broker's (or, for the empty name, the
/// cluster's) dynamic overrides; the settings FakeKafka really has are not dynamic and refused.
enum AlterConfigsAPI: APIHandler {
    static let apiKey = ApiKey.alterConfigs

    static func handle(_ request: AlterConfigsRequest, context: RequestContext) -> EventLoopFuture<AlterConfigsResponse?> {
        let responses = context.core.withState { state, _ in
            request.resources.map { resource -> AlterConfigsResponse.AlterConfigsResourceResponse in
                func answer(_ code: KafkaErrorCode, _ message: String?) -> AlterConfigsResponse.AlterConfigsResourceResponse {
                    .init(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName)
                }
                if resource.resourceType == ConfigResourceType.broker.rawValue {
                    let outcome = state.replaceBrokerConfigs(resource.resourceName, with: resource.configs.map { ($0.name, $0.value) },
                                                             validateOnly: request.validateOnly)
                    return outcome.map { answer($0.0, $0.1) } ?? answer(.none, nil)
                }
                let outcome = state.replaceTopicConfigs(
                    type: resource.resourceType, topic: resource.resourceName,
                    with: resource.configs.map { ($0.name, $0.value) }, validateOnly: request.validateOnly)
                return outcome.map { answer($0.0, $0.1) } ?? answer(.none, nil)
            }
        }
        return context.answer(AlterConfigsResponse(responses: responses))
    }

    static func errorResponse(to request: AlterConfigsRequest, code: KafkaErrorCode, version: Int16) -> AlterConfigsResponse {
        AlterConfigsResponse(responses: request.resources.map {
            .init(errorCode: code.rawValue, errorMessage: code.name, resourceType: $0.resourceType, resourceName: $0.resourceName)
        })
    }
}

extension ClusterState {
    /// Checks that a config resource names an existing topic; the refusal otherwise, in Kafka's words.
    func alterableTopic(type: Int8, name: String) -> (KafkaErrorCode, String)? {
        switch ConfigResourceType(rawValue: type) {
        case .topic?:
            return topics[name] == nil ? (.unknownTopicOrPartition, "The topic '\(name)' does not exist.") : nil
        case .broker?:
            return (.invalidRequest, "Broker configs of FakeKafka are static and cannot be altered (broker '\(name)').")
        case nil:
            return (.invalidRequest, "Resource type \(type) cannot be altered in FakeKafka (topics: 2).")
        }
    }

    /// Makes `configs` a broker resource's dynamic overrides, unless one is refused; returns the refusal.
    mutating func replaceBrokerConfigs(_ name: String, with configs: [(String, String?)], validateOnly: Bool) -> (KafkaErrorCode, String)? {
        if let refusal = brokerResourceProblem(name) ?? BrokerConfigs.problem(names: configs.map(\.0)) { return refusal }
        if let unset = configs.first(where: { $0.1 == nil }) { return (.invalidRequest, "Null value not supported for broker config: \(unset.0)") }
        if !validateOnly { brokerConfigs[name] = Dictionary(configs.map { ($0.0, $0.1!) }, uniquingKeysWith: { $1 }) }
        return nil
    }

    /// Makes `configs` the topic's overrides, unless one is refused; returns the refusal.
    mutating func replaceTopicConfigs(type: Int8, topic: String, with configs: [(String, String?)], validateOnly: Bool) -> (KafkaErrorCode, String)? {
        if let refusal = alterableTopic(type: type, name: topic) { return refusal }
        var replaced: [String: String] = [:]
        for (name, value) in configs {
            if let problem = TopicConfigs.problem(name: name, value: value) { return problem }
            replaced[name] = value
        }
        if !validateOnly { topics[topic]?.configs = replaced }
        return nil
    }
}
