import NIOCore

/// A struct of the Kafka protocol that can read and write itself at a given API version.
public protocol KafkaStruct: Sendable, Equatable {
    init(from buf: inout ByteBuffer, version: Int16) throws
    func encode(into buf: inout ByteBuffer, version: Int16)
}

/// A top-level request or response body (everything after the header).
public protocol KafkaMessage: KafkaStruct {
    /// The versions this implementation serves.
    static var versions: ClosedRange<Int16> { get }
    /// Whether `version` uses compact encodings and tagged fields.
    static func isFlexible(version: Int16) -> Bool
}

extension KafkaMessage {
    /// Encodes the message body into a new buffer.
    public func encoded(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buf = allocator.buffer(capacity: 256)
        encode(into: &buf, version: version)
        return buf
    }
}

/// A Kafka UUID (topic ids): 128 bits, all zero meaning "none".
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public static let zero = KafkaUUID(high: 0, low: 0)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A random version-4 UUID, as Kafka assigns to new topics.
    public static func random() -> KafkaUUID {
        var g = SystemRandomNumberGenerator()
        return KafkaUUID(high: (g.next() & ~0xF000) | 0x4000, low: (g.next() & ~(3 << 62)) | (2 << 62))
    }

    public var description: String {
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(high) + hex(low)
    }
}
