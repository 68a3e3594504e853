import Foundation
import HarnessTestSupport
@testable import KafkaIngress
import Testing

@Suite("Restate-style ids", .guarded)
struct ResourceIDTests {
    @Test("base62 with Restate's alphabet, most significant digit first, padded to 22")
    func base62() {
        #expect(ResourceID.base62([UInt8](repeating: 0, count: 16)) == "0000000000000000000000")
        #expect(ResourceID.base62([UInt8](repeating: 0, count: 15) + [1]) == "0000000000000000000001")
        #expect(ResourceID.base62([UInt8](repeating: 0xFF, count: 16)) == "7N42dgm5tFLK9N8MT7fHC7")
    }

    @Test("base62 of random numbers of 1 to 16 bytes agrees with schoolbook long division")
    func base62AgreesWithLongDivision() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let length = Int.random(in: 0...22, using: &rng)
            #expect(ResourceID.base62(bytes, length: length) == Self.longDivisionBase62(bytes, length: length), "\(bytes)")
        }
    }

    /// The obvious algorithm, as an oracle: divide the byte string by 62 until it is zero.
    static func longDivisionBase62(_ bigEndian: [UInt8], length: Int) -> String {
        var number = bigEndian
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in number.indices {
                let acc = remainder << 8 | Int(number[i])
                number[i] = UInt8(acc / 62)
                remainder = acc % 62
            }
            digits.append(ResourceID.alphabet[remainder])
        }
        while digits.count < length { digits.append(UInt8(ascii: "0")) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    @Test("kafka.key is URL-safe base64 with padding, as Foundation's base64 with - and _")
    func urlSafeBase64() {
        var rng = SystemRandomNumberGenerator()
        for count in 0..<64 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            #expect(IngressHeaders.urlSafeBase64(bytes) == expected)
        }
    }

    @Test("the ULID's u128 is written byte-swapped, as Restate's to_be() does on little-endian machines")
    func byteOrder() {
        // The ULID 00 01 02 … 0f, read as a little-endian u128.
        #expect(ResourceID.base62(Array(0..<16).reversed().map(UInt8.init)) == "0spiZ5jnFiXLEB5q4Itm5q")
    }

    @Test("ids have the prefix, the version digit and 22 characters, and differ")
    func shape() {
        let ids = (0..<100).map { _ in ResourceID.make(prefix: "sub") }
        #expect(ids.allSatisfy { ResourceID.isWellFormed($0, prefix: "sub") && $0.count == 27 })
        #expect(Set(ids).count == ids.count)
        #expect(!ResourceID.isWellFormed("sub_2" + String(repeating: "0", count: 22), prefix: "sub"))
    }

    @Test("invocation ids: inv_1, an 11-digit partition key shared by one object key, a 22-digit uuid; 38 characters")
    func invocationIDs() {
        let a1 = InvocationID.make(key: "acct-1"), a2 = InvocationID.make(key: "acct-1"), b = InvocationID.make(key: "acct-2")
        #expect([a1, a2, b].allSatisfy { $0.count == 38 && $0.hasPrefix("inv_1") && InvocationID.isWellFormed($0) })
        #expect(a1 != a2)
        #expect(a1.prefix(16) == a2.prefix(16), "one key, one partition key")
        #expect(a1.prefix(16) != b.prefix(16))
        #expect(InvocationID.make(key: nil).prefix(16) != InvocationID.make(key: nil).prefix(16), "services get a random partition key")
    }

    @Test("malformed invocation ids are described as Restate's id decoder describes them")
    func invocationIDErrors() {
        #expect(InvocationID.decodeError("") == "bad length")
        #expect(InvocationID.decodeError("foo") == "bad format")
        #expect(InvocationID.decodeError("xyz_1abc") == "unrecognized resource type: xyz")
        #expect(InvocationID.decodeError("inv_2abc") == "unrecognized codec version")
        #expect(InvocationID.decodeError(ResourceID.make(prefix: "sub")) == "id doesn't match the expected type")
        #expect(InvocationID.decodeError("inv_1abc") == "bad length")
        #expect(InvocationID.decodeError("inv_1" + String(repeating: "-", count: 33)) == "base62 decode error")
    }
}

@Suite("Journal encoding", .guarded)
struct JournalEncodingTests {
    @Test("headers written by hand read back with JSONDecoder, order and odd characters kept")
    func headersRoundTrip() throws {
        let headers = [("kafka.topic", "a\"b\\c"), ("x", "line\nbreak\ttab\u{1}"), ("kafka.key", "_wD-"), ("é", "日本")]
        let decoded = try JSONDecoder().decode([[String]].self, from: Data(Journal.headersJSON(headers).utf8))
        #expect(decoded == headers.map { [$0.0, $0.1] })
    }
}
