/// The operations a client may perform on a resource, as the bit set Metadata, DescribeCluster
/// and DescribeGroups return when asked (KIP-430). FakeKafka stores ACLs but does not enforce
/// them, so it answers as a Kafka broker without an authorizer does: every operation the
/// resource type has.
enum AuthorizedOperations {
    /// Kafka's AclOperation codes; a set has bit `code` on for each operation.
    private enum Operation: Int32 {
        case read = 3, write, create, delete, alter, describe, clusterAction, describeConfigs, alterConfigs, idempotentWrite
    }

    private static func bits(_ operations: [Operation]) -> Int32 {
        operations.reduce(0) { $0 | (1 << $1.rawValue) }
    }

    static let topic = bits([.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs])
    static let cluster = bits([.create, .alter, .describe, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite])

    /// Kafka 4.0 added group configs (KIP-848's group.consumer.* overrides), so groups gained
    /// DESCRIBE_CONFIGS and ALTER_CONFIGS.
    static func group(_ version: KafkaVersion) -> Int32 {
        version >= .v4_0 ? bits([.read, .delete, .describe, .describeConfigs, .alterConfigs]) : bits([.read, .delete, .describe])
    }
}
