/// What a subscription's consumer can read of what the scenario wrote, and so what its group
/// should have committed once it read everything: the offset after the last record it receives,
/// per partition. As Restate commits (the last processed record's offset + 1), control records
/// and aborted records at a partition's end are never waited for, and a read_committed consumer
/// reads nothing at or beyond a transaction left open (the last stable offset).
public enum CommitProgress {
    /// Per partition, the first offset of a transaction still open (read_committed consumers stop there).
    public static func stableOffsets(of records: [ProducedRecord], readUncommitted: Bool) -> [Int32: Int64] {
        guard !readUncommitted else { return [:] }
        var stable: [Int32: Int64] = [:]
        for r in records where r.inOpenTransaction { stable[r.partition] = min(stable[r.partition] ?? .max, r.offset) }
        return stable
    }

    /// Whether a consumer with this isolation receives the record.
    public static func isConsumable(_ record: ProducedRecord, readUncommitted: Bool, stableOffsets: [Int32: Int64]) -> Bool {
        readUncommitted || (!record.aborted && !record.inOpenTransaction && record.offset < (stableOffsets[record.partition] ?? .max))
    }

    /// Per partition the scenario wrote to; partitions without a consumable record are absent.
    public static func consumableEnds(of produced: [ProducedRecord], subscription: SubscriptionSpec, defaultCluster: String) -> [Int32: Int64] {
        let readUncommitted = subscription.options["isolation.level"] == "read_uncommitted"
        let cluster = subscription.cluster ?? defaultCluster
        let records = produced.filter { $0.cluster == cluster && $0.topic == subscription.topic }
        let stable = stableOffsets(of: records, readUncommitted: readUncommitted)
        var ends: [Int32: Int64] = [:]
        for r in records where isConsumable(r, readUncommitted: readUncommitted, stableOffsets: stable) {
            ends[r.partition] = max(ends[r.partition] ?? 0, r.offset + 1)
        }
        return ends
    }
}
