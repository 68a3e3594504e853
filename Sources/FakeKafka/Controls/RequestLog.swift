import KafkaProtocol
import NIOCore

/// One request as the broker received it.
public struct RequestLogEntry: Sendable, Equatable {
    public var sequence: Int
    public var time: NIODeadline
    public var broker: Int32
    public var connection: Int
    public var clientId: String?
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32

    /// The API's name, or the raw key when it is one we do not serve.
    public var apiName: String { ApiKey(rawValue: apiKey).map(\.description) ?? "ApiKey(\(apiKey))" }
}

/// The most recent requests (a bounded window), with how many fell out of it, so a reader always
/// knows whether it sees everything.
struct RequestLog {
    let capacity: Int
    private(set) var entries: [RequestLogEntry] = []
    private(set) var total = 0
    private var start = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func append(_ entry: RequestLogEntry) {
        total += 1
        if entries.count < capacity {
            entries.append(entry)
        } else {
            entries[start] = entry
            start = (start + 1) % capacity
        }
    }

    var ordered: [RequestLogEntry] { Array(entries[start...] + entries[..<start]) }
    var dropped: Int { total - entries.count }
}
