import Crypto
import Foundation

/// Restate-style identifiers: a prefix, a version digit and a 128-bit ULID in base62.
///
/// Restate encodes the ULID's `u128` after converting it to big-endian in memory, so on a
/// little-endian machine the number written is the byte-swapped ULID; we do the same so ids look
/// alike (and sort alike) to anyone comparing them with Restate's.
enum ResourceID {
    static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    /// 62^22 > 2^128, so 22 digits always suffice.
    static let encodedLength = 22

    /// A new id such as `sub_1…` (22 base62 characters follow the version digit).
    static func make(prefix: String, now: Date = Date()) -> String {
        prefix + "_1" + base62(ulidBytes(now: now).reversed())
    }

    /// Whether `id` has the shape `make(prefix:)` produces.
    static func isWellFormed(_ id: String, prefix: String) -> Bool {
        decodeError(id, type: prefix) == nil
    }

    /// Why `id` is not an id of this type, in the words of Restate's id decoder (its checks, in
    /// its order); nil when it is one. `bodyLength`: base62 digits after the version.
    static func decodeError(_ id: String, type expected: String, bodyLength: Int = encodedLength) -> String? {
        guard !id.isEmpty else { return "bad length" }
        guard let separator = id.firstIndex(of: "_") else { return "bad format" }
        let type = String(id[..<separator])
        let known = ["inv", "dp", "sub", "prom", "sign", "snap", "mut", "vq"]
        guard known.contains(type) else { return "unrecognized resource type: \(type)" }
        let rest = id[id.index(after: separator)...]
        guard rest.first == "1" else { return "unrecognized codec version" }
        guard type == expected else { return "id doesn't match the expected type" }
        let body = rest.dropFirst().utf8
        guard body.count == bodyLength else { return "bad length" }
        guard body.allSatisfy({ alphabet.contains($0) }) else { return "base62 decode error" }
        return nil
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

    /// Base62 of a big-endian unsigned number of at most 16 bytes, left-padded with '0' to
    /// `length` digits. Two 64-bit words and full-width division: this runs for every record.
    static func base62<S: Sequence>(_ bigEndian: S, length: Int = encodedLength) -> String where S.Element == UInt8 {
        var (high, low): (UInt64, UInt64) = (0, 0)
        var count = 0
        for byte in bigEndian {
            high = high << 8 | low >> 56
            low = low << 8 | UInt64(byte)
            count += 1
        }
        precondition(count <= 16, "base62 takes at most 128 bits, got \(count) bytes")
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(length, encodedLength)) { digits in
            var end = digits.count
            while high != 0 || low != 0 || end > digits.count - length {
                let (q, r) = high.quotientAndRemainder(dividingBy: 62)
                let (lowQuotient, remainder) = UInt64(62).dividingFullWidth((r, low))
                (high, low) = (q, lowQuotient)
                end -= 1
                digits[end] = alphabet[Int(remainder)]
            }
            return String(decoding: UnsafeBufferPointer(rebasing: digits[end...]), as: UTF8.self)
        }
    }
}

/// Invocation ids as Restate writes them: `inv_1`, the partition key (a u64, 11 base62 digits)
/// and the invocation's 128-bit uuid (22 digits), 38 characters in all. Restate derives an
/// object's partition key from a hash of its key, so invocations of one key share the prefix;
/// ours does the same with FNV-1a (Restate's own hash differs, so the digits do not match
/// Restate's for the same key), and a random one for services.
enum InvocationID {
    static let prefix = "inv_1"
    static let partitionKeyLength = 11
    static let length = prefix.count + partitionKeyLength + ResourceID.encodedLength

    static func make(key: String?, now: Date = Date()) -> String {
        let partitionKey = key.map(fnv1a) ?? UInt64.random(in: .min ... .max)
        let keyBytes = (0..<8).lazy.map { UInt8(truncatingIfNeeded: partitionKey >> (56 - 8 * $0)) }
        return prefix + ResourceID.base62(keyBytes, length: partitionKeyLength) + ResourceID.base62(ResourceID.ulidBytes(now: now).reversed())
    }

    /// The id of an idempotent request: the same target and idempotency key always give the same
    /// id, as in Restate (where it comes from the idempotency id), so a repeated request finds
    /// the invocation the first one made.
    static func idempotent(service: String, handler: String, key: String?, idempotencyKey: String) -> String {
        let partitionKey = fnv1a(key ?? idempotencyKey)
        let keyBytes = (0..<8).lazy.map { UInt8(truncatingIfNeeded: partitionKey >> (56 - 8 * $0)) }
        // Length-prefixed parts, so that no two targets run together into the same text.
        let identity = [service, key ?? "", handler, idempotencyKey].map { "\($0.utf8.count):\($0)" }.joined()
        let digest = Array(SHA256.hash(data: Data(identity.utf8)).prefix(16))
        return prefix + ResourceID.base62(keyBytes, length: partitionKeyLength) + ResourceID.base62(digest)
    }

    /// The seed of a handler's deterministic random numbers (protocol 6), stable for the
    /// invocation across attempts and restarts, as Restate derives it from the invocation id (by
    /// its own hash, so the numbers differ from Restate's for the same id).
    static func randomSeed(_ id: String) -> UInt64 { fnv1a(id) }

    static func isWellFormed(_ id: String) -> Bool { decodeError(id) == nil }

    static func decodeError(_ id: String) -> String? {
        ResourceID.decodeError(id, type: "inv", bodyLength: partitionKeyLength + ResourceID.encodedLength)
    }

    private static func fnv1a(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }
}
