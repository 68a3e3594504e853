import Foundation
import KafkaProtocol
import NIOCore

/// Produce (key 0), v0–11. Only record batches v2 (magic 2) are stored; the legacy message sets
/// of magic 0 and 1 get UNSUPPORTED_FOR_MESSAGE_FORMAT. The range starts at 0 because librdkafka
/// up to 2.11 compresses with gzip, snappy or lz4 only when it overlaps [0, 0]. Every batch's CRC is checked before anything
/// is appended; a partition's batches are all appended or none are. acks=0 gets no response;
/// acks=1 and acks=all are the same with one replica. Idempotent producers are checked per
/// partition: a retried batch is answered with its original offset and not appended again, and a
/// gap in sequence numbers is OUT_OF_ORDER_SEQUENCE_NUMBER. Transactional batches are accepted
/// from the current epoch of their transactional id, for partitions added to its open
/// transaction; their first offset holds back the partition's last stable offset until EndTxn.
/// Control batches are the coordinator's alone: a client sending one gets INVALID_RECORD. So does
/// a batch with keyless records for a compacted topic, with a record error per keyless record
/// (KIP-467), as Kafka answers.
enum ProduceAPI: APIHandler {
    static let apiKey = ApiKey.produce

    static func handle(_ request: ProduceRequest, context: RequestContext) -> EventLoopFuture<ProduceResponse?> {
        // Validation (CRC over every byte) happens before taking the lock.
        let split: [[TopicPartition: Result<[(header: RecordBatchHeader, bytes: ByteBuffer)], any Error>]] = request.topicData.map { topic in
            Dictionary(uniqueKeysWithValues: topic.partitionData.map { p in
                (TopicPartition(topic.name, p.index), Result { try RecordBatch.split(p.records ?? ByteBuffer()) })
            })
        }
        let logger = context.core.logger
        let responses = context.core.withState { state, effects in
            zip(request.topicData, split).map { topic, batchesByPartition in
                ProduceResponse.TopicProduceResponse(name: topic.name, partitionResponses: topic.partitionData.map { p in
                    let tp = TopicPartition(topic.name, p.index)
                    func fail(_ code: KafkaErrorCode, _ message: String? = nil) -> ProduceResponse.PartitionProduceResponse {
                        .init(index: p.index, errorCode: code.rawValue, baseOffset: -1, logStartOffset: -1, errorMessage: message)
                    }
                    guard let log = state.partition(tp) else { return fail(.unknownTopicOrPartition) }
                    guard log.leader == context.broker else { return fail(.notLeaderOrFollower) }
                    if let code = context.partitionFault(.produce, tp, state: &state) { return fail(code, "injected fault") }
                    let batches: [(header: RecordBatchHeader, bytes: ByteBuffer)]
                    switch batchesByPartition[tp]! {
                    case .success(let b): batches = b
                    case .failure(RecordBatch.Failure.legacyMagic(let magic)):
                        return fail(.unsupportedForMessageFormat, "message format v\(magic) is not supported; use record batches v2")
                    case .failure(let error):
                        logger.warning("rejecting produce to \(tp): \(error)")
                        return fail(.corruptMessage, "\(error)")
                    }
                    guard !batches.isEmpty else { return fail(.corruptMessage, "no record batch") }
                    let compacted = state.isCompacted(tp.topic)
                    for (i, batch) in batches.enumerated() {
                        if batch.header.isControl { return fail(.invalidRecord, "batch \(i) of \(tp) is a control batch") }
                        if compacted, let keyless = keylessRecords(batch.bytes), !keyless.isEmpty {
                            // KIP-467: the record errors name each refused record, so the client
                            // fails those and can retry the rest of the batch.
                            let message = "Compacted topic cannot accept message without key in topic partition \(tp)."
                            return .init(index: p.index, errorCode: KafkaErrorCode.invalidRecord.rawValue, baseOffset: -1, logStartOffset: -1,
                                         recordErrors: keyless.map { .init(batchIndex: $0, batchIndexErrorMessage: message) },
                                         errorMessage: message)
                        }
                        if batch.header.isTransactional,
                           let (code, message) = state.checkTransactionalBatch(batch.header, transactionalId: request.transactionalId, to: tp) {
                            logger.info("rejecting transactional produce to \(tp): \(message)")
                            return fail(code, message)
                        }
                    }
                    var firstOffset: Int64 = -1
                    // A LogAppendTime topic keeps the broker's time, not the producer's (Kafka
                    // rewrites the batch's timestamp type and max timestamp, then its CRC).
                    let appendTime: Int64? = state.topics[tp.topic]?.configs["message.timestamp.type"] == "LogAppendTime"
                        ? Int64(Date().timeIntervalSince1970 * 1000) : nil
                    let stamped = appendTime.map { now in batches.map { RecordBatch.stampingLogAppendTime($0, now) } } ?? batches
                    for (i, batch) in stamped.enumerated() {
                        switch state.append(batch, to: tp) {
                        case .success(let offset):
                            if i == 0 { firstOffset = offset }
                            if batch.header.isTransactional { state.noteTransactionalAppend(producerId: batch.header.producerId, offset: offset, to: tp) }
                        case .failure(let code): return fail(code, "\(code.name) at batch \(i) of \(tp)")
                        }
                    }
                    state.wakeFetchers(for: tp, effects: &effects)
                    return .init(index: p.index, errorCode: 0, baseOffset: firstOffset, logAppendTimeMs: appendTime ?? -1,
                                 logStartOffset: state.partition(tp)?.logStartOffset ?? 0)
                })
            }
        }
        // acks=0: the client expects no answer at all.
        if request.acks == 0 { return context.eventLoop.makeSucceededFuture(nil) }
        return context.answer(ProduceResponse(responses: responses))
    }

