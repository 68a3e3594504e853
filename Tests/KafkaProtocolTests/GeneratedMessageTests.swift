import HarnessTestSupport
import NIOCore
import Testing
@testable import KafkaProtocol

@Suite("Generated messages", .guarded)
struct GeneratedMessageTests {
    /// Every field present at a version is set to a non-default value, so a field that is
    /// written but not read (or read at the wrong version) shows up as a difference.
    @Test("round-trip of every message at every served version")
    func roundTripEveryVersion() throws {
        var checked = 0
        for fixture in allMessageFixtures {
            for version in fixture.versions {
                let message = fixture.make(version)
                try Self.assertRoundTrip(message, version: version, name: fixture.name)
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    private static func assertRoundTrip<M: KafkaMessage>(_ message: M, version: Int16, name: String) throws {
        var buf = message.encoded(version: version)
        let size = buf.readableBytes
        let decoded = try M(from: &buf, version: version)
        #expect(buf.readableBytes == 0, "\(name) v\(version): \(buf.readableBytes) of \(size) bytes left unread")
        #expect(decoded == message, "\(name) v\(version) did not round-trip")
        // Truncated input must fail cleanly, never crash or succeed.
        if size > 0 {
            var short = message.encoded(version: version)
            short.moveWriterIndex(to: short.writerIndex - 1)
            #expect(throws: (any Error).self, "\(name) v\(version) accepted truncated input") { try M(from: &short, version: version) }
        }
    }

    @Test("unserved versions are refused")
    func unservedVersion() {
        var buf = ByteBuffer()
        #expect(throws: KafkaProtocolError.unsupportedVersion("FetchRequest", 3)) { try FetchRequest(from: &buf, version: 3) }
    }

    @Test("a flexible message uses compact strings and tagged fields")
    func flexibleEncoding() throws {
        let response = ApiVersionsResponse(errorCode: 0, apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 3)])
        let v3 = Array(response.encoded(version: 3).readableBytesView)
        // errorCode, compact array of 1 (0x02), key, min, max, element tags (0), throttle, top-level tags (0)
        #expect(v3 == [0, 0, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0])
        let v0 = Array(response.encoded(version: 0).readableBytesView)
        #expect(v0 == [0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3])
    }

    @Test("unknown tagged fields are skipped")
    func unknownTaggedFieldsSkipped() throws {
        // errorCode 0, empty compact array, throttle 7, then one tagged field (tag 99, 2 bytes) we do not know.
        var buf = ByteBuffer(bytes: [0, 0, 1, 0, 0, 0, 7, 1, 99, 2, 0xAA, 0xBB])
        let decoded = try ApiVersionsResponse(from: &buf, version: 3)
        #expect(decoded.throttleTimeMs == 7)
        #expect(buf.readableBytes == 0)
    }
}
