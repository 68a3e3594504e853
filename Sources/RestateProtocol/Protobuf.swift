/// The protobuf wire format, just enough for the service protocol's few messages: varints and
/// length-delimited fields written in field order, unknown fields skipped when reading.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// proto3 scalars are omitted when zero.
    mutating func uint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(value)
    }

    mutating func bool(_ field: Int, _ value: Bool) { uint(field, value ? 1 : 0) }

    mutating func bytes(_ field: Int, _ value: [UInt8], always: Bool = false) {
        guard always || !value.isEmpty else { return }
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// A nested message; written even when empty, since presence matters for oneofs.
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        bytes(field, inner.bytes, always: true)
    }
}

/// Why service protocol bytes could not be read.
public struct RestateProtocolError: Error, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case bytes([UInt8])
    }

    private let data: [UInt8]
    private var index = 0

    init(_ data: [UInt8]) { self.data = data }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < data.count else { throw RestateProtocolError("truncated varint") }
            guard shift < 64 else { throw RestateProtocolError("varint longer than 64 bits") }
            let byte = data[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The last occurrence of `field` in `data` (protobuf's rule for repeated scalars), or nil.
    /// The strings in fields 1 and 2 of a message (a header's name and value, a workflow target's
    /// name and key); empty when absent.
    static func stringPair(in data: [UInt8]) throws -> (String, String) {
        var reader = ProtobufReader(data)
        var first = "", second = ""
        while let (f, v) = try reader.next() {
            if f == 1 { first = v.string } else if f == 2 { second = v.string }
        }
        return (first, second)
    }

    static func last(_ field: Int, in data: [UInt8]) throws -> Value? {
        var reader = ProtobufReader(data)
        var found: Value?
        while let (f, v) = try reader.next() {
            if f == field { found = v }
        }
        return found
    }

    /// A reader of a packed repeated scalar's bytes.
    static func packed(_ data: [UInt8]) -> ProtobufReader { ProtobufReader(data) }

    /// The next varint of a packed field, or nil at the end.
    mutating func nextVarint() throws -> UInt64? {
        index < data.count ? try varint() : nil
    }

    /// The next field number and value, or nil at the end. Fixed-width fields are skipped.
    mutating func next() throws -> (field: Int, value: Value)? {
        while index < data.count {
            let key = try varint()
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: return (field, .varint(try varint()))
            case 2:
                let n = Int(try varint())
                guard n >= 0, index + n <= data.count else { throw RestateProtocolError("length \(n) of field \(field) exceeds the message") }
                defer { index += n }
                return (field, .bytes(Array(data[index..<(index + n)])))
            case 1: index += 8
            case 5: index += 4
            default: throw RestateProtocolError("unsupported wire type \(key & 7) for field \(field)")
            }
            guard index <= data.count else { throw RestateProtocolError("truncated fixed-width field \(field)") }
        }
        return nil
    }
}

extension ProtobufReader.Value {
    var uint: UInt64 {
        if case .varint(let v) = self { return v }
        return 0
    }

    var bytes: [UInt8] {
        if case .bytes(let b) = self { return b }
        return []
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
