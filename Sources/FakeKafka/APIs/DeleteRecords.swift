import KafkaProtocol
import NIOCore

/// DeleteRecords (key 21), v0–2. Moves each partition's log start offset up to the offset given
/// (-1: the high watermark) on its leader, as Kafka does: an offset past the high watermark is
/// OFFSET_OUT_OF_RANGE, a topic whose cleanup policy lacks "delete" POLICY_VIOLATION. The answer's
/// low watermark is the log start offset afterwards; ListOffsets earliest and Fetch follow it.
enum DeleteRecordsAPI: APIHandler {
    static let apiKey = ApiKey.deleteRecords

    static func handle(_ request: DeleteRecordsRequest, context: RequestContext) -> EventLoopFuture<DeleteRecordsResponse?> {
        let topics = context.core.withState { state, _ in
            request.topics.map { topic in
                DeleteRecordsResponse.DeleteRecordsTopicResult(name: topic.name, partitions: topic.partitions.map { p in
                    let tp = TopicPartition(topic.name, p.partitionIndex)
                    if let log = state.partition(tp), log.leader == context.broker,
                       let code = context.partitionFault(.deleteRecords, tp, state: &state) {
                        return .init(partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: code.rawValue)
                    }
                    switch state.deleteRecords(tp, before: p.offset, onBroker: context.broker) {
                    case .success(let low): return .init(partitionIndex: p.partitionIndex, lowWatermark: low, errorCode: 0)
                    case .failure(let refusal): return .init(partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: refusal.code.rawValue)
                    }
                })
            }
        }
        return context.answer(DeleteRecordsResponse(topics: topics))
    }

    static func errorResponse(to request: DeleteRecordsRequest, code: KafkaErrorCode, version: Int16) -> DeleteRecordsResponse {
        DeleteRecordsResponse(topics: request.topics.map { t in
            .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, lowWatermark: -1, errorCode: code.rawValue) })
        })
    }
}

/// Why records of a partition cannot be deleted up to an offset.
struct DeleteRecordsRefusal: Error {
    var code: KafkaErrorCode
    var reason: String
}

extension ClusterState {
    /// Moves the log start offset of `tp` up to `offset` (-1: the high watermark) and returns it;
    /// `broker` nil skips the leader check (the Swift API).
    mutating func deleteRecords(_ tp: TopicPartition, before offset: Int64, onBroker broker: Int32?) -> Result<Int64, DeleteRecordsRefusal> {
        guard let log = partition(tp) else { return .failure(.init(code: .unknownTopicOrPartition, reason: "no partition \(tp)")) }
        if let broker, log.leader != broker {
            return .failure(.init(code: .notLeaderOrFollower, reason: "broker \(broker) does not lead \(tp) (broker \(log.leader) does)"))
        }
        let policy = TopicConfigs.listItems(topics[tp.topic]?.configs["cleanup.policy"] ?? "delete")
        guard policy.contains("delete") else {
            return .failure(.init(code: .policyViolation, reason: "records of \(tp) cannot be deleted: its cleanup.policy is \(policy.joined(separator: ","))"))
        }
        let target = offset == -1 ? log.highWatermark : offset
        guard target >= 0, target <= log.highWatermark else {
            return .failure(.init(code: .offsetOutOfRange, reason: "offset \(offset) of \(tp) is outside 0...\(log.highWatermark) (its high watermark)"))
        }
        topics[tp.topic]!.partitions[Int(tp.partition)].deleteRecords(before: target)
        return .success(topics[tp.topic]!.partitions[Int(tp.partition)].logStartOffset)
    }
}
