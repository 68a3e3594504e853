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
            // First the balanced counts, by handing each partition to the least loaded member that
            // may take it; then the owners that keep what they had, up to those counts.
            var quota: [String: Int] = [:]
            for tp in partitions {
                guard let least = eligible(tp).min(by: { (quota[$0] ?? 0, $0) < (quota[$1] ?? 0, $1) }) else { continue }
                quota[least, default: 0] += 1
            }
            var unassigned: [TopicPartition] = []
            for tp in partitions {
                let owner = rotate ? nil : ids.first { members[$0]!.previous.contains(tp) && members[$0]!.topics.contains(tp.topic) }
                if let owner, result[owner]!.count < quota[owner] ?? 0 {
                    result[owner]!.insert(tp)
                } else {
                    unassigned.append(tp)
                }
            }
            for tp in unassigned {
                var candidates = eligible(tp)
                if rotate, candidates.count > 1 { candidates.removeAll { members[$0]!.previous.contains(tp) } }
                let below = candidates.filter { result[$0]!.count < quota[$0] ?? 0 }
                guard let pick = (below.isEmpty ? candidates : below).min(by: { (result[$0]!.count, $0) < (result[$1]!.count, $1) }) else { continue }
                result[pick]!.insert(tp)
            }
        }
        return result
    }
}
