/// Why bytes could not be read as Kafka protocol data. Each case says what was being read.
public enum KafkaProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended before `what` was complete.
    case truncated(String)
    /// A length, count or varint is out of range.
    case invalidLength(String, Int)
    /// A string is not valid UTF-8.
    case invalidUTF8(String)
    /// A message type was asked to decode a version it does not serve.
    case unsupportedVersion(String, Int16)
    /// A record batch failed validation (magic, CRC, size).
    case corruptRecordBatch(String)
    /// A codec failed to compress or decompress.
    case compression(String)

    public var description: String {
        switch self {
        case .truncated(let what): "truncated input while reading \(what)"
        case .invalidLength(let what, let n): "invalid length \(n) for \(what)"
        case .invalidUTF8(let what): "\(what) is not valid UTF-8"
        case .unsupportedVersion(let message, let v): "\(message) does not support version \(v)"
        case .corruptRecordBatch(let why): "corrupt record batch: \(why)"
        case .compression(let why): "compression: \(why)"
        }
    }
}
