import KafkaProtocol
import NIOCore

/// CreateTopics (key 19), v2–4. Validates the name, partition count and replication factor (at
/// most the number of brokers; data is kept once whatever the factor, but Metadata reports that
/// many replicas), or a replica assignment instead of both (its partitions 0…n-1 on known
/// brokers, each led by its first broker, reported with exactly those replicas).
/// `validateOnly` checks without creating. Topic configs are checked as AlterConfigs checks them
/// and kept for DescribeConfigs.
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
                if !topic.assignments.isEmpty {
                    return createAssigned(topic, validateOnly: request.validateOnly, state: &state, fail: fail)
                }
                guard partitions > 0 else { return fail(.invalidPartitions, "Number of partitions must be larger than 0.") }
                guard topic.replicationFactor == -1 || (topic.replicationFactor > 0 && Int(topic.replicationFactor) <= state.brokers.count) else {
                    return fail(.invalidReplicationFactor, "Replication factor \(topic.replicationFactor) is not within 1...\(state.brokers.count).")
                }
                let configs: [String: String]
                switch validatedConfigs(topic) {
                case .success(let valid): configs = valid
                case .failure(let problem): return fail(problem.code, problem.message)
                }
                if !request.validateOnly {
                    state.createTopic(topic.name, partitions: partitions, replicationFactor: Int(max(1, topic.replicationFactor)), configs: configs)
                }
                return .init(name: topic.name, errorCode: 0)
            }
        }
        return context.answer(CreateTopicsResponse(topics: results))
    }

    struct ConfigProblem: Error {
        var code: KafkaErrorCode
        var message: String
    }

    /// The topic's configs, checked as AlterConfigs checks them.
    private static func validatedConfigs(_ topic: CreateTopicsRequest.CreatableTopic) -> Result<[String: String], ConfigProblem> {
        var configs: [String: String] = [:]
        for config in topic.configs {
            if let (code, message) = TopicConfigs.problem(name: config.name, value: config.value) { return .failure(ConfigProblem(code: code, message: message)) }
            configs[config.name] = config.value
        }
        return .success(configs)
    }

    /// A topic created from a replica assignment, with Kafka's refusals.
    private static func createAssigned(_ topic: CreateTopicsRequest.CreatableTopic, validateOnly: Bool, state: inout ClusterState,
                                       fail: (KafkaErrorCode, String) -> CreateTopicsResponse.CreatableTopicResult) -> CreateTopicsResponse.CreatableTopicResult {
        guard topic.numPartitions == -1, topic.replicationFactor == -1 else {
            return fail(.invalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
        }
        let assignments = topic.assignments.sorted { $0.partitionIndex < $1.partitionIndex }
        guard assignments.map(\.partitionIndex) == Array(0..<Int32(assignments.count)) else {
            return fail(.invalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence, given \(assignments.map(\.partitionIndex)).")
        }
        let known = Set(state.brokers.map(\.id))
        for assignment in assignments {
            guard !assignment.brokerIds.isEmpty else {
                return fail(.invalidReplicaAssignment, "The replica assignment of partition \(assignment.partitionIndex) is empty.")
            }
            guard Set(assignment.brokerIds).count == assignment.brokerIds.count else {
                return fail(.invalidReplicaAssignment, "Duplicate brokers not allowed in replica assignment: \(assignment.brokerIds) for partition \(assignment.partitionIndex).")
            }
            guard assignment.brokerIds.allSatisfy(known.contains) else {
                return fail(.invalidReplicaAssignment, "Unknown broker(s) in the replica assignment \(assignment.brokerIds) of partition \(assignment.partitionIndex); the brokers are \(known.sorted()).")
            }
        }
        let configs: [String: String]
        switch validatedConfigs(topic) {
        case .success(let valid): configs = valid
        case .failure(let problem): return fail(problem.code, problem.message)
        }
        if !validateOnly { state.createTopic(topic.name, replicas: assignments.map(\.brokerIds), configs: configs) }
        return .init(name: topic.name, errorCode: 0)
    }

    static func errorResponse(to request: CreateTopicsRequest, code: KafkaErrorCode, version: Int16) -> CreateTopicsResponse {
        CreateTopicsResponse(topics: request.topics.map { .init(name: $0.name, errorCode: code.rawValue, errorMessage: code.name) })
    }
}
