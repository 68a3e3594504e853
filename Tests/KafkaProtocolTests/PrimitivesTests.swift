import HarnessTestSupport
import NIOCore
import NIOTestUtils
import Testing
@testable import KafkaProtocol

@Suite("Primitives", .guarded)
struct PrimitivesTests {
    @Test("CRC-32C matches the published check values")
    func crc32cVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0...31 as ClosedRange<UInt8>)) == 0x46DD_794E)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test("CRC-32C: the CPU instruction and the tables agree at every length, alignment and split point")
    func crc32cInstructionAgreesWithTables() {
        #if arch(x86_64)
        // Every x86-64 machine since 2008 has SSE 4.2; without it this test compares the tables with themselves.
        #expect(CRC32C.hardware, "the CRC-32C instruction was not detected")
        #endif
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<4_096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { all in
            for _ in 0..<500 {
                let start = Int.random(in: 0..<64, using: &rng)
                let end = Int.random(in: start...all.count, using: &rng)
                let split = Int.random(in: start...end, using: &rng)
                let whole = UnsafeRawBufferPointer(rebasing: all[start..<end])
                let expected = CRC32C.software(whole)
                #expect(CRC32C.checksum(whole) == expected)
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[start..<split]))
                #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[split..<end]), continuing: first) == expected)
            }
        }
    }

    @Test("varints round-trip at their boundaries", arguments: [Int64(0), 1, -1, 63, -64, 64, 300, -300, Int64(Int32.max), Int64(Int32.min), Int64.max, Int64.min])
    func varints(value: Int64) throws {
        var buf = ByteBuffer()
        buf.writeKafkaVarlong(value)
        #expect(try buf.readKafkaVarlong() == value)
        if let v32 = Int32(exactly: value) {
            buf.writeKafkaVarint(v32)
            #expect(try buf.readKafkaVarint() == v32)
        }
    }

    @Test("a varint that never ends is an error, not a hang")
    func runawayVarint() throws {
        var buf = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: (any Error).self) { try buf.readKafkaUnsignedVarint() }
        var zeros = ByteBuffer(bytes: [UInt8](repeating: 0x80, count: 12) + [0])
        #expect(throws: (any Error).self) { try zeros.readKafkaUnsignedVarlong() }
        var max = ByteBuffer()
        max.writeKafkaUnsignedVarlong(.max)
        #expect(try max.readKafkaUnsignedVarlong() == .max)
    }

    @Test("a length larger than the input is refused before allocating")
    func hugeLength() {
        var buf = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 1, 2])
        #expect(throws: KafkaProtocolError.truncated("array")) { try buf.readKafkaArray(compact: false) { try $0.readKafkaInt8() } }
    }

    @Test("frames are decoded under every split of the input")
    func frameSplits() throws {
        func frame(_ payload: [UInt8]) -> ByteBuffer {
            var b = ByteBuffer()
            b.writeInteger(Int32(payload.count))
            b.writeBytes(payload)
            return b
        }
        let payloads: [[UInt8]] = [[], [1], Array(repeating: 7, count: 300), [1, 2, 3, 4, 5]]
        var input = ByteBuffer()
        for p in payloads { var f = frame(p); input.writeBuffer(&f) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, payloads.map { ByteBuffer(bytes: $0) })],
            decoderFactory: { KafkaFrameDecoder(maxFrameSize: 1024) }
        )
    }

    @Test("an oversized or negative frame size is an error")
    func oversizedFrame() {
        var buf = ByteBuffer()
        buf.writeInteger(Int32(2048))
        #expect(throws: KafkaFrameDecoder.FrameTooLarge.self) { try KafkaFrameDecoder.nextFrame(in: &buf, maxFrameSize: 1024) }
        var negative = ByteBuffer()
        negative.writeInteger(Int32(-5))
        #expect(throws: KafkaFrameDecoder.FrameTooLarge.self) { try KafkaFrameDecoder.nextFrame(in: &negative, maxFrameSize: 1024) }
    }

    @Test("request headers use a classic client id even when flexible")
    func requestHeader() throws {
        let header = RequestHeader(apiKey: 18, apiVersion: 3, correlationId: 42, clientId: "rdkafka")
        var buf = ByteBuffer()
        header.encode(into: &buf, flexible: true)
        #expect(Array(buf.readableBytesView) == [0, 18, 0, 3, 0, 0, 0, 42, 0, 7] + Array("rdkafka".utf8) + [0])
        let decoded = try RequestHeader(from: &buf, isFlexible: { _, _ in true })
        #expect(decoded == header)
    }
}
