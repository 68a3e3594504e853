/// The Kafka error codes FakeKafka produces or tests expect, by their protocol names.
public enum KafkaErrorCode: Int16, Error, Sendable, CustomStringConvertible {
    case unknownServerError = -1
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case leaderNotAvailable = 5
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case messageTooLarge = 10
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case invalidTopicException = 17
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupId = 24
    case unknownMemberId = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidReplicaAssignment = 39
    case unsupportedSaslMechanism = 33
    case illegalSaslState = 34
    case unsupportedVersion = 35
    case saslAuthenticationFailed = 58
    case invalidRequest = 42
    case outOfOrderSequenceNumber = 45
    case duplicateSequenceNumber = 46
    case invalidProducerEpoch = 47
    case unsupportedForMessageFormat = 43
    case nonEmptyGroup = 68
    case groupIdNotFound = 69
    case memberIdRequired = 79
    case fencedInstanceId = 82
    case unknownTopicId = 100
    case resourceNotFound = 91
    case duplicateResource = 92
    case unacceptableCredential = 93
    case transactionalIdNotFound = 105
    case invalidTxnState = 48
    case invalidProducerIdMapping = 49
    case concurrentTransactions = 51
    case operationNotAttempted = 55
    case producerFenced = 90
    case invalidRecord = 87
    case groupSubscribedToTopic = 86
    case policyViolation = 44
    case unstableOffsetCommit = 88
    case invalidTransactionTimeout = 50
    case invalidConfig = 40
    case mismatchedEndpointType = 114
    case unsupportedEndpointType = 115
    case fencedMemberEpoch = 110
    case unreleasedInstanceId = 111
    case unsupportedAssignor = 112
    case staleMemberEpoch = 113

    public var description: String { "\(name) (\(rawValue))" }

    public var name: String {
        switch self {
        case .unknownServerError: "UNKNOWN_SERVER_ERROR"
        case .none: "NONE"
        case .offsetOutOfRange: "OFFSET_OUT_OF_RANGE"
        case .corruptMessage: "CORRUPT_MESSAGE"
        case .unknownTopicOrPartition: "UNKNOWN_TOPIC_OR_PARTITION"
        case .leaderNotAvailable: "LEADER_NOT_AVAILABLE"
        case .notLeaderOrFollower: "NOT_LEADER_OR_FOLLOWER"
        case .requestTimedOut: "REQUEST_TIMED_OUT"
        case .messageTooLarge: "MESSAGE_TOO_LARGE"
        case .coordinatorLoadInProgress: "COORDINATOR_LOAD_IN_PROGRESS"
        case .coordinatorNotAvailable: "COORDINATOR_NOT_AVAILABLE"
        case .notCoordinator: "NOT_COORDINATOR"
        case .invalidTopicException: "INVALID_TOPIC_EXCEPTION"
        case .illegalGeneration: "ILLEGAL_GENERATION"
        case .inconsistentGroupProtocol: "INCONSISTENT_GROUP_PROTOCOL"
        case .invalidGroupId: "INVALID_GROUP_ID"
        case .unknownMemberId: "UNKNOWN_MEMBER_ID"
        case .invalidSessionTimeout: "INVALID_SESSION_TIMEOUT"
        case .rebalanceInProgress: "REBALANCE_IN_PROGRESS"
        case .topicAlreadyExists: "TOPIC_ALREADY_EXISTS"
        case .invalidPartitions: "INVALID_PARTITIONS"
        case .invalidReplicationFactor: "INVALID_REPLICATION_FACTOR"
        case .invalidReplicaAssignment: "INVALID_REPLICA_ASSIGNMENT"
        case .unsupportedSaslMechanism: "UNSUPPORTED_SASL_MECHANISM"
        case .illegalSaslState: "ILLEGAL_SASL_STATE"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .saslAuthenticationFailed: "SASL_AUTHENTICATION_FAILED"
        case .invalidRequest: "INVALID_REQUEST"
        case .invalidConfig: "INVALID_CONFIG"
        case .mismatchedEndpointType: "MISMATCHED_ENDPOINT_TYPE"
        case .unsupportedEndpointType: "UNSUPPORTED_ENDPOINT_TYPE"
        case .fencedMemberEpoch: "FENCED_MEMBER_EPOCH"
        case .unreleasedInstanceId: "UNRELEASED_INSTANCE_ID"
        case .unsupportedAssignor: "UNSUPPORTED_ASSIGNOR"
        case .staleMemberEpoch: "STALE_MEMBER_EPOCH"
        case .outOfOrderSequenceNumber: "OUT_OF_ORDER_SEQUENCE_NUMBER"
        case .duplicateSequenceNumber: "DUPLICATE_SEQUENCE_NUMBER"
        case .invalidProducerEpoch: "INVALID_PRODUCER_EPOCH"
        case .unsupportedForMessageFormat: "UNSUPPORTED_FOR_MESSAGE_FORMAT"
        case .nonEmptyGroup: "NON_EMPTY_GROUP"
        case .groupIdNotFound: "GROUP_ID_NOT_FOUND"
        case .memberIdRequired: "MEMBER_ID_REQUIRED"
        case .fencedInstanceId: "FENCED_INSTANCE_ID"
        case .unknownTopicId: "UNKNOWN_TOPIC_ID"
        case .resourceNotFound: "RESOURCE_NOT_FOUND"
        case .duplicateResource: "DUPLICATE_RESOURCE"
        case .unacceptableCredential: "UNACCEPTABLE_CREDENTIAL"
        case .transactionalIdNotFound: "TRANSACTIONAL_ID_NOT_FOUND"
        case .invalidTxnState: "INVALID_TXN_STATE"
        case .invalidProducerIdMapping: "INVALID_PRODUCER_ID_MAPPING"
        case .concurrentTransactions: "CONCURRENT_TRANSACTIONS"
        case .operationNotAttempted: "OPERATION_NOT_ATTEMPTED"
        case .producerFenced: "PRODUCER_FENCED"
        case .invalidRecord: "INVALID_RECORD"
        case .groupSubscribedToTopic: "GROUP_SUBSCRIBED_TO_TOPIC"
        case .policyViolation: "POLICY_VIOLATION"
        case .unstableOffsetCommit: "UNSTABLE_OFFSET_COMMIT"
        case .invalidTransactionTimeout: "INVALID_TRANSACTION_TIMEOUT"
        }
    }
}
