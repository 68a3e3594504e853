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
}
