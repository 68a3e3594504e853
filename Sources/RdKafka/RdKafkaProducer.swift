import CRdKafka
import Foundation
import Logging
import Synchronization

/// Where librdkafka put a record.
public struct Delivery: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record's timestamp as the broker keeps it: the producer's CreateTime, or the broker's
    /// own on a LogAppendTime topic; -1: none.
    public var timestamp: Int64 = -1
}

/// A record to produce.
public struct OutgoingRecord: Sendable {
    public var topic: String
    /// nil lets the partitioner choose (by key hash, as librdkafka's default does).
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RdKafkaHeader]
    /// Create time in epoch milliseconds; nil means now.
    public var timestamp: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [RdKafkaHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [RdKafkaHeader] = [], timestamp: Int64? = nil) {
        self.init(topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, headers: headers, timestamp: timestamp)
    }
}

/// A librdkafka producer. Delivery reports are served by a dedicated thread, never by Swift's
/// cooperative pool.
public final class RdKafkaProducer: Sendable {
    private final class DeliveryCallback {
        let done: @Sendable (Result<Delivery, RdKafkaError>) -> Void
        init(_ done: @escaping @Sendable (Result<Delivery, RdKafkaError>) -> Void) { self.done = done }
    }

    let handle: Handle
    private let context: Unmanaged<ClientContext>
    /// The poller holds these, not `self`, so dropping the producer ends it.
    private let running = StopFlag()
    private let pollerDone = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - properties: librdkafka properties, e.g. `bootstrap.servers`, `compression.codec`.
    ///   - logger: where librdkafka's log lines go (filtered first by its `log_level` property).
    public init(_ properties: [String: String], logger: Logger = Logger(label: "rdkafka")) throws {
        let conf = try makeConf(properties)
        rd_kafka_conf_set_dr_msg_cb(conf.pointer) { rk, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let callback = Unmanaged<DeliveryCallback>.fromOpaque(opaque).takeRetainedValue()
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let why = ClientContext.of(rk)?.tokenFailureNote ?? ""
                callback.done(.failure(RdKafkaError(m.err, "delivering to \(String(cString: rd_kafka_topic_name(m.rkt)))/\(m.partition)\(why)")))
            } else {
                var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                let timestamp = rd_kafka_message_timestamp(message, &type)
                callback.done(.success(Delivery(topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset,
                                                timestamp: type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp)))
            }
        }
        (handle, context) = try makeClient(RD_KAFKA_PRODUCER, conf, "producer", logger: logger)
        let handle = self.handle, running = self.running, done = self.pollerDone
        Thread.detachNewThread {
            while running.isSet { rd_kafka_poll(handle.pointer, 50) }
            done.signal()
        }
    }

    /// Hands a record to librdkafka; `done` runs when it is delivered or has failed for good.
    public func enqueue(_ record: OutgoingRecord, done: @escaping @Sendable (Result<Delivery, RdKafkaError>) -> Void) throws {
        let callback = Unmanaged.passRetained(DeliveryCallback(done)).toOpaque()
        let err: rd_kafka_resp_err_t = record.topic.withCString { topic in
            var args: [rd_kafka_vu_t] = []
            func arg(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                var v = rd_kafka_vu_t()
                v.vtype = type
                set(&v)
                args.append(v)
            }
            arg(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
            arg(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = record.partition ?? RD_KAFKA_PARTITION_UA }
            arg(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            arg(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = callback }
            if let ts = record.timestamp { arg(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = ts } }
            // Buffers must outlive the call; librdkafka copies them (F_COPY) before returning.
            let key = record.key.map { heapCopy($0) }
            let value = record.value.map { heapCopy($0) }
            let headerNames = record.headers.map { strdup($0.key)! }
            let headerValues = record.headers.map { $0.value.map { heapCopy($0) } }
            defer {
                key?.buffer.deallocate()
                value?.buffer.deallocate()
                headerNames.forEach { free($0) }
                headerValues.forEach { $0?.buffer.deallocate() }
            }
            if let key { arg(RD_KAFKA_VTYPE_KEY) { $0.u.mem.ptr = key.buffer.baseAddress; $0.u.mem.size = key.count } }
            if let value { arg(RD_KAFKA_VTYPE_VALUE) { $0.u.mem.ptr = value.buffer.baseAddress; $0.u.mem.size = value.count } }
            for (i, name) in headerNames.enumerated() {
                arg(RD_KAFKA_VTYPE_HEADER) {
                    $0.u.header.name = UnsafePointer(name)
                    $0.u.header.val = UnsafeRawPointer(headerValues[i]?.buffer.baseAddress)
                    $0.u.header.size = headerValues[i].map { $0.count } ?? -1
                }
            }
            let error = rd_kafka_produceva(handle.pointer, &args, args.count)
            defer { rd_kafka_error_destroy(error) }
            return error.map { rd_kafka_error_code($0) } ?? RD_KAFKA_RESP_ERR_NO_ERROR
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            Unmanaged<DeliveryCallback>.fromOpaque(callback).release()
            throw RdKafkaError(err, "producing to \(record.topic)")
        }
    }

    /// Produces one record and waits for its delivery report.
    public func send(_ record: OutgoingRecord) async throws -> Delivery {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try enqueue(record) { continuation.resume(with: $0) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Produces records in the given order (so per-partition order is theirs) and waits for all
    /// delivery reports; throws the first failure after every report is in.
    public func sendAll(_ records: [OutgoingRecord]) async throws -> [Delivery] {
        let results = Mutex<[Int: Result<Delivery, RdKafkaError>]>([:])
        let total = records.count
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Delivery], any Error>) in
            if total == 0 { return continuation.resume(returning: []) }
            @Sendable func finish(_ index: Int, _ result: Result<Delivery, RdKafkaError>) {
                let all: [Int: Result<Delivery, RdKafkaError>]? = results.withLock { r in
                    r[index] = result
                    return r.count == total ? r : nil
                }
                guard let all else { return }
                do {
                    continuation.resume(returning: try (0..<total).map { try all[$0]!.get() })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            for (i, record) in records.enumerated() {
                do {
                    try enqueue(record) { finish(i, $0) }
                } catch let error as RdKafkaError {
                    finish(i, .failure(error))
                } catch {
                    finish(i, .failure(RdKafkaError(message: "\(error)", context: "producing")))
                }
            }
        }
    }

    /// Waits until every queued record is delivered or failed.
    public func flush(timeoutMs: Int32 = 30_000) throws {
        let err = rd_kafka_flush(handle.pointer, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RdKafkaError(err, "flushing producer") }
    }

    /// Records still queued get up to 10 s to be delivered, on a thread of their own.
    deinit {
        let handle = self.handle, running = self.running, pollerDone = self.pollerDone
        destroyClient(handle, context) {
            rd_kafka_flush(handle.pointer, 10_000)
            running.clear()
            pollerDone.wait()
        }
    }
}

/// A heap copy of `bytes` with a non-null address even when empty: librdkafka reads a null
/// pointer as a null key or value, and an empty one must stay empty, not become null.
private func heapCopy(_ bytes: [UInt8]) -> (buffer: UnsafeMutableRawBufferPointer, count: Int) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
    buffer.copyBytes(from: bytes)
    return (buffer, bytes.count)
}

final class StopFlag: Sendable {
    private let value = Atomic<Bool>(true)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func clear() { value.store(false, ordering: .releasing) }
}
