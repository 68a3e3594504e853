import NIOCore

/// One header of a record: a UTF-8 key and nullable bytes.
public struct KafkaRecordHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// A record as clients see it, with its absolute offset and timestamp (epoch ms).
public struct KafkaRecord: Sendable, Equatable {
    public var offset: Int64
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaRecordHeader]

    public init(offset: Int64 = 0, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecordHeader] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// The 61-byte header of a v2 record batch (magic 2), read in place.
public struct RecordBatchHeader: Sendable, Equatable {
    public static let size = 61
    /// Offsets of fields a broker rewrites; the CRC starts at `attributes`, so they are outside it.
    public static let baseOffsetPosition = 0
    public static let partitionLeaderEpochPosition = 12
    static let crcPosition = 17
    static let attributesPosition = 21
    static let maxTimestampPosition = 35

    public var baseOffset: Int64
    /// Bytes after this field: the whole batch is `batchLength + 12` bytes.
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    public var compression: CompressionCodec? { CompressionCodec(rawValue: attributes & 0x7) }
    public var isLogAppendTime: Bool { attributes & 0x8 != 0 }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    /// Wraps as Kafka's Java arithmetic does: both operands come from the client.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    public var totalSize: Int { Int(batchLength) + 12 }

    /// The records after the header, once `batchLength` is checked against the bytes there are.
    func body(of batch: ByteBuffer) throws -> ByteBuffer {
        guard batchLength >= Int32(Self.size - 12), totalSize <= batch.readableBytes else {
            throw KafkaProtocolError.corruptRecordBatch("batch length \(batchLength) does not fit \(batch.readableBytes) bytes")
        }
        return batch.getSlice(at: batch.readerIndex + Self.size, length: totalSize - Self.size)!
    }

    /// Reads the header at the reader index of `buf` without consuming it.
    public init(peekingAt buf: ByteBuffer) throws {
        let i = buf.readerIndex
        guard buf.readableBytes >= Self.size else { throw KafkaProtocolError.truncated("record batch header") }
        baseOffset = buf.getInteger(at: i)!
        batchLength = buf.getInteger(at: i + 8)!
        partitionLeaderEpoch = buf.getInteger(at: i + 12)!
        magic = buf.getInteger(at: i + 16)!
        crc = buf.getInteger(at: i + 17)!
        attributes = buf.getInteger(at: i + 21)!
        lastOffsetDelta = buf.getInteger(at: i + 23)!
        baseTimestamp = buf.getInteger(at: i + 27)!
        maxTimestamp = buf.getInteger(at: i + 35)!
        producerId = buf.getInteger(at: i + 43)!
        producerEpoch = buf.getInteger(at: i + 51)!
        baseSequence = buf.getInteger(at: i + 53)!
        recordCount = buf.getInteger(at: i + 57)!
    }
}

/// Reading, validating and writing v2 record batches.
public enum RecordBatch {
    /// Input that is well-formed but in a format we do not store.
    public enum Failure: Error, Equatable {
        /// A legacy message set (magic 0 or 1), from clients older than Kafka 0.11.
        case legacyMagic(Int8)
    }

