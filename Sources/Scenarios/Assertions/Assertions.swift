import Foundation
import Recorder
import RestateProtocol

/// A failed expectation: where it was written, and expected versus actual with the records involved.
public struct ExpectationFailure: Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var expectation: String
    public var message: String

    /// Indices of the produced records the failure is about (the report highlights them).
    public var records: [Int] = []

    public var description: String { "\(location): \(expectation): \(message)" }

    public init(location: SourceLocation, expectation: String, message: String, records: [Int] = []) {
        self.location = location
        self.expectation = expectation
        self.message = message
        self.records = records
    }
}

/// The records a failing check names, collected as its message is written.
public final class InvolvedRecords {
    /// In the order the message names them, each once.
    public private(set) var indices: [Int] = []
    private var seen: Set<Int> = []

    public init() {}

    func add<S: Sequence>(_ more: S) where S.Element == Int {
        for index in more where seen.insert(index).inserted { indices.append(index) }
    }
}

extension Expectation {
    /// Checks the expectation; nil when it holds.
    public func check(_ o: Observations) -> String? {
        check(o, involved: InvolvedRecords())
    }

    /// `check`, noting in `involved` the records its message names.
    public func check(_ o: Observations, involved: InvolvedRecords) -> String? {
        switch self {
        case .orderedPerKey(let s):
            // O(n log n): a sort per key; each record counted at its first start.
            for (key, runs) in byKey(o.completedRuns(s)) {
                var seen: Set<Int> = []
                let firstSeen = runs.compactMap { $0.record?.index }.filter { seen.insert($0).inserted }
                if !zip(firstSeen, firstSeen.dropFirst()).allSatisfy({ $0 < $1 }) {
                    involved.add(firstSeen)
                    return "expected key \(quoted(key)) to run in produce order; it ran records #\(firstSeen.map(String.init).joined(separator: ", #"))"
                }
            }
            return nil
        case .noOverlapPerKey(let s):
            // O(n log n): neighbours in start order, per key.
            for (key, runs) in byKey(o.completedRuns(s)) {
                for (a, b) in zip(runs.map(\.invocation), runs.dropFirst().map(\.invocation)) where a.end > b.start {
                    return "expected invocations of key \(quoted(key)) not to overlap; \(describe(a, o, involved)) ended \(a.end - b.start) µs after \(describe(b, o, involved)) started"
                }
            }
            return nil
        case .parallelismAtLeast(let s, let n):
            // O(n log n): a sweep over sorted starts and ends.
            let peak = o.completed(s).maxConcurrency
            return peak >= n ? nil : "expected at least \(n) invocations at once; at most \(peak) ran at the same time"
        case .delivered(let s, let exactlyOnce):
            // O(n): counts per produced record.
            let source = o.subscriptionTopics[s]
            let readUncommitted = o.subscriptionSpecs[s]?.options["isolation.level"] == "read_uncommitted"
            let written = o.produced.filter { $0.cluster == source?.cluster && $0.topic == source?.topic && !$0.producedAfterDeleting.contains(s) }
            let stable = CommitProgress.stableOffsets(of: written, readUncommitted: readUncommitted)
            var due = written.filter { CommitProgress.isConsumable($0, readUncommitted: readUncommitted, stableOffsets: stable) }
            var counts: [Int: Int] = [:]
            for run in o.completedRuns(s) { if let r = run.record { counts[r.index, default: 0] += 1 } }
            if exactlyOnce {
                // A read_committed consumer never sees aborted records, nor any beyond an open
                // transaction: invoking one is as wrong as invoking a record twice.
                let unseen = written.filter { !CommitProgress.isConsumable($0, readUncommitted: readUncommitted, stableOffsets: stable) && counts[$0.index] != nil }
                if !unseen.isEmpty {
                    return "expected no aborted or uncommitted record invoked (read_committed); \(unseen.count) were, e.g. \(list(unseen, involved))"
                }
            }
            if o.workflowRuns.contains(s) {
                // A workflow runs once per id: a later record with the same key attaches to the
                // first one's run (Restate derives the invocation id from the key), so only the
                // first record of each key is due, and the others must not run.
                var seen: Set<String?> = []
                let (first, later) = due.reduce(into: ([ProducedRecord](), [ProducedRecord]())) { split, r in
                    if seen.insert(r.key).inserted { split.0.append(r) } else { split.1.append(r) }
                }
                let rerun = later.filter { counts[$0.index] != nil }
                if !rerun.isEmpty {
                    return "expected one run per workflow id; \(rerun.count) later record(s) of an id ran the workflow again, e.g. \(list(rerun, involved))"
                }
                due = first
            }
            let missing = due.filter { counts[$0.index] == nil }
            if !missing.isEmpty { return "expected every one of \(due.count) records invoked; \(missing.count) never were, e.g. \(list(missing, involved))" }
            if exactlyOnce {
                let twice = due.filter { (counts[$0.index] ?? 0) > 1 }
                if !twice.isEmpty { return "expected each record invoked exactly once; \(twice.count) were invoked more than once, e.g. \(list(twice, involved))" }
            }
            return nil
        case .headersMatchRecords(let s):
            // O(n): one comparison per completed attempt.
            let ids = o.subscriptionIDs[s] ?? []
            for completed in o.completedRuns(s) {
                let run = completed.invocation
                let id = run.headers[KafkaIngressHeader.subscriptionID].flatMap { ids.contains($0) ? $0 : nil } ?? ids.sorted().joined(separator: "|")
                guard let r = completed.record else { return "an invocation's headers name no produced record: \(run.headers)" }
                var expected = [KafkaIngressHeader.topic: r.topic, KafkaIngressHeader.partition: String(r.partition), KafkaIngressHeader.offset: String(r.offset),
                                KafkaIngressHeader.subscriptionID: id]
                // Kafka's -1 is "no timestamp", for which Restate sends no header.
                if r.timestamp != -1 { expected[KafkaIngressHeader.timestamp] = String(r.timestamp) }
                if let key = r.keyBytes { expected[KafkaIngressHeader.key] = Data(key).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
                let got = run.headers.filter { $0.key.hasPrefix("kafka.") || $0.key == KafkaIngressHeader.subscriptionID }
                if got != expected {
                    involved.add([r.index])
                    return "record #\(r.index) (\(r.topic)/\(r.partition)@\(r.offset)): expected headers \(expected.sorted { $0.key < $1.key }), got \(got.sorted { $0.key < $1.key })"
                }
            }
            return nil
        case .deletionHonoured(let s):
            guard let members = o.groupMembersAfterDelete[s] else { return "the scenario never deleted '\(s)'" }
            if members > 0 { return "expected the group to be empty after the delete; \(members) member(s) remain" }
            let late = o.completedRuns(s).compactMap(\.record).filter { $0.producedAfterDeleting.contains(s) }
            if !late.isEmpty { return "expected nothing produced after the delete to be invoked; \(late.count) were, e.g. \(list(late, involved))" }
            if let unfinished = o.unfinishedAfterDelete[s], unfinished > 0 { return "expected what was ingested before the delete to complete; \(unfinished) did not" }
            return nil
        case .invocationCount(let s, let n, let bound):
            let runs = o.completedRuns(s)
            guard !bound.holds(runs.count, against: n) else { return nil }
            involved.add(runs.compactMap { $0.record?.index })
            return "expected \(bound.phrase) \(n) completed invocations, got \(runs.count)"
        case .finalOutputs(let s, let expected):
            // O(n): the last attempt per key; every key that differs is named.
            var last: [String: RecordedInvocation] = [:]
            for completed in o.completedRuns(s) {
                let run = completed.invocation
                guard let key = completed.record?.key else { continue }
                if let seen = last[key], seen.end > run.end { continue }
                last[key] = run
            }
            let wrong = expected.sorted(by: { $0.key < $1.key }).compactMap { key, output -> String? in
                guard let run = last[key] else { return "key \(quoted(key)) was never invoked (expected \(quoted(output)))" }
                guard run.output != output else { return nil }
                return "key \(quoted(key)) ended with \(quoted(run.output)), expected \(quoted(output)) (its last invocation: \(describe(run, o, involved)))"
            }
            return wrong.isEmpty ? nil : "expected \(expected.count) key(s) to end with the outputs given; \(wrong.count) did not: " + wrong.joined(separator: "; ")
        case .consumerGroup(let e):
            let name = e.group ?? "the default group of \(e.subscription ?? "?") (its subscription id)"
            guard let found = o.consumerGroups[e], let group = found else { return "expected consumer group \(name) to exist; the cluster does not know it" }
            if let n = e.members, group.members.count != n {
                return "expected consumer group \(name) to have \(n) member(s); it has \(group.members.count)"
            }
            if let client = e.clientID, let other = group.members.first(where: { $0.clientID != client }) {
                return "expected every member of consumer group \(name) to have client.id \(quoted(client)); one has \(quoted(other.clientID))"
            }
            return nil
        case .orderedPerPartition(let s): return checkOrderedPerPartition(s, o, involved)
        case .headers(let s, let rules): return checkHeaders(s, rules, o, involved)
        case .neverInvoked(let s, let label): return checkNeverInvoked(s, label, o, involved)
        case .committedOffsets(let s, let offsets): return checkCommittedOffsets(s, offsets, o)
        case .objectKey(let s, let template): return checkObjectKey(s, template, o, involved)
        case .metric(let m): return checkMetric(m, o)
        }
    }

    public var label: String {
        switch self {
        case .orderedPerKey(let s): "ordered_per_key \(s)"
        case .noOverlapPerKey(let s): "no_overlap_per_key \(s)"
        case .parallelismAtLeast(let s, let n): "parallelism_at_least \(n) \(s)"
        case .delivered(let s, let once): "\(once ? "exactly_once" : "at_least_once") \(s)"
        case .headersMatchRecords(let s): "headers_match_records \(s)"
        case .deletionHonoured(let s): "deletion_honoured \(s)"
        case .invocationCount(let s, let n, let bound): "invocation_count \(bound == .exactly ? "" : bound.rawValue + " ")\(n) \(s)"
        case .finalOutputs(let s, _): "final_outputs \(s)"
        case .consumerGroup(let e): "consumer_group \(e.group ?? e.subscription ?? "")"
        case .orderedPerPartition(let s): "ordered_per_partition \(s)"
        case .headers(let s, _): "headers \(s)"
        case .neverInvoked(let s, let label): "never_invoked \(s)" + (label.map { " \($0)" } ?? " beyond the committed offsets at delete")
        case .committedOffsets(let s, _): "committed_offsets \(s)"
        case .objectKey(let s, _): "object_key \(s)"
        case .metric(let m): "metric \(m.name)"
        }
    }

    /// Runs grouped by their record's key, each group in start order, groups by key. O(n log n).
    func byKey(_ runs: [Observations.Run]) -> [(String?, [Observations.Run])] {
        let grouped = Dictionary(grouping: runs) { $0.record?.key }
        return grouped.map { ($0.key, $0.value.sorted { $0.invocation.start < $1.invocation.start }) }.sorted { ($0.0 ?? "") < ($1.0 ?? "") }
    }

    func describe(_ run: RecordedInvocation, _ o: Observations, _ involved: InvolvedRecords) -> String {
        guard let record = o.record(of: run) else { return "invocation \(run.invocationID)" }
        involved.add([record.index])
        return "record #\(record.index) (\(record.topic)/\(record.partition)@\(record.offset))"
    }

    /// A key, output or client id as people read it: in quotes, or `null` when absent (never
    /// Swift's `Optional(...)`).
    func quoted(_ text: String?) -> String {
        text.map { "\"\($0)\"" } ?? "null"
    }

    func list(_ records: [ProducedRecord], _ involved: InvolvedRecords) -> String {
        involved.add(records.map(\.index))
        return records.prefix(5).map { "#\($0.index) (\($0.topic)/\($0.partition)@\($0.offset) key \(quoted($0.key)))" }.joined(separator: ", ")
            + (records.count > 5 ? ", …" : "")
    }
}
