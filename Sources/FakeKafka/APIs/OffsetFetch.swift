import KafkaProtocol
import NIOCore

/// OffsetFetch (key 9), v1–9. -1 for partitions without a committed offset; a null topic list
/// (v2+) asks for everything the group committed. With RequireStable (v7, read_committed
/// consumers), a partition whose offset an open transaction is committing is
/// UNSTABLE_OFFSET_COMMIT until that transaction ends, as in Kafka. v8+ asks for several groups
/// at once; v9 names a KIP-848 member and epoch, which must be current (STALE_MEMBER_EPOCH).
enum OffsetFetchAPI: APIHandler {
    static let apiKey = ApiKey.offsetFetch

    /// One group's answer, whatever the version's shape.
    private struct GroupOffsets {
        var errorCode: KafkaErrorCode = .none
        var topics: [(name: String, partitions: [OffsetFetchResponse.OffsetFetchResponsePartition])] = []
    }

    static func handle(_ request: OffsetFetchRequest, context: RequestContext) -> EventLoopFuture<OffsetFetchResponse?> {
        let version = context.version
        let response = context.core.withState { state, _ -> OffsetFetchResponse in
            if version >= 8 {
                return OffsetFetchResponse(groups: request.groups.map { g in
                    let answer = offsets(of: g.groupId, topics: g.topics.map { $0.map { ($0.name, $0.partitionIndexes) } },
                                         member: version >= 9 ? (g.memberId, g.memberEpoch) : nil,
                                         requireStable: request.requireStable, state: state, broker: context.broker)
                    return .init(groupId: g.groupId, topics: answer.topics.map { t in
                        .init(name: t.name, partitions: t.partitions.map {
                            .init(partitionIndex: $0.partitionIndex, committedOffset: $0.committedOffset, committedLeaderEpoch: $0.committedLeaderEpoch,
                                  metadata: $0.metadata, errorCode: $0.errorCode)
                        })
                    }, errorCode: answer.errorCode.rawValue)
                })
            }
            let answer = offsets(of: request.groupId, topics: request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } },
                                 member: nil, requireStable: request.requireStable, state: state, broker: context.broker)
            if answer.errorCode != .none { return errorResponse(to: request, code: answer.errorCode, version: version) }
            return OffsetFetchResponse(topics: answer.topics.map { .init(name: $0.name, partitions: $0.partitions) }, errorCode: 0)
        }
        return context.answer(response)
    }

    private static func offsets(of groupId: String, topics: [(String, [Int32])]?, member: (id: String?, epoch: Int32)?,
                                requireStable: Bool, state: ClusterState, broker: Int32) -> GroupOffsets {
        if let code = state.coordinatorError(group: groupId, broker: broker) { return GroupOffsets(errorCode: code) }
        if let member, let group = state.modernGroups[groupId] {
            let code = group.validateFetch(memberId: member.id, epoch: member.epoch)
            if code != .none { return GroupOffsets(errorCode: code) }
        }
        let committed = state.offsets[groupId] ?? [:]
        let wanted: [(String, [Int32])] = topics
            ?? Dictionary(grouping: committed.keys, by: \.topic).sorted { $0.key < $1.key }.map { ($0.key, $0.value.map(\.partition).sorted()) }
        var pending: Set<TopicPartition> = []
        if requireStable {
            for producer in state.transactions.producers.values where producer.phase == .ongoing {
                pending.formUnion(producer.pendingOffsets[groupId]?.keys.map { $0 } ?? [])
            }
        }
        return GroupOffsets(topics: wanted.map { topic, partitions in
            (topic, partitions.map { p in
                if pending.contains(TopicPartition(topic, p)) {
                    return .init(partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: KafkaErrorCode.unstableOffsetCommit.rawValue)
                }
                let c = committed[TopicPartition(topic, p)]
                return .init(partitionIndex: p, committedOffset: c?.offset ?? -1, committedLeaderEpoch: c?.leaderEpoch ?? -1, metadata: c?.metadata ?? "", errorCode: 0)
            })
        })
    }

    static func errorResponse(to request: OffsetFetchRequest, code: KafkaErrorCode, version: Int16) -> OffsetFetchResponse {
        if version >= 8 {
            return OffsetFetchResponse(groups: request.groups.map { .init(groupId: $0.groupId, errorCode: code.rawValue) })
        }
        return OffsetFetchResponse(topics: (request.topics ?? []).map { t in
            .init(name: t.name, partitions: t.partitionIndexes.map { .init(partitionIndex: $0, committedOffset: -1, errorCode: code.rawValue) })
        }, errorCode: code.rawValue)
    }
}
