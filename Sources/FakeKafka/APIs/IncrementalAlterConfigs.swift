import KafkaProtocol
import NIOCore

/// IncrementalAlterConfigs (key 44), v0–1. For topics: SET and DELETE (back to the default) of
/// single configs, APPEND and SUBTRACT of elements of list-valued ones. For brokers: SET and
/// DELETE of dynamic overrides (FakeKafka does not know broker config types, so no list edits). As in Kafka, every
/// operation of a resource is checked before any is applied, and `validateOnly` only checks.
enum IncrementalAlterConfigsAPI: APIHandler {
    static let apiKey = ApiKey.incrementalAlterConfigs

    private enum Operation: Int8 {
        case set = 0, delete = 1, append = 2, subtract = 3
    }

    static func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) -> EventLoopFuture<IncrementalAlterConfigsResponse?> {
        let responses = context.core.withState { state, _ in
            request.resources.map { resource -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse in
                func answer(_ code: KafkaErrorCode, _ message: String?) -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse {
                    .init(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName)
                }
                if resource.resourceType == ConfigResourceType.broker.rawValue {
                    if let (code, message) = state.brokerResourceProblem(resource.resourceName) { return answer(code, message) }
                    switch alteredBroker(state.brokerConfigs[resource.resourceName] ?? [:], by: resource.configs) {
                    case .failure(let refusal):
                        return answer(refusal.code, refusal.message)
                    case .success(let configs):
                        if !request.validateOnly { state.brokerConfigs[resource.resourceName] = configs }
                        return answer(.none, nil)
                    }
                }
                if let (code, message) = state.alterableTopic(type: resource.resourceType, name: resource.resourceName) { return answer(code, message) }
                switch altered(state.topics[resource.resourceName]?.configs ?? [:], by: resource.configs) {
                case .failure(let refusal):
                    return answer(refusal.code, refusal.message)
                case .success(let configs):
                    if !request.validateOnly { state.topics[resource.resourceName]?.configs = configs }
                    return answer(.none, nil)
                }
            }
        }
        return context.answer(IncrementalAlterConfigsResponse(responses: responses))
    }

    private struct Refusal: Error {
        let code: KafkaErrorCode
        let message: String
    }

    /// A broker's overrides after SET and DELETE `changes`, or why one of them is refused.
    private static func alteredBroker(_ current: [String: String], by changes: [IncrementalAlterConfigsRequest.AlterableConfig]) -> Result<[String: String], Refusal> {
        if let (code, message) = BrokerConfigs.problem(names: changes.map(\.name)) { return .failure(Refusal(code: code, message: message)) }
        var configs = current
        for change in changes {
            switch Operation(rawValue: change.configOperation) {
            case .set?:
                guard let value = change.value else { return .failure(Refusal(code: .invalidRequest, message: "Null value not supported for broker config: \(change.name)")) }
                configs[change.name] = value
            case .delete?:
                configs[change.name] = nil
            default:
                return .failure(Refusal(code: .invalidConfig, message: "Config operation \(change.configOperation) on broker config \(change.name) is not supported by FakeKafka (SET and DELETE are)"))
            }
        }
        return .success(configs)
    }

    /// The overrides after applying `changes` in order, or why one of them is refused.
    private static func altered(_ current: [String: String], by changes: [IncrementalAlterConfigsRequest.AlterableConfig]) -> Result<[String: String], Refusal> {
        var configs = current
        let names = changes.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            return .failure(Refusal(code: .invalidRequest, message: "Error due to duplicate config keys: \(repeated)"))
        }
        for change in changes {
            guard let definition = TopicConfigs.definitions[change.name] else {
                return .failure(Refusal(code: .invalidConfig, message: "Unknown topic config name: \(change.name)"))
            }
            switch Operation(rawValue: change.configOperation) {
            case .set?:
                if let (code, message) = TopicConfigs.problem(name: change.name, value: change.value) { return .failure(Refusal(code: code, message: message)) }
                configs[change.name] = change.value
            case .delete?:
                configs[change.name] = nil
            case let operation? where definition.type != .list:
                return .failure(Refusal(code: .invalidConfig, message: "Config value \(operation) is not allowed for config key \(change.name) since it does not have a LIST type"))
            case .append?, .subtract?:
                let items = TopicConfigs.listItems(configs[change.name] ?? definition.defaultValue)
                let given = TopicConfigs.listItems(change.value ?? "")
                let result = change.configOperation == Operation.append.rawValue
                    ? items + given.filter { !items.contains($0) }
                    : items.filter { !given.contains($0) }
                let value = result.joined(separator: ",")
                if let (code, message) = TopicConfigs.problem(name: change.name, value: value) { return .failure(Refusal(code: code, message: message)) }
                configs[change.name] = value
            case nil:
                return .failure(Refusal(code: .invalidRequest, message: "Unknown config operation \(change.configOperation) for \(change.name)"))
            }
        }
        return .success(configs)
    }

    static func errorResponse(to request: IncrementalAlterConfigsRequest, code: KafkaErrorCode, version: Int16) -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse(responses: request.resources.map {
            .init(errorCode: code.rawValue, errorMessage: code.name, resourceType: $0.resourceType, resourceName: $0.resourceName)
        })
    }
}
