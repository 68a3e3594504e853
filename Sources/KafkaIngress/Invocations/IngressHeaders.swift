import Foundation
import PlantedDefects
import RdKafka
import RestateProtocol

/// The headers the ingress gives every handler, describing the record it came from.
enum IngressHeaders {
    /// As Restate: `kafka.timestamp` and `kafka.key` only when the record has them; the record's
    /// own Kafka headers are not passed on.
    static func make(for record: RdKafkaRecord, subscriptionID: String, defects: Set<PlantedDefect> = []) -> [(String, String)] {
        var headers = [
            (KafkaIngressHeader.offset, String(record.offset)),
            (KafkaIngressHeader.topic, record.topic),
            (KafkaIngressHeader.partition, String(record.partition)),
        ]
        if let timestamp = record.timestamp {
            headers.append((KafkaIngressHeader.timestamp, String(timestamp)))
        } else if defects.contains(.alwaysSendTimestamp) {
            headers.append((KafkaIngressHeader.timestamp, "-1"))
        }
        headers.append((KafkaIngressHeader.subscriptionID, subscriptionID))
        if let key = record.key {
            headers.append((KafkaIngressHeader.key, urlSafeBase64(key)))
        }
        if defects.contains(.passRecordHeaders) {
            headers += record.headers.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) } ?? "") }
        }
        return headers
    }

    private static let urlSafeAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64 with the URL-safe alphabet, padding kept. By hand: Foundation's encoder and two
    /// replacements cost more than the rest of a record's headers.
    static func urlSafeBase64(_ bytes: [UInt8]) -> String {
        let alphabet = urlSafeAlphabet
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The deduplication producer of a partition as seen by one subscription: a stable 64-bit hash
/// (FNV-1a) of subscription, group, topic and partition. Its sequence numbers are the offsets.
enum ProducerID {
    static func of(subscription: String, group: String, topic: String, partition: Int32) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array("\(subscription)\u{0}\(group)\u{0}\(topic)\u{0}\(partition)".utf8) {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
