import HarnessTestSupport
import KafkaProtocol
import NIOCore
import Testing

@Suite("Transaction markers", .guarded)
struct ControlBatchTests {
    @Test("a marker is a valid transactional control batch whose key says COMMIT or ABORT, and holds no records", arguments: [ControlBatch.Marker.commit, .abort])
    func marker(_ marker: ControlBatch.Marker) throws {
        let batch = ControlBatch.encode(marker, producerId: 4242, producerEpoch: 3, timestamp: 1_700_000_000_000)
        let split = try RecordBatch.split(batch)  // checks the CRC over the rewritten attributes
        let header = try #require(split.first?.header)
        #expect(header.isControl && header.isTransactional)
        #expect(header.producerId == 4242 && header.producerEpoch == 3 && header.baseSequence == -1 && header.recordCount == 1)
        #expect(try ControlBatch.marker(in: batch) == marker)
        #expect(try RecordBatch.records(in: batch).isEmpty)
    }

    @Test("markTransactional sets bit 0x10 and keeps the batch valid; data batches carry no marker")
    func transactionalData() throws {
        var batch = try RecordBatch.encode([KafkaRecord(timestamp: 1, key: nil, value: [1])], producer: .init(producerId: 7, producerEpoch: 0, baseSequence: 0))
        ControlBatch.markTransactional(&batch)
        let header = try #require(try RecordBatch.split(batch).first?.header)
        #expect(header.isTransactional && !header.isControl)
        #expect(try ControlBatch.marker(in: batch) == nil)
        #expect(try RecordBatch.records(in: batch).map(\.value) == [[1]])
    }
}
