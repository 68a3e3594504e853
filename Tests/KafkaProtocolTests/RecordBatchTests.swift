import HarnessTestSupport
import NIOCore
import Testing
@testable import KafkaProtocol

@Suite("Record batches and codecs", .guarded)
struct RecordBatchTests {
    static let records: [KafkaRecord] = (0..<50).map(record)

    static func record(_ i: Int) -> KafkaRecord {
        let key: [UInt8]? = i % 7 == 0 ? nil : Array("key-\(i % 5)".utf8)
        let value: [UInt8]? = i % 11 == 0 ? nil : Array(String(repeating: "value \(i) ", count: 10).utf8)
        var headers: [KafkaRecordHeader] = []
        if i % 2 == 0 {
            headers = [KafkaRecordHeader(key: "h\(i)", value: [UInt8(i)]), KafkaRecordHeader(key: "null", value: nil)]
        }
        let timestamp: Int64 = 1_700_000_000_000 + Int64(i * 3)
        return KafkaRecord(offset: Int64(i), timestamp: timestamp, key: key, value: value, headers: headers)
    }

    @Test("every codec compresses and decompresses", arguments: CompressionCodec.allCases)
    func codecRoundTrip(codec: CompressionCodec) throws {
        for input in [[UInt8](), Array("hello".utf8), (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }] {
            let compressed = try codec.compress(input)
            #expect(try codec.decompress(compressed) == input)
        }
    }

    @Test("snappy accepts the xerial framing Java clients write")
    func snappyXerial() throws {
        let input = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let framed = try Snappy.compressXerial(input, blockSize: 32 * 1024)
        #expect(Array(framed[0..<8]) == Snappy.xerialMagic)
        #expect(try CompressionCodec.snappy.decompress(framed) == input)
    }

    @Test("garbage is refused by every codec", arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func codecGarbage(codec: CompressionCodec) {
        #expect(throws: (any Error).self) { try codec.decompress([1, 2, 3, 4, 5, 6, 7, 8, 9]) }
    }

    @Test("a batch keeps keys, values, headers and timestamps under every codec", arguments: CompressionCodec.allCases)
    func batchRoundTrip(codec: CompressionCodec) throws {
        let batch = try RecordBatch.encode(Self.records, baseOffset: 100, compression: codec,
                                           producer: .init(producerId: 9, producerEpoch: 1, baseSequence: 5))
        let split = try RecordBatch.split(batch)
        #expect(split.count == 1)
        let header = split[0].header
        #expect(header.compression == codec)
        #expect(header.producerId == 9 && header.producerEpoch == 1 && header.baseSequence == 5)
        #expect(header.recordCount == 50 && header.lastOffset == 149)
        let decoded = try RecordBatch.records(in: split[0].bytes)
        #expect(decoded == Self.records.map { var r = $0; r.offset += 100; return r })
    }

    @Test("rewriting the base offset keeps the CRC valid")
    func baseOffsetOutsideCRC() throws {
        var batch = try RecordBatch.encode(Self.records)
        RecordBatch.setBaseOffset(1234, in: &batch)
        let split = try RecordBatch.split(batch)
        #expect(split[0].header.baseOffset == 1234)
    }

    @Test("a flipped bit is caught by the CRC")
    func corruptBatch() throws {
        var batch = try RecordBatch.encode(Self.records)
        let at = batch.readerIndex + 70
        batch.setInteger(batch.getInteger(at: at, as: UInt8.self)! ^ 1, at: at)
        #expect(throws: (any Error).self) { try RecordBatch.split(batch) }
    }

    @Test("a batch cut short is refused")
    func truncatedBatch() throws {
        var batch = try RecordBatch.encode(Self.records)
        batch.moveWriterIndex(to: batch.writerIndex - 3)
        #expect(throws: (any Error).self) { try RecordBatch.split(batch) }
    }

    /// Sets a field of the CRC-covered range and signs the batch again, as a client could.
    static func resigned<I: FixedWidthInteger>(_ batch: ByteBuffer, _ value: I, at position: Int) -> ByteBuffer {
        var batch = batch
        batch.setInteger(value, at: batch.readerIndex + position)
        let crc = batch.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
        batch.setInteger(crc, at: batch.readerIndex + 17)
        return batch
    }

    @Test("a batch whose last offset delta disagrees with its record count is refused (the log's offsets come from it)",
          arguments: [Int32(-5), 0, 1, 3, .max])
    func offsetRange(lastOffsetDelta: Int32) throws {
        let batch = try RecordBatch.encode(Array(Self.records.prefix(3)))
        #expect(try RecordBatch.split(Self.resigned(batch, Int32(2), at: 23)).count == 1, "the delta as encoded")
        #expect(throws: KafkaProtocolError.self) { try RecordBatch.split(Self.resigned(batch, lastOffsetDelta, at: 23)) }
    }

    @Test("a batch of no records is refused")
    func emptyBatch() throws {
        let batch = try RecordBatch.encode(Array(Self.records.prefix(1)))
        let empty = Self.resigned(Self.resigned(batch, Int32(0), at: 57), Int32(-1), at: 23)
        #expect(throws: KafkaProtocolError.self) { try RecordBatch.split(empty) }
    }

    @Test("a timestamp delta past Int64.max wraps, as in Kafka, instead of trapping")
    func timestampOverflow() throws {
        let batch = try RecordBatch.encode([KafkaRecord(timestamp: 0, key: nil, value: [1]), KafkaRecord(timestamp: 1, key: nil, value: [2])])
        let records = try RecordBatch.records(in: Self.resigned(batch, Int64.max, at: 27))
        #expect(records.map(\.timestamp) == [.max, .min])
    }

    @Test("an empty lz4 body is refused")
    func emptyLZ4() {
        #expect(throws: KafkaProtocolError.self) { try CompressionCodec.lz4.decompress([]) }
    }
}
