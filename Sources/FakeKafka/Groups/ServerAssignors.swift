import KafkaProtocol

/// The assignors a KIP-848 consumer group's coordinator runs (Kafka's `group.consumer.assignors`):
/// the broker, not a leader client, decides who reads what. A member may name one with
/// `group.remote.assignor`; the group uses the one most of its members name, else the first.
enum ServerAssignor: String, CaseIterable, Sendable {
    /// Balanced and sticky: every member ends up within one partition of the others (among
    /// those subscribed to the same topics), and a partition stays with its owner when it can.
    case uniform
    /// Per topic, contiguous ranges of partitions to the subscribed members in member-id order,
    /// the first ones taking one more when the count does not divide.
    case range

    /// What one member brings to an assignment.
    struct Subscriber {
        var topics: Set<String>
        /// The member's previous target, for stickiness.
        var previous: Set<TopicPartition>
    }

    /// The new target assignment, by member id. `partitionCounts` gives every subscribed topic
    /// that exists; `rotate` moves every partition to another member when it can (a forced
    /// rebalance), so that with two or more members each partition changes owner.
    func assign(_ members: [String: Subscriber], partitionCounts: [String: Int32], rotate: Bool = false) -> [String: Set<TopicPartition>] {
        var result = members.mapValues { _ in Set<TopicPartition>() }
        if members.isEmpty { return result }
        switch self {
        case .range:
            for (topic, count) in partitionCounts.sorted(by: { $0.key < $1.key }) {
                var ids = members.filter { $0.value.topics.contains(topic) }.keys.sorted()
                if ids.isEmpty { continue }
                if rotate { ids = Array(ids.dropFirst() + ids.prefix(1)) }
                let share = Int(count) / ids.count, extra = Int(count) % ids.count
                var next: Int32 = 0
                for (i, id) in ids.enumerated() {
                    let n = share + (i < extra ? 1 : 0)
                    for p in next..<next + Int32(n) { result[id]!.insert(TopicPartition(topic, p)) }
                    next += Int32(n)
                }
            }
        case .uniform:
            let partitions = partitionCounts.sorted { $0.key < $1.key }.flatMap { t in (0..<t.value).map { TopicPartition(t.key, $0) } }
            let ids = members.keys.sorted()
            func eligible(_ tp: TopicPartition) -> [String] { ids.filter { members[$0]!.topics.contains(tp.topic) } }
            // Owners keep what they had (unless rotating); the rest goes to the least loaded
            // member that may take it; then partitions move from a member with two more than
            // another that may take them, until none has: sticky, and balanced within one.
            var owner: [TopicPartition: String] = [:]
            for tp in partitions {
                let candidates = eligible(tp)
                let previous = candidates.first { members[$0]!.previous.contains(tp) }
                if let previous, !rotate {
                    owner[tp] = previous
                    result[previous]!.insert(tp)
                    continue
                }
                var choices = candidates
                if rotate, let previous, choices.count > 1 { choices.removeAll { $0 == previous } }
                guard let pick = choices.min(by: { (result[$0]!.count, $0) < (result[$1]!.count, $1) }) else { continue }
                owner[tp] = pick
                result[pick]!.insert(tp)
            }
            var moved = true
            while moved {
                moved = false
                for tp in partitions.reversed() {
                    guard let from = owner[tp] else { continue }
                    let to = eligible(tp).filter { result[$0]!.count + 1 < result[from]!.count }
                        .min { (result[$0]!.count, $0) < (result[$1]!.count, $1) }
                    guard let to else { continue }
                    result[from]!.remove(tp)
                    result[to]!.insert(tp)
                    owner[tp] = to
                    moved = true
                }
            }
        }
        return result
    }
}
