import NIOCore

/// The header in front of every request. Version 1 carries the client id (always a classic,
/// non-compact string); version 2, used by flexible requests, adds tagged fields.
public struct RequestHeader: Sendable, Equatable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?

    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    /// Reads the fixed part (key, version, correlation id) and, when `flexible` is known, the rest.
    /// The header's own version depends on the API and version read first, so callers pass a
    /// function from (apiKey, apiVersion) to "is this request flexible".
    public init(from buf: inout ByteBuffer, isFlexible: (Int16, Int16) -> Bool) throws {
        apiKey = try buf.readKafkaInt16()
        apiVersion = try buf.readKafkaInt16()
        correlationId = try buf.readKafkaInt32()
        clientId = try buf.readKafkaNullableString(compact: false)
        if isFlexible(apiKey, apiVersion) {
            try buf.readKafkaTaggedFields { _, _ in }
        }
    }

    public func encode(into buf: inout ByteBuffer, flexible: Bool) {
        buf.writeInteger(apiKey)
        buf.writeInteger(apiVersion)
        buf.writeInteger(correlationId)
        buf.writeKafkaNullableString(clientId, compact: false)
        if flexible { buf.writeKafkaUnsignedVarint(0) }
    }
}

/// The header in front of every response: the correlation id, plus tagged fields (header v1) for
/// flexible responses. ApiVersions is the exception: its response header is always v0, because a
/// client reads it before it knows which versions the broker speaks.
public struct ResponseHeader: Sendable, Equatable {
    public var correlationId: Int32

    public init(correlationId: Int32) { self.correlationId = correlationId }

    public init(from buf: inout ByteBuffer, flexible: Bool) throws {
        correlationId = try buf.readKafkaInt32()
        if flexible { try buf.readKafkaTaggedFields { _, _ in } }
    }

    public func encode(into buf: inout ByteBuffer, flexible: Bool) {
        buf.writeInteger(correlationId)
        if flexible { buf.writeKafkaUnsignedVarint(0) }
    }

    /// Whether a response to `apiKey` at `version` carries a v1 header.
    public static func isFlexible(apiKey: ApiKey, version: Int16) -> Bool {
        apiKey != .apiVersions && apiKey.isFlexible(version: version)
    }
}

extension ApiKey {
    /// The request/response type pair's flexibility at `version` (both sides agree in Kafka).
    public func isFlexible(version: Int16) -> Bool {
        requestType.isFlexible(version: version)
    }
}
