import HarnessTestSupport
import NIOCore
import Testing
import KafkaProtocol

/// Inputs on which a fuzzer in Fuzz/ crashed the decoders (docs/fuzzing.md). Each must now be
/// refused with an error: before its fix, each of these tests trapped or exhausted memory.
@Suite("Fuzzer findings", .guarded)
struct FuzzRegressionTests {
    private static func buffer(_ hex: String) -> ByteBuffer {
        var bytes: [UInt8] = []
        var digits = hex.makeIterator()
        while let high = digits.next(), let low = digits.next() { bytes.append(UInt8(String([high, low]), radix: 16)!) }
        return ByteBuffer(bytes: bytes)
    }

    @Test("a control batch whose length runs past its bytes (FuzzRecordBatches: nil unwrapped in ControlBatch.marker)")
    func controlBatchLength() {
        let batch = Self.buffer("7aa1a1a1a1a1a1a1a1a1a1a1a17ba1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a4a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1")
        #expect(throws: KafkaProtocolError.self) { try ControlBatch.marker(in: batch) }
    }

    @Test("a batch whose length runs past its bytes (FuzzRecordBatches: nil unwrapped in RecordBatch.records)")
    func batchLength() {
        let batch = Self.buffer("5151515151515151515151515151515151515151515151515151515151515151515151515151515151515151515151515151515151515151515151512a")
        #expect(throws: KafkaProtocolError.self) { try RecordBatch.records(in: batch) }
    }

    @Test("a record count of 858 million in a 65-byte batch (FuzzRecordBatches: a 32 GiB reserveCapacity)")
    func recordCount() {
        let batch = Self.buffer("0000000000000000000000350000000000000000000000000000000000333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333330000000000000000")
        #expect(throws: KafkaProtocolError.self) { try RecordBatch.records(in: batch) }
    }

    @Test("a base offset near Int64.max (FuzzRecordBatches: arithmetic overflow in RecordBatchHeader.lastOffset)")
    func lastOffset() throws {
        let batch = Self.buffer("8000000000000000000008a6000000002fdacc8b000001a252616e67652edacc8bfffffffffeff00000000000000000000080000a600ffffffffffff00ff42")
        let header = try RecordBatchHeader(peekingAt: batch)
        #expect(header.lastOffset == Int64.min &+ Int64(header.lastOffsetDelta), "wraps as Kafka's Java arithmetic does")
    }
}
