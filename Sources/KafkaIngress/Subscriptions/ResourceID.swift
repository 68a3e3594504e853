import Foundation

/// Restate-style identifiers: a prefix, a version digit and a 128-bit ULID in base62.
///
/// Restate encodes the ULID's `u128` after converting it to big-endian in memory, so on a
/// little-endian machine the number written is the byte-swapped ULID; we do the same so ids look
/// alike (and sort alike) to anyone comparing them with Restate's.
enum ResourceID {
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    /// 62^22 > 2^128, so 22 digits always suffice.
    static let encodedLength = 22

    /// A new id such as `sub_1…` (22 base62 characters follow the version digit).
    static func make(prefix: String, now: Date = Date()) -> String {
        prefix + "_1" + base62(ulidBytes(now: now).reversed())
    }

    /// Whether `id` has the shape `make(prefix:)` produces.
    static func isWellFormed(_ id: String, prefix: String) -> Bool {
        let head = prefix + "_1"
        guard id.hasPrefix(head) else { return false }
        let body = id.utf8.dropFirst(head.utf8.count)
        return body.count == encodedLength && body.allSatisfy { alphabet.contains($0) }
    }

    /// 48 bits of milliseconds then 80 random bits, big-endian.
    static func ulidBytes(now: Date) -> [UInt8] {
        let ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var bytes = (0..<6).map { UInt8(truncatingIfNeeded: ms >> (40 - 8 * $0)) }
        var rng = SystemRandomNumberGenerator()
        let (high, low) = (rng.next() as UInt64, rng.next() as UInt64)
        bytes += (0..<2).map { UInt8(truncatingIfNeeded: high >> (8 - 8 * $0)) }
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        return bytes
    }

    /// Base62 of a big-endian unsigned number, left-padded with '0' to 22 digits.
    static func base62<S: Sequence>(_ bigEndian: S) -> String where S.Element == UInt8 {
        var number = Array(bigEndian)
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            // Long division of the byte string by 62.
            var remainder = 0
            for i in number.indices {
                let acc = remainder << 8 | Int(number[i])
                number[i] = UInt8(acc / 62)
                remainder = acc % 62
            }
            digits.append(alphabet[remainder])
        }
        while digits.count < encodedLength { digits.append(UInt8(ascii: "0")) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }
}
