/// A bug that can be planted in the reference ingress (KafkaIngress) or in the broker
/// (FakeKafka), to measure whether scenarios catch it (`harness run --defect NAME`,
/// `harness mutate`, `expectScenario(..., catches:)`).
///
/// Each one is the shape of a real Kafka-ingress or broker bug. A clean build plants none: the
/// components receive a `Set<PlantedDefect>` that is empty in production, checked only at the
/// few seams where a defect changes behaviour, so the hot path pays one empty-set test at most.
public enum PlantedDefect: String, CaseIterable, Sendable, Hashable, Comparable {
    case ignoreKeyOrder
    case loseKeyOrderAfterRebalance
    case keepConsumingAfterDelete
    case invokeTwice
    case dropOffsetHeader
    case dropRunCompletionOnReplay
    case reorderAfterLateQueueSplit
    case skipCommitOnRevoke
    case loseRecordOnPartitionMove
    case neverInvokeAfterRestart
    case deleteWithoutDrainOrCommit
    case ignoreClusterOptions
    case passRecordHeaders
    case alwaysSendTimestamp
    case runWorkflowTwice
    case retryNeverPauses
    case pausedKeyMovesOn
    case invokeAbortedTransactions
    case staleHighWatermark
    case loseLastBatchOnBrokerRestart

    /// Where the defect is planted.
    public enum Component: String, Sendable {
        case ingress
        case broker
    }

    /// The name on the command line and in reports: snake_case (`ignore_key_order`).
    public var name: String {
        var out = ""
        for character in rawValue {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    /// The defect with this command-line name (or Swift case name), if any.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name || $0.rawValue == name }) else { return nil }
        self = found
    }

    public var component: Component {
        switch self {
        case .staleHighWatermark, .loseLastBatchOnBrokerRestart: .broker
        default: .ingress
        }
    }

    /// What goes wrong, in one line.
    public var summary: String {
        switch self {
        case .ignoreKeyOrder: "exclusive handlers run like shared ones: records of one key overlap and finish out of order"
        case .loseKeyOrderAfterRebalance: "after its first rebalance a consumer journals records as if the handler were shared"
        case .keepConsumingAfterDelete: "deleting a subscription forgets it but leaves its consumer running and invoking"
        case .invokeTwice: "every completed invocation is sent to the handler a second time"
        case .dropOffsetHeader: "kafka.offset is left out of the headers handlers get"
        case .dropRunCompletionOnReplay: "a replay leaves the first ctx.run result out of the journal, so the side effect runs again"
        case .reorderAfterLateQueueSplit: "after a rebalance, a poll's records are dispatched last-first, as when partition queues are split after records were fetched"
        case .skipCommitOnRevoke: "offsets are committed on a timer only, never when partitions are revoked: the next owner re-reads what was done"
        case .loseRecordOnPartitionMove: "after a rebalance, a poll's last record is journaled first and deduplication drops the lower offsets"
        case .neverInvokeAfterRestart: "a restart does not resume what was journaled but not yet invoked"
        case .deleteWithoutDrainOrCommit: "deleting a subscription closes its consumer without committing the offsets of what it ingested"
        case .ignoreClusterOptions: "the cluster's options (security, client settings) are not copied into the subscription's consumer"
        case .passRecordHeaders: "the record's own Kafka headers are passed on to the handler"
        case .alwaysSendTimestamp: "kafka.timestamp is sent even for a record without a timestamp (as -1)"
        case .runWorkflowTwice: "a second record for a workflow id runs the workflow again instead of attaching to the first run"
        case .retryNeverPauses: "a retry policy that says pause after its last attempt keeps retrying instead"
        case .pausedKeyMovesOn: "a paused invocation gives its key up: later records of that key run before it is resumed"
        case .invokeAbortedTransactions: "the consumer reads uncommitted: records of aborted transactions are invoked"
        case .staleHighWatermark: "the broker answers fetches with the high watermark of before the last produce, hiding the newest batch"
        case .loseLastBatchOnBrokerRestart: "a broker that restarts loses the last batch it acknowledged on each partition it leads"
        }
    }

    /// The public report this defect stands for, where there is one.
    public var mirrors: String? {
        switch self {
        case .reorderAfterLateQueueSplit, .loseRecordOnPartitionMove, .loseKeyOrderAfterRebalance:
            "restatedev/restate#2437 (reordering when partition queues are split; dedup then drops records)"
        case .deleteWithoutDrainOrCommit, .keepConsumingAfterDelete:
            "restatedev/restate#5269 (drain and commit when a subscription is removed)"
        case .passRecordHeaders, .dropOffsetHeader, .alwaysSendTimestamp:
            "restatedev/restate#1298 (which Kafka headers and metadata reach the handler)"
        case .ignoreClusterOptions:
            "restatedev/restate#1366 (cluster options flattened into the consumer's configuration)"
        case .retryNeverPauses, .pausedKeyMovesOn:
            "restatedev/restate#3676 (pause when the retry limit is exhausted)"
        case .skipCommitOnRevoke:
            "knative-extensions/eventing-kafka-broker#2221 (commit offsets on partition revoked)"
        case .invokeAbortedTransactions:
            "segmentio/kafka-go#1332 (aborted transactional data read under read_committed)"
        default: nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The valid names, for an error message.
    public static var names: String { allCases.map(\.name).joined(separator: ", ") }
}