    /// Splits a produce request's records into batches, validating each one's magic, length and
    /// CRC-32C. The slices share storage with `records`: nothing is copied.
    public static func split(_ records: ByteBuffer) throws -> [(header: RecordBatchHeader, bytes: ByteBuffer)] {
        var buf = records
        var batches: [(RecordBatchHeader, ByteBuffer)] = []
        while buf.readableBytes > 0 {
            let header = try RecordBatchHeader(peekingAt: buf)
            guard header.magic == 2 else {
                if header.magic == 0 || header.magic == 1 { throw Failure.legacyMagic(header.magic) }
                throw KafkaProtocolError.corruptRecordBatch("magic \(header.magic) is not 2")
            }
            _ = try header.body(of: buf)
            // Kafka refuses these too: the offsets a batch takes in the log come from
            // lastOffsetDelta, so it must agree with the records it holds.
            guard header.recordCount >= 1, header.lastOffsetDelta == header.recordCount - 1 else {
                throw KafkaProtocolError.corruptRecordBatch("last offset delta \(header.lastOffsetDelta) does not match \(header.recordCount) records")
            }
            let batch = buf.readSlice(length: header.totalSize)!
            let crc = batch.withUnsafeReadableBytes { raw in
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.attributesPosition...]))
            }
            guard crc == header.crc else {
                throw KafkaProtocolError.corruptRecordBatch("CRC mismatch: header says \(header.crc), content is \(crc)")
            }
            batches.append((header, batch))
        }
        return batches
    }

    /// Sets the base offset in place; it sits before the CRC-covered range, so the CRC stays valid.
    public static func setBaseOffset(_ offset: Int64, in batch: inout ByteBuffer) {
        batch.setInteger(offset, at: batch.readerIndex + RecordBatchHeader.baseOffsetPosition)
    }

    /// Decodes every record of one batch (decompressing it when needed), with absolute offsets.
    /// Control batches (transaction markers) yield no records.
    public static func records(in batch: ByteBuffer) throws -> [KafkaRecord] {
        let header = try RecordBatchHeader(peekingAt: batch)
        if header.isControl { return [] }
        guard let codec = header.compression else {
            throw KafkaProtocolError.corruptRecordBatch("unknown compression \(header.attributes & 0x7) at offset \(header.baseOffset)")
        }
        var body = try header.body(of: batch)
        if codec != .none {
            body = ByteBuffer(bytes: try codec.decompress(Array(body.readableBytesView)))
        }
        // A record takes at least 7 bytes; a larger count is a lie that must not size an allocation.
        guard header.recordCount >= 0, Int(header.recordCount) <= body.readableBytes / 7 else {
            throw KafkaProtocolError.invalidLength("record count at offset \(header.baseOffset)", Int(header.recordCount))
        }
        var records: [KafkaRecord] = []
        records.reserveCapacity(Int(header.recordCount))
        for _ in 0..<header.recordCount {
            let length = Int(try body.readKafkaVarint())
            guard length >= 0, var r = body.readSlice(length: length) else { throw KafkaProtocolError.truncated("record at offset \(header.baseOffset)") }
            _ = try r.readKafkaInt8()  // record attributes: unused
            let timestampDelta = try r.readKafkaVarlong()
            let offsetDelta = try r.readKafkaVarint()
            let key = try readVarintBytes(&r, "record key")
            let value = try readVarintBytes(&r, "record value")
            let headerCount = Int(try r.readKafkaVarint())
            guard headerCount >= 0, headerCount <= r.readableBytes else { throw KafkaProtocolError.invalidLength("record header count", headerCount) }
            var headers: [KafkaRecordHeader] = []
            for _ in 0..<headerCount {
                guard let k = try readVarintBytes(&r, "header key") else { throw KafkaProtocolError.invalidLength("null header key", -1) }
                guard let ks = String(validating: k, as: UTF8.self) else { throw KafkaProtocolError.invalidUTF8("header key") }
                headers.append(KafkaRecordHeader(key: ks, value: try readVarintBytes(&r, "header value")))
            }
            // Wrapping, as in Kafka: the client picks both operands.
            let timestamp = header.isLogAppendTime ? header.maxTimestamp : header.baseTimestamp &+ timestampDelta
            records.append(KafkaRecord(offset: header.baseOffset &+ Int64(offsetDelta), timestamp: timestamp, key: key, value: value, headers: headers))
        }
        return records
    }

    private static func readVarintBytes(_ buf: inout ByteBuffer, _ what: String) throws -> [UInt8]? {
        let n = Int(try buf.readKafkaVarint())
        if n < 0 { return nil }
        guard let bytes = buf.readBytes(length: n) else { throw KafkaProtocolError.truncated(what) }
        return bytes
    }

    /// Producer identity of an idempotent batch; the defaults mean "not idempotent".
    public struct ProducerInfo: Sendable, Equatable {
        public var producerId: Int64 = -1
        public var producerEpoch: Int16 = -1
        public var baseSequence: Int32 = -1
        public init(producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1) {
            self.producerId = producerId
            self.producerEpoch = producerEpoch
            self.baseSequence = baseSequence
        }
    }

    /// Encodes records into one batch. Offsets are relative to `baseOffset` by position; each
    /// record's `timestamp` is kept (as a delta from the first).
    public static func encode(
        _ records: [KafkaRecord],
        baseOffset: Int64 = 0,
        compression: CompressionCodec = .none,
        producer: ProducerInfo = ProducerInfo(),
        logAppendTime: Bool = false
    ) throws -> ByteBuffer {
        precondition(!records.isEmpty, "a record batch holds at least one record")
        let baseTimestamp = records[0].timestamp
        var body = ByteBuffer()
        var scratch = ByteBuffer()
        for (i, r) in records.enumerated() {
            scratch.clear()
            scratch.writeInteger(Int8(0))
            scratch.writeKafkaVarlong(r.timestamp - baseTimestamp)
            scratch.writeKafkaVarint(Int32(i))
            writeVarintBytes(&scratch, r.key)
            writeVarintBytes(&scratch, r.value)
            scratch.writeKafkaVarint(Int32(r.headers.count))
            for h in r.headers {
                writeVarintBytes(&scratch, Array(h.key.utf8))
                writeVarintBytes(&scratch, h.value)
            }
            body.writeKafkaVarint(Int32(scratch.readableBytes))
            body.writeBuffer(&scratch)
        }
        if compression != .none {
            body = ByteBuffer(bytes: try compression.compress(Array(body.readableBytesView)))
        }
        var attributes = compression.rawValue
        if logAppendTime { attributes |= 0x8 }
        var batch = ByteBuffer()
        batch.reserveCapacity(RecordBatchHeader.size + body.readableBytes)
        batch.writeInteger(baseOffset)
        batch.writeInteger(Int32(RecordBatchHeader.size - 12 + body.readableBytes))
        batch.writeInteger(Int32(-1))  // partition leader epoch
        batch.writeInteger(Int8(2))
        batch.writeInteger(UInt32(0))  // CRC, filled below
        batch.writeInteger(attributes)
        batch.writeInteger(Int32(records.count - 1))
        batch.writeInteger(baseTimestamp)
        batch.writeInteger(records.map(\.timestamp).max()!)
        batch.writeInteger(producer.producerId)
        batch.writeInteger(producer.producerEpoch)
        batch.writeInteger(producer.baseSequence)
        batch.writeInteger(Int32(records.count))
        batch.writeBuffer(&body)
        let crc = batch.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.attributesPosition...]))
        }
        batch.setInteger(crc, at: RecordBatchHeader.crcPosition)
        return batch
    }

    private static func writeVarintBytes(_ buf: inout ByteBuffer, _ bytes: [UInt8]?) {
        guard let bytes else { return buf.writeKafkaVarint(-1) }
        buf.writeKafkaVarint(Int32(bytes.count))
        buf.writeBytes(bytes)
    }
}

extension RecordBatch {
    /// The batch as a LogAppendTime topic keeps it: the timestamp-type attribute set and the max
    /// timestamp replaced by the broker's append time (which consumers then report for every
    /// record), with the CRC recomputed.
    public static func stampingLogAppendTime(_ batch: (header: RecordBatchHeader, bytes: ByteBuffer), _ now: Int64) -> (header: RecordBatchHeader, bytes: ByteBuffer) {
        var bytes = batch.bytes
        var header = batch.header
        header.attributes |= 0x8
        header.maxTimestamp = now
        bytes.setInteger(header.attributes, at: bytes.readerIndex + RecordBatchHeader.attributesPosition)
        bytes.setInteger(now, at: bytes.readerIndex + RecordBatchHeader.maxTimestampPosition)
        header.crc = bytes.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.attributesPosition...]))
        }
        bytes.setInteger(header.crc, at: bytes.readerIndex + RecordBatchHeader.crcPosition)
        return (header, bytes)
    }
}
