import Foundation
import RdKafka
import RestateProtocol

/// The headers the ingress gives every handler, describing the record it came from.
enum IngressHeaders {
    /// As Restate: `kafka.timestamp` and `kafka.key` only when the record has them; the record's
    /// own Kafka headers are not passed on.
    static func make(for record: RdKafkaRecord, subscriptionID: String) -> [(String, String)] {
        var headers = [
            (KafkaIngressHeader.offset, String(record.offset)),
            (KafkaIngressHeader.topic, record.topic),
            (KafkaIngressHeader.partition, String(record.partition)),
        ]
        if let timestamp = record.timestamp {
            headers.append((KafkaIngressHeader.timestamp, String(timestamp)))
        }
        headers.append((KafkaIngressHeader.subscriptionID, subscriptionID))
        if let key = record.key {
            headers.append((KafkaIngressHeader.key, urlSafeBase64(key)))
        }
        return headers
    }

    /// Base64 with the URL-safe alphabet, padding kept.
    static func urlSafeBase64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
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
