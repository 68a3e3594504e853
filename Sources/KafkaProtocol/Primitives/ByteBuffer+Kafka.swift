import NIOCore

// Readers and writers for the Kafka primitive types. "compact" selects the flexible-version
// encodings (unsigned varint length + 1) over the classic ones (int16/int32 length, -1 for null).

extension ByteBuffer {
    @inline(__always)
    mutating func readOrThrow<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        guard let v = readInteger(as: T.self) else { throw KafkaProtocolError.truncated(what()) }
        return v
    }

    public mutating func readKafkaInt8() throws -> Int8 { try readOrThrow(Int8.self, "int8") }
    public mutating func readKafkaInt16() throws -> Int16 { try readOrThrow(Int16.self, "int16") }
    public mutating func readKafkaInt32() throws -> Int32 { try readOrThrow(Int32.self, "int32") }
    public mutating func readKafkaInt64() throws -> Int64 { try readOrThrow(Int64.self, "int64") }
    public mutating func readKafkaUInt16() throws -> UInt16 { try readOrThrow(UInt16.self, "uint16") }
    public mutating func readKafkaFloat64() throws -> Double { Double(bitPattern: try readOrThrow(UInt64.self, "float64")) }
    public mutating func readKafkaBool() throws -> Bool { try readOrThrow(UInt8.self, "bool") != 0 }
    public mutating func writeKafkaBool(_ v: Bool) { writeInteger(UInt8(v ? 1 : 0)) }

    public mutating func readKafkaUUID() throws -> KafkaUUID {
        KafkaUUID(high: try readOrThrow(UInt64.self, "uuid"), low: try readOrThrow(UInt64.self, "uuid"))
    }

    public mutating func writeKafkaUUID(_ v: KafkaUUID) {
        writeInteger(v.high)
        writeInteger(v.low)
    }

    // MARK: Varints

    /// Reads a base-128 unsigned varint of at most `T.bitWidth` bits.
    mutating func readUnsignedVarint<T: FixedWidthInteger & UnsignedInteger>(as: T.Type) throws -> T {
        var result: T = 0
        var shift = 0
        while true {
            guard shift < T.bitWidth else { throw KafkaProtocolError.invalidLength("varint longer than \(T.bitWidth) bits", shift) }
            guard let byte = readInteger(as: UInt8.self) else { throw KafkaProtocolError.truncated("varint") }
            let bits = T(byte & 0x7F)
            // The last group may only carry the bits that are left.
            if shift + 7 > T.bitWidth && bits >> (T.bitWidth - shift) != 0 {
                throw KafkaProtocolError.invalidLength("varint wider than \(T.bitWidth) bits", Int(byte))
            }
            result |= bits << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func writeUnsignedVarint<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var v = value
        while v >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writeInteger(UInt8(v))
    }

    public mutating func readKafkaUnsignedVarint() throws -> UInt32 { try readUnsignedVarint(as: UInt32.self) }
    public mutating func writeKafkaUnsignedVarint(_ value: UInt32) { writeUnsignedVarint(value) }
    public mutating func readKafkaUnsignedVarlong() throws -> UInt64 { try readUnsignedVarint(as: UInt64.self) }
    public mutating func writeKafkaUnsignedVarlong(_ value: UInt64) { writeUnsignedVarint(value) }

    /// Zig-zag signed varint (record fields).
    public mutating func readKafkaVarint() throws -> Int32 {
        let u = try readKafkaUnsignedVarint()
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    public mutating func writeKafkaVarint(_ v: Int32) {
        writeKafkaUnsignedVarint(UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }

    public mutating func readKafkaVarlong() throws -> Int64 {
        let u = try readKafkaUnsignedVarlong()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    public mutating func writeKafkaVarlong(_ v: Int64) {
        writeKafkaUnsignedVarlong(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    // MARK: Lengths

    /// Reads a length prefix; nil means null. Validates it against the bytes left.
    mutating func readKafkaLength(compact: Bool, short: Bool, what: String, elementMinSize: Int = 1) throws -> Int? {
        let n: Int
        if compact {
            n = Int(try readKafkaUnsignedVarint()) - 1
        } else if short {
            n = Int(try readKafkaInt16())
        } else {
            n = Int(try readKafkaInt32())
        }
        if n < 0 {
            if n == -1 { return nil }
            throw KafkaProtocolError.invalidLength(what, n)
        }
        if n * elementMinSize > readableBytes { throw KafkaProtocolError.truncated(what) }
        return n
    }

    mutating func writeKafkaLength(_ n: Int?, compact: Bool, short: Bool) {
        if compact {
            writeKafkaUnsignedVarint(UInt32((n ?? -1) + 1))
        } else if short {
            writeInteger(Int16(n ?? -1))
        } else {
            writeInteger(Int32(n ?? -1))
        }
    }

    // MARK: Strings

    public mutating func readKafkaNullableString(compact: Bool) throws -> String? {
        guard let n = try readKafkaLength(compact: compact, short: true, what: "string") else { return nil }
        guard let s = readString(length: n) else { throw KafkaProtocolError.truncated("string") }
        return s
    }

    public mutating func readKafkaString(compact: Bool) throws -> String {
        try readKafkaNullableString(compact: compact) ?? ""
    }

    public mutating func writeKafkaNullableString(_ s: String?, compact: Bool) {
        guard let s else { return writeKafkaLength(nil, compact: compact, short: true) }
        writeKafkaLength(s.utf8.count, compact: compact, short: true)
        writeString(s)
    }

    public mutating func writeKafkaString(_ s: String, compact: Bool) {
        writeKafkaNullableString(s, compact: compact)
    }

    // MARK: Bytes

    public mutating func readKafkaNullableBytes(compact: Bool) throws -> [UInt8]? {
        guard let n = try readKafkaLength(compact: compact, short: false, what: "bytes") else { return nil }
        return readBytes(length: n)
    }

    public mutating func readKafkaBytes(compact: Bool) throws -> [UInt8] {
        try readKafkaNullableBytes(compact: compact) ?? []
    }

    public mutating func writeKafkaNullableBytes(_ b: [UInt8]?, compact: Bool) {
        guard let b else { return writeKafkaLength(nil, compact: compact, short: false) }
        writeKafkaLength(b.count, compact: compact, short: false)
        writeBytes(b)
    }

    public mutating func writeKafkaBytes(_ b: [UInt8], compact: Bool) {
        writeKafkaNullableBytes(b, compact: compact)
    }

    /// Record batches stay a slice of the request buffer: no copy on the produce path.
    public mutating func readKafkaRecords(compact: Bool) throws -> ByteBuffer? {
        guard let n = try readKafkaLength(compact: compact, short: false, what: "records") else { return nil }
        return readSlice(length: n)
    }

    public mutating func writeKafkaRecords(_ records: ByteBuffer?, compact: Bool) {
        guard var records else { return writeKafkaLength(nil, compact: compact, short: false) }
        writeKafkaLength(records.readableBytes, compact: compact, short: false)
        writeBuffer(&records)
    }

    // MARK: Arrays

    public mutating func readKafkaNullableArray<T>(compact: Bool, _ element: (inout ByteBuffer) throws -> T) throws -> [T]? {
        guard let n = try readKafkaLength(compact: compact, short: false, what: "array") else { return nil }
        var result: [T] = []
        // n is at most the bytes left, but an element may be far larger in memory than its
        // one-byte minimum on the wire: the count alone must not size the allocation.
        result.reserveCapacity(Swift.min(n, 1024))
        for _ in 0..<n { result.append(try element(&self)) }
        return result
    }

    public mutating func readKafkaArray<T>(compact: Bool, _ element: (inout ByteBuffer) throws -> T) throws -> [T] {
        try readKafkaNullableArray(compact: compact, element) ?? []
    }

    public mutating func writeKafkaNullableArray<T>(_ a: [T]?, compact: Bool, _ element: (inout ByteBuffer, T) -> Void) {
        guard let a else { return writeKafkaLength(nil, compact: compact, short: false) }
        writeKafkaLength(a.count, compact: compact, short: false)
        for e in a { element(&self, e) }
    }

    public mutating func writeKafkaArray<T>(_ a: [T], compact: Bool, _ element: (inout ByteBuffer, T) -> Void) {
        writeKafkaNullableArray(a, compact: compact, element)
    }

    // MARK: Tagged fields

    /// Reads a tagged-field section, handing each field's bytes to `field`; unknown tags are skipped.
    public mutating func readKafkaTaggedFields(_ field: (UInt32, inout ByteBuffer) throws -> Void) throws {
        let count = try readKafkaUnsignedVarint()
        var lastTag: Int64 = -1
        for _ in 0..<count {
            let tag = try readKafkaUnsignedVarint()
            guard Int64(tag) > lastTag else { throw KafkaProtocolError.invalidLength("tagged field order", Int(tag)) }
            lastTag = Int64(tag)
            let size = Int(try readKafkaUnsignedVarint())
            guard var slice = readSlice(length: size) else { throw KafkaProtocolError.truncated("tagged field \(tag)") }
            try field(tag, &slice)
        }
    }

    /// Writes tagged fields, which must be in ascending tag order.
    public mutating func writeKafkaTaggedFields(_ fields: [(UInt32, ByteBuffer)]) {
        writeKafkaUnsignedVarint(UInt32(fields.count))
        for (tag, var data) in fields {
            writeKafkaUnsignedVarint(tag)
            writeKafkaUnsignedVarint(UInt32(data.readableBytes))
            writeBuffer(&data)
        }
    }
}
