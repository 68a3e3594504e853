import KafkaProtocol
import NIOCore
import PlantedDefects

/// Fetch (key 1), v4–17 (record batches v2). From v13 topics are named by id (the answer too), and
/// an id that names no topic (one deleted, or re-created under a new id) is UNKNOWN_TOPIC_ID. Returns whole batches from the one containing the fetch offset, at least
/// one batch even when it exceeds the byte limits, with the high watermark, last stable offset
/// and log start offset. READ_COMMITTED (isolation level 1) returns only batches below the last
/// stable offset, with the aborted transactions in the returned range so the client drops their
/// records; control batches (markers) are returned as stored, for clients to skip. When fewer than MinBytes are ready the
/// request waits (long poll) until a produce to one of its partitions or MaxWaitMs. Fetch
/// sessions (v7+) are not offered: the answer's session id is 0, so clients send full fetches.
/// Partitions in error carry an empty record set, never a null one: librdkafka rejects null.
enum FetchAPI: APIHandler {
    static let apiKey = ApiKey.fetch

    static func handle(_ request: FetchRequest, context: RequestContext) -> EventLoopFuture<FetchResponse?> {
        attempt(request, context: context, deadline: .now() + .milliseconds(Int64(max(0, request.maxWaitMs))))
    }

    private static func attempt(_ request: FetchRequest, context: RequestContext, deadline: NIODeadline) -> EventLoopFuture<FetchResponse?> {
        let core = context.core
        let (response, waiter) = core.withState { state, _ -> (FetchResponse, (Int, EventLoopFuture<Void>)?) in
            let (response, bytes, hadError) = read(request, context: context, state: &state)
            guard bytes < Int(request.minBytes), !hadError, NIODeadline.now() < deadline else { return (response, nil) }
            let promise = context.eventLoop.makePromise(of: Void.self)
            let id = state.nextWaiterId
            state.nextWaiterId += 1
            let partitions = request.topics.flatMap { t in t.partitions.map { TopicPartition(state.fetchedTopicName(t), $0.partition) } }
            state.fetchWaiters[id] = FetchWaiter(partitions: Set(partitions), promise: promise)
            return (response, (id, promise.futureResult))
        }
        guard let (id, woken) = waiter else { return context.answer(response) }
        context.eventLoop.scheduleTask(deadline: deadline) {
            core.withState { state, effects in
                if let w = state.fetchWaiters.removeValue(forKey: id) { effects.append { w.promise.succeed() } }
            }
        }
        return woken.flatMap { attempt(request, context: context, deadline: deadline) }
    }

    /// Builds the answer from the logs as they are now, with the number of record bytes in it.
    private static func read(_ request: FetchRequest, context: RequestContext, state: inout ClusterState) -> (FetchResponse, Int, Bool) {
        var total = 0
        var hadError = false
        let maxBytes = Int(request.maxBytes <= 0 ? Int32.max : request.maxBytes)
        let readCommitted = request.isolationLevel == IsolationLevel.readCommitted.rawValue
        let stale = context.core.configuration.plantedDefects.contains(.staleHighWatermark)
        let topics = request.topics.map { topic in
            let name = state.fetchedTopicName(topic)
            return FetchResponse.FetchableTopicResponse(topic: topic.topic, topicId: topic.topicId, partitions: topic.partitions.map { p in
                let tp = TopicPartition(name, p.partition)
                func fail(_ code: KafkaErrorCode, hwm: Int64 = -1) -> FetchResponse.PartitionData {
                    hadError = true
                    return .init(partitionIndex: p.partition, errorCode: code.rawValue, highWatermark: hwm, lastStableOffset: hwm,
                                 logStartOffset: -1, abortedTransactions: [], records: ByteBuffer())
                }
                guard let log = state.partition(tp) else { return fail(topic.topicId != .zero ? .unknownTopicId : .unknownTopicOrPartition) }
                guard log.leader == context.broker else { return fail(.notLeaderOrFollower) }
                if let code = context.partitionFault(.fetch, tp, state: &state) { return fail(code, hwm: log.highWatermark) }
                guard p.fetchOffset >= log.logStartOffset, p.fetchOffset <= log.highWatermark else {
                    return fail(.offsetOutOfRange, hwm: log.highWatermark)
                }
                let limit = min(Int(max(0, p.partitionMaxBytes)), maxBytes - total)
                var lastStable = log.lastStableOffset
                var highWatermark = log.highWatermark
                var below: Int64? = readCommitted ? lastStable : nil
                if stale {
                    highWatermark = log.staleHighWatermark
                    lastStable = min(lastStable, highWatermark)
                    below = min(below ?? .max, highWatermark)
                }
                let batches = log.read(from: p.fetchOffset, maxBytes: limit, atLeastOne: total == 0, below: below)
                var aborted: [FetchResponse.AbortedTransaction] = []
                if readCommitted, let last = batches.last, let end = try? RecordBatchHeader(peekingAt: last).lastOffset {
                    aborted = log.transactions.aborted(overlapping: p.fetchOffset, end + 1).map {
                        .init(producerId: $0.producerId, firstOffset: $0.firstOffset)
                    }
                }
                var records: ByteBuffer?
                if batches.count == 1 {
                    records = batches[0]
                } else if !batches.isEmpty {
                    var joined = ByteBuffer()
                    joined.reserveCapacity(batches.reduce(0) { $0 + $1.readableBytes })
                    for var b in batches { joined.writeBuffer(&b) }
                    records = joined
                }
                total += records?.readableBytes ?? 0
                return .init(partitionIndex: p.partition, errorCode: 0, highWatermark: highWatermark,
                             lastStableOffset: lastStable, logStartOffset: log.logStartOffset,
                             abortedTransactions: aborted, preferredReadReplica: -1, records: records ?? ByteBuffer())
            })
        }
        return (FetchResponse(errorCode: 0, sessionId: 0, responses: topics), total, hadError)
    }

    static func errorResponse(to request: FetchRequest, code: KafkaErrorCode, version: Int16) -> FetchResponse {
        FetchResponse(responses: request.topics.map { t in
            .init(topic: t.topic, topicId: t.topicId, partitions: t.partitions.map {
                .init(partitionIndex: $0.partition, errorCode: code.rawValue, highWatermark: -1, lastStableOffset: -1,
                      abortedTransactions: [], records: ByteBuffer())
            })
        })
    }
}

extension ClusterState {
    /// The topic a Fetch names: by id from v13 (an unknown id gives a name no topic has, so its
    /// partitions are answered as missing), by name before.
    func fetchedTopicName(_ topic: FetchRequest.FetchTopic) -> String {
        guard topic.topicId != .zero else { return topic.topic }
        return topicName(id: topic.topicId) ?? ""
    }
}