    static func errorResponse(to request: ProduceRequest, code: KafkaErrorCode, version: Int16) -> ProduceResponse {
        ProduceResponse(responses: request.topicData.map { t in
            .init(name: t.name, partitionResponses: t.partitionData.map {
                .init(index: $0.index, errorCode: code.rawValue, baseOffset: -1, logStartOffset: -1, errorMessage: code.name)
            })
        })
    }
}

/// The indexes (within the batch) of the records that have no key; nil when the batch cannot be
/// read, which the append's own checks report.
private func keylessRecords(_ batch: ByteBuffer) -> [Int32]? {
    guard let records = try? RecordBatch.records(in: batch) else { return nil }
    return records.enumerated().filter { $0.element.key == nil }.map { Int32($0.offset) }
}

extension ClusterState {
    /// Whether the topic's cleanup.policy includes compact: its records must all have keys.
    func isCompacted(_ topic: String) -> Bool {
        guard let policy = topics[topic]?.configs["cleanup.policy"] else { return false }
        return TopicConfigs.listItems(policy).contains("compact")
    }

    /// Appends one validated batch, applying the idempotent-producer checks. Returns the batch's
    /// base offset (the original one for a retried duplicate).
    mutating func append(_ batch: (header: RecordBatchHeader, bytes: ByteBuffer), to tp: TopicPartition) -> Result<Int64, KafkaErrorCode> {
        let h = batch.header
        guard h.producerId >= 0 else { return .success(appendUnchecked(batch, to: tp)) }
        if let epoch = producerEpochs[h.producerId], h.producerEpoch < epoch { return .failure(.invalidProducerEpoch) }
        let lastSequence = h.baseSequence &+ h.lastOffsetDelta
        if var known = producerPartitions[h.producerId]?[tp], known.epoch == h.producerEpoch {
            if let duplicate = known.recent.first(where: { $0.first == h.baseSequence && $0.last == lastSequence }) {
                return .success(duplicate.baseOffset)
            }
            let expected = known.lastSequence == Int32.max ? 0 : known.lastSequence + 1
            guard h.baseSequence == expected else { return .failure(.outOfOrderSequenceNumber) }
            let offset = appendUnchecked(batch, to: tp)
            known.lastSequence = lastSequence
            known.recent.append((h.baseSequence, lastSequence, offset))
            if known.recent.count > 5 { known.recent.removeFirst() }
            producerPartitions[h.producerId]![tp] = known
            return .success(offset)
        }
        // A new producer (or a new epoch) on this partition starts at sequence 0.
        guard h.baseSequence == 0 else { return .failure(.outOfOrderSequenceNumber) }
        let offset = appendUnchecked(batch, to: tp)
        producerPartitions[h.producerId, default: [:]][tp] = ProducerPartitionState(
            epoch: h.producerEpoch, lastSequence: lastSequence, recent: [(h.baseSequence, lastSequence, offset)])
        return .success(offset)
    }

    mutating func appendUnchecked(_ batch: (header: RecordBatchHeader, bytes: ByteBuffer), to tp: TopicPartition) -> Int64 {
        topics[tp.topic]!.partitions[Int(tp.partition)].append(batch.bytes, header: batch.header)
    }
}
