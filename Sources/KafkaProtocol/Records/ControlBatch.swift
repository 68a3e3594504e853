import NIOCore

/// Transaction markers: the control batches a transaction coordinator writes into every partition
/// of a transaction when it ends. Consumers never hand them to the application; a read_committed
/// consumer uses an ABORT marker to know where an aborted transaction's records stop.
public enum ControlBatch {
    /// The marker's type, as the control record's key says it.
    public enum Marker: Int16, Sendable, Equatable, CustomStringConvertible {
        case abort = 0
        case commit = 1

        public var description: String { self == .commit ? "COMMIT" : "ABORT" }
    }

    /// The batch attributes of a marker: transactional (0x10) and control (0x20), uncompressed.
    static let attributes: Int16 = 0x30

    /// One marker batch for a producer's transaction. Its single record's key is (version 0, type)
    /// and its value (version 0, coordinator epoch); markers carry no sequence number.
    public static func encode(_ marker: Marker, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32 = 0, timestamp: Int64) -> ByteBuffer {
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(marker.rawValue)
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(coordinatorEpoch)
        let record = KafkaRecord(timestamp: timestamp, key: Array(key.readableBytesView), value: Array(value.readableBytesView))
        // A single uncompressed record cannot fail to encode.
        var batch = try! RecordBatch.encode([record], producer: .init(producerId: producerId, producerEpoch: producerEpoch, baseSequence: -1))
        setAttributes(attributes, in: &batch)
        return batch
    }

    /// Marks an encoded data batch as part of a transaction (attribute bit 0x10), as a
    /// transactional producer sends it.
    public static func markTransactional(_ batch: inout ByteBuffer) {
        let current: Int16 = batch.getInteger(at: batch.readerIndex + RecordBatchHeader.attributesPosition)!
        setAttributes(current | 0x10, in: &batch)
    }

    /// The attributes are inside the CRC-covered range, so the CRC is computed again.
    private static func setAttributes(_ attributes: Int16, in batch: inout ByteBuffer) {
        batch.setInteger(attributes, at: batch.readerIndex + RecordBatchHeader.attributesPosition)
        let crc = batch.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.attributesPosition...]))
        }
        batch.setInteger(crc, at: batch.readerIndex + RecordBatchHeader.crcPosition)
    }

    /// The marker a control batch holds; nil for a data batch or a control record of another kind.
    public static func marker(in batch: ByteBuffer) throws -> Marker? {
        let header = try RecordBatchHeader(peekingAt: batch)
        guard header.isControl else { return nil }
        var body = try header.body(of: batch)
        _ = try body.readKafkaVarint()  // record length
        _ = try body.readKafkaInt8()  // attributes
        _ = try body.readKafkaVarlong()  // timestamp delta
        _ = try body.readKafkaVarint()  // offset delta
        let keyLength = Int(try body.readKafkaVarint())
        guard keyLength >= 4, let version = body.readInteger(as: Int16.self), version == 0, let type = body.readInteger(as: Int16.self) else {
            throw KafkaProtocolError.corruptRecordBatch("control record at offset \(header.baseOffset) has no version-0 key")
        }
        return Marker(rawValue: type)
    }
}
