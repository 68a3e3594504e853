import KafkaProtocol
import NIOCore

/// OffsetFetch (key 9), v1–7. -1 for partitions without a committed offset; a null topic list
/// (v2+) asks for everything the group committed. With RequireStable (v7, read_committed
/// consumers), a partition whose offset an open transaction is committing is
/// UNSTABLE_OFFSET_COMMIT until that transaction ends, as in Kafka.
enum OffsetFetchAPI: APIHandler {
    static let apiKey = ApiKey.offsetFetch

    static func handle(_ request: OffsetFetchRequest, context: RequestContext) -> EventLoopFuture<OffsetFetchResponse?> {
        let response = context.core.withState { state, _ -> OffsetFetchResponse in
            if let code = state.coordinatorError(group: request.groupId, broker: context.broker) {
                return errorResponse(to: request, code: code, version: context.version)
            }
            let committed = state.offsets[request.groupId] ?? [:]
            let wanted: [(String, [Int32])] = request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
                ?? Dictionary(grouping: committed.keys, by: \.topic).sorted { $0.key < $1.key }.map { ($0.key, $0.value.map(\.partition).sorted()) }
            var pending: Set<TopicPartition> = []
            if request.requireStable {
                for producer in state.transactions.producers.values where producer.phase == .ongoing {
                    pending.formUnion(producer.pendingOffsets[request.groupId]?.keys.map { $0 } ?? [])
                }
            }
            return OffsetFetchResponse(topics: wanted.map { topic, partitions in
                .init(name: topic, partitions: partitions.map { p in
                    if pending.contains(TopicPartition(topic, p)) {
                        return .init(partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: KafkaErrorCode.unstableOffsetCommit.rawValue)
                    }
                    let c = committed[TopicPartition(topic, p)]
                    return .init(partitionIndex: p, committedOffset: c?.offset ?? -1, committedLeaderEpoch: c?.leaderEpoch ?? -1, metadata: c?.metadata ?? "", errorCode: 0)
                })
            }, errorCode: 0)
        }
        return context.answer(response)
    }

    static func errorResponse(to request: OffsetFetchRequest, code: KafkaErrorCode, version: Int16) -> OffsetFetchResponse {
        OffsetFetchResponse(topics: (request.topics ?? []).map { t in
            .init(name: t.name, partitions: t.partitionIndexes.map { .init(partitionIndex: $0, committedOffset: -1, errorCode: code.rawValue) })
        }, errorCode: code.rawValue)
    }
}
