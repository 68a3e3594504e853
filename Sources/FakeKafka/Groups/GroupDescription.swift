import KafkaProtocol
import NIOCore

/// A group as introspection shows it, classic or KIP-848. For a consumer group (`type`
/// `.consumer`) the generation is the group epoch, each member's assignment is what it was told
/// it owns, and `memberEpoch`/`targetAssignment` show where it is going.
public struct GroupDescription: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var id: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        /// The member's metadata for the group's protocol (opaque to the broker).
        public var metadata: [UInt8]
        /// The member's assignment as the leader sent it (opaque to the broker).
        public var rawAssignment: [UInt8]
        /// The assignment decoded, when the group uses the "consumer" protocol type.
        public var assignment: [TopicPartition]?
        /// A consumer group member's epoch (nil in a classic group).
        public var memberEpoch: Int32? = nil
        /// What the coordinator's assignor gave a consumer group member, which it owns once it
        /// has reconciled (nil in a classic group).
        public var targetAssignment: [TopicPartition]? = nil
    }

    public var id: String
    public var state: GroupState
    public var generation: Int32
    public var protocolType: String?
    public var protocolName: String?
    public var leader: String?
    public var members: [Member]
    public var type: GroupType = .classic
    /// The server-side assignor a consumer group uses (nil for a classic group).
    public var assignor: String? = nil
}

extension ConsumerGroup {
    func describe() -> GroupDescription {
        let members = self.members.values.sorted { $0.id < $1.id }.map { m in
            GroupDescription.Member(
                id: m.id, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
                metadata: m.protocols.first { $0.name == protocolName }?.metadata ?? [],
                rawAssignment: m.assignment,
                assignment: protocolType == "consumer" ? Self.decodeAssignment(m.assignment) : nil)
        }
        return GroupDescription(id: id, state: state, generation: generation, protocolType: protocolType,
                                protocolName: protocolName, leader: leaderId, members: members)
    }

    /// Reads a consumer-protocol assignment: an int16 version, then the versioned body.
    static func decodeAssignment(_ bytes: [UInt8]) -> [TopicPartition]? {
        if bytes.isEmpty { return [] }
        var buf = ByteBuffer(bytes: bytes)
        guard let version = try? buf.readKafkaInt16(),
              let a = try? ConsumerProtocolAssignment(from: &buf, version: min(version, ConsumerProtocolAssignment.versions.upperBound))
        else { return nil }
        return a.assignedPartitions.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0) } }.sorted()
    }
}

extension ModernConsumerGroup {
    func describe() -> GroupDescription {
        let members = self.members.values.sorted { $0.id < $1.id }.map { m in
            GroupDescription.Member(
                id: m.id, groupInstanceId: m.instanceId, clientId: m.clientId, clientHost: m.clientHost,
                metadata: [], rawAssignment: [], assignment: m.assigned.sorted(),
                memberEpoch: m.epoch, targetAssignment: (target[m.id] ?? []).sorted())
        }
        return GroupDescription(id: id, state: state, generation: groupEpoch, protocolType: "consumer", protocolName: nil,
                                leader: nil, members: members, type: .consumer, assignor: assignorName)
    }
}
