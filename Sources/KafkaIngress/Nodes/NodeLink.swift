import Foundation
import RdKafka

// What passes between the ingress holding a data directory and the nodes other processes run on
// it: JSON over HTTP on loopback. Restate's nodes send what they ingest to the partition
// processor that owns it; here the holder of the directory is that single owner.

/// A subscription for a node to consume, with what consuming it needs.
struct ConsumerPlan: Codable, Sendable, Equatable {
    var subscription: Subscription
    var cluster: KafkaClusterConfiguration
    /// Whether record keys are object keys, which a consumer checks before sending records on.
    var keyed: Bool
}

/// `GET /topology`: what every node consumes now, and where users find the admin API.
struct NodeTopology: Codable, Sendable {
    var holder: Int32
    var adminURL: String?
    var plans: [ConsumerPlan]
}

/// `POST /ingest`: one poll's records of one subscription.
struct IngestRequest: Codable, Sendable {
    struct Record: Codable, Sendable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var timestamp: Int64?
        var key: Data?
        var value: Data?
        var headers: [Header]
    }

    struct Header: Codable, Sendable {
        var key: String
        var value: Data?
    }

    var subscription: String
    var records: [Record]
    var keys: [String?]

    init(subscription: String, records: [RdKafkaRecord], keys: [String?]) {
        self.subscription = subscription
        self.keys = keys
        self.records = records.map { record in
            Record(topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
                   key: record.key.map { Data($0) }, value: record.value.map { Data($0) },
                   headers: record.headers.map { Header(key: $0.key, value: $0.value.map { Data($0) }) })
        }
    }

    var rdKafkaRecords: [RdKafkaRecord] {
        records.map { record in
            RdKafkaRecord(topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
                          key: record.key.map { [UInt8]($0) }, value: record.value.map { [UInt8]($0) },
                          headers: record.headers.map { RdKafkaHeader($0.key, $0.value.map { [UInt8]($0) }) })
        }
    }
}

/// The answer to an ingest whose records cannot be ingested: the subscription stalls at `record`.
struct IngestRefusal: Codable, Sendable {
    var record: Int
    var reason: String
}

/// `POST /drain`: wait until the invocations of these partitions (or, without, of the whole
/// subscription) have ended.
struct DrainRequest: Codable, Sendable {
    struct Partition: Codable, Sendable {
        var topic: String
        var partition: Int32
    }

    var subscription: String
    var partitions: [Partition]?
}

/// Where the holder of a data directory serves its nodes: `ingress.nodes` in the directory,
/// replaced whole (written aside, then renamed) so a reader never sees half of it.
struct NodeLinkFile: Codable, Sendable {
    var holder: Int32
    var url: String

    static func path(in directory: String) -> String { directory + "/ingress.nodes" }

    static func read(in directory: String) -> NodeLinkFile? {
        guard let data = FileManager.default.contents(atPath: path(in: directory)) else { return nil }
        return try? JSONDecoder().decode(NodeLinkFile.self, from: data)
    }

    func write(in directory: String) throws {
        let aside = Self.path(in: directory) + ".\(holder)"
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: aside))
        guard rename(aside, Self.path(in: directory)) == 0 else {
            throw JournalError(message: "cannot publish \(Self.path(in: directory)): \(String(cString: strerror(errno)))")
        }
    }

    /// Only the holder's own file: a successor may have published its own meanwhile.
    func remove(in directory: String) {
        guard Self.read(in: directory)?.holder == holder else { return }
        unlink(Self.path(in: directory))
    }
}
