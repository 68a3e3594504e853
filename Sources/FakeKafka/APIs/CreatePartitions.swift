import KafkaProtocol
import NIOCore

/// CreatePartitions (key 37), v0–3. Grows a topic to `count` partitions, as Kafka does: never
/// shrinks it, places the new partitions' replicas on the brokers given (led by the first of each
/// assignment) or round-robin with the topic's replication factor, and with `validateOnly` only
/// checks. Each refusal carries Kafka's
/// error code and message.
enum CreatePartitionsAPI: APIHandler {
    static let apiKey = ApiKey.createPartitions

    static func handle(_ request: CreatePartitionsRequest, context: RequestContext) -> EventLoopFuture<CreatePartitionsResponse?> {
        let results = context.core.withState { state, _ in
            request.topics.map { topic -> CreatePartitionsResponse.CreatePartitionsTopicResult in
                func fail(_ code: KafkaErrorCode, _ message: String) -> CreatePartitionsResponse.CreatePartitionsTopicResult {
                    .init(name: topic.name, errorCode: code.rawValue, errorMessage: message)
                }
                guard request.topics.filter({ $0.name == topic.name }).count == 1 else { return fail(.invalidRequest, "Duplicate topic in request.") }
                guard let current = state.topics[topic.name]?.partitions.count else {
                    return fail(.unknownTopicOrPartition, "The topic '\(topic.name)' does not exist.")
                }
                let added = Int(topic.count) - current
                if added < 0 { return fail(.invalidPartitions, "Topic currently has \(current) partitions, which is higher than the requested \(topic.count).") }
                if added == 0 { return fail(.invalidPartitions, "Topic already has \(current) partitions.") }
                var replicas: [[Int32]]?
                if let assignments = topic.assignments {
                    guard assignments.count == added else {
                        return fail(.invalidReplicaAssignment, "Increasing the number of partitions by \(added) but \(assignments.count) assignments provided.")
                    }
                    let known = Set(state.brokers.map(\.id))
                    let unknown = Set(assignments.flatMap(\.brokerIds)).subtracting(known).sorted()
                    guard unknown.isEmpty else {
                        return fail(.invalidReplicaAssignment, "Unknown broker(s) in replica assignment: \(unknown.map(String.init).joined(separator: ", ")).")
                    }
                    guard assignments.allSatisfy({ !$0.brokerIds.isEmpty }) else { return fail(.invalidReplicaAssignment, "Empty replica assignment.") }
                    if let duplicated = assignments.first(where: { Set($0.brokerIds).count != $0.brokerIds.count }) {
                        return fail(.invalidReplicaAssignment, "Duplicate brokers not allowed in replica assignment: \(duplicated.brokerIds).")
                    }
                    replicas = assignments.map(\.brokerIds)
                }
                if !request.validateOnly { state.addPartitions(to: topic.name, count: added, replicas: replicas) }
                return .init(name: topic.name, errorCode: 0)
            }
        }
        return context.answer(CreatePartitionsResponse(results: results))
    }

    static func errorResponse(to request: CreatePartitionsRequest, code: KafkaErrorCode, version: Int16) -> CreatePartitionsResponse {
        CreatePartitionsResponse(results: request.topics.map { .init(name: $0.name, errorCode: code.rawValue, errorMessage: code.name) })
    }
}

extension ClusterState {
    /// Appends `count` empty partitions with `replicas`, or else led round-robin after the last
    /// one with as many replicas as the topic's first partition.
    mutating func addPartitions(to topic: String, count: Int, replicas: [[Int32]]?) {
        guard var state = topics[topic] else { return }
        let factor = state.partitions.first?.replicas.count ?? 1
        let last = state.partitions.last?.leader ?? 0
        let lastIndex = Int32(brokers.firstIndex { $0.id == last } ?? 0)
        for i in 0..<count {
            state.partitions.append(PartitionLog(replicas: replicas?[i] ?? spreadReplicas(leader: lastIndex + 1 + Int32(i), count: factor)))
        }
        topics[topic] = state
    }
}
