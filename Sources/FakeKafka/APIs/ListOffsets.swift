import KafkaProtocol
import NIOCore

/// ListOffsets (key 2), v0–9. Timestamp -1 is the log end (the high watermark, or for isolation
/// level READ_COMMITTED, v2+, the last stable offset), -2 the log start, -3 (v7+, KIP-734) the
/// record with the largest timestamp, -4 (v8+, the earliest local offset) the log start too, as
/// nothing is tiered, and -5 (v9+, the latest tiered offset) none; any other value the first
/// record at or after it (-1/-1 when there is none). v0 answers in its old style, a list of offsets.
enum ListOffsetsAPI: APIHandler {
    static let apiKey = ApiKey.listOffsets

    static func handle(_ request: ListOffsetsRequest, context: RequestContext) -> EventLoopFuture<ListOffsetsResponse?> {
        let version = context.version
        let logger = context.core.logger
        let topics = context.core.withState { state, _ in
            request.topics.map { topic in
                ListOffsetsResponse.ListOffsetsTopicResponse(name: topic.name, partitions: topic.partitions.map { p in
                    let tp = TopicPartition(topic.name, p.partitionIndex)
                    func answer(_ code: KafkaErrorCode, offset: Int64 = -1, timestamp: Int64 = -1) -> ListOffsetsResponse.ListOffsetsPartitionResponse {
                        .init(partitionIndex: p.partitionIndex, errorCode: code.rawValue,
                              oldStyleOffsets: version == 0 && offset >= 0 ? [offset] : [], timestamp: timestamp, offset: offset, leaderEpoch: -1)
                    }
                    guard let log = state.partition(tp) else { return answer(.unknownTopicOrPartition) }
                    guard log.leader == context.broker else { return answer(.notLeaderOrFollower) }
                    if let code = context.partitionFault(.listOffsets, tp, state: &state) { return answer(code) }
                    switch p.timestamp {
                    case -1:
                        let readCommitted = request.isolationLevel == IsolationLevel.readCommitted.rawValue
                        return answer(.none, offset: readCommitted ? log.lastStableOffset : log.highWatermark)
                    case -2, -4: return answer(.none, offset: log.logStartOffset)
                    case -5: return answer(.none)
                    default:
                        do {
                            let record = p.timestamp == -3 ? try log.maxTimestampRecord() : try log.offset(forTimestamp: p.timestamp)
                            guard let found = record else { return answer(.none) }
                            return answer(.none, offset: found.offset, timestamp: found.timestamp)
                        } catch {
                            logger.error("cannot search \(tp) by timestamp: \(error)")
                            return answer(.unknownServerError)
                        }
                    }
                })
            }
        }
        return context.answer(ListOffsetsResponse(topics: topics))
    }

    static func errorResponse(to request: ListOffsetsRequest, code: KafkaErrorCode, version: Int16) -> ListOffsetsResponse {
        ListOffsetsResponse(topics: request.topics.map { t in
            .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue, offset: -1, leaderEpoch: -1) })
        })
    }
}
