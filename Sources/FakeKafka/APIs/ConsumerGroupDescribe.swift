import KafkaProtocol
import NIOCore

/// ConsumerGroupDescribe (key 69), v0: KIP-848 consumer groups with their epochs, assignor, and
/// each member's subscription, current and target assignment. A classic group or an unknown id
/// is GROUP_ID_NOT_FOUND, as in Kafka (admin clients then try DescribeGroups).
enum ConsumerGroupDescribeAPI: APIHandler {
    static let apiKey = ApiKey.consumerGroupDescribe

    static func handle(_ request: ConsumerGroupDescribeRequest, context: RequestContext) -> EventLoopFuture<ConsumerGroupDescribeResponse?> {
        let groups = context.core.withState { state, _ in
            let topics = state.topicCatalog
            return request.groupIds.map { id -> ConsumerGroupDescribeResponse.DescribedGroup in
                if let code = state.coordinatorError(group: id, broker: context.broker) {
                    return .init(errorCode: code.rawValue, errorMessage: code.name, groupId: id)
                }
                guard let group = state.modernGroups[id] else {
                    let reason = state.groups[id] == nil ? "not found" : "is not a consumer group"
                    return .init(errorCode: KafkaErrorCode.groupIdNotFound.rawValue, errorMessage: "Group \(id) \(reason).", groupId: id)
                }
                func assignment(_ tps: Set<TopicPartition>) -> ConsumerGroupDescribeResponse.Assignment {
                    .init(topicPartitions: Dictionary(grouping: tps, by: \.topic).sorted { $0.key < $1.key }.map { name, tps in
                        .init(topicId: topics[name]?.id ?? .zero, topicName: name, partitions: tps.map(\.partition).sorted())
                    })
                }
                return .init(errorCode: 0, groupId: id, groupState: group.state.rawValue, groupEpoch: group.groupEpoch,
                             assignmentEpoch: group.assignmentEpoch, assignorName: group.assignorName,
                             members: group.members.values.sorted { $0.id < $1.id }.map { m in
                                 .init(memberId: m.id, instanceId: m.instanceId, rackId: m.rackId, memberEpoch: m.epoch,
                                       clientId: m.clientId, clientHost: m.clientHost, subscribedTopicNames: m.subscribedTopicNames,
                                       subscribedTopicRegex: m.subscribedTopicRegex, assignment: assignment(m.assigned),
                                       targetAssignment: assignment(group.target[m.id] ?? []))
                             })
            }
        }
        return context.answer(ConsumerGroupDescribeResponse(groups: groups))
    }

    static func errorResponse(to request: ConsumerGroupDescribeRequest, code: KafkaErrorCode, version: Int16) -> ConsumerGroupDescribeResponse {
        ConsumerGroupDescribeResponse(groups: request.groupIds.map { .init(errorCode: code.rawValue, errorMessage: code.name, groupId: $0) })
    }
}
