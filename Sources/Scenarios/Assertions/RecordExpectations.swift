import Foundation
import Recorder

/// The checks of expectations about single records and what the group committed.
extension Expectation {
    /// O(n log n): the first start of each record, sorted, per partition.
    func checkOrderedPerPartition(_ s: String, _ o: Observations, _ involved: InvolvedRecords) -> String? {
        let grouped = Dictionary(grouping: o.completedRuns(s).filter { $0.record != nil }) { "\($0.record!.topic)/\($0.record!.partition)" }
        for (partition, runs) in grouped.sorted(by: { $0.key < $1.key }) {
            var seen: Set<Int> = []
            let started = runs.sorted { $0.invocation.start < $1.invocation.start }.compactMap(\.record).filter { seen.insert($0.index).inserted }
            if let (a, b) = zip(started, started.dropFirst()).first(where: { $0.offset > $1.offset }) {
                involved.add([a.index, b.index])
                return "expected \(partition) to run in offset order; offset \(b.offset) (record #\(b.index)) started after offset \(a.offset) (record #\(a.index))"
            }
        }
        return nil
    }

    /// O(attempts × rules).
    func checkHeaders(_ s: String, _ rules: [HeaderRule], _ o: Observations, _ involved: InvolvedRecords) -> String? {
        for run in byRecord(o.completedRuns(s)) {
            guard let record = run.record else { continue }
            let headers = run.invocation.headers
            for rule in rules {
                let got = headers[rule.name]
                let wrong: String? = switch rule.condition {
                case .present: got == nil ? "has no header \(rule.name)" : nil
                case .absent: got.map { "has header \(rule.name) = \(quoted($0)), expected none" }
                case .equals(let template):
                    HeaderTemplate.render(template, for: record).flatMap { want in
                        got == want ? nil : "has header \(rule.name) = \(quoted(got)), expected \(quoted(want))"
                    }
                }
                if let wrong {
                    involved.add([record.index])
                    return "record #\(record.index) (\(record.topic)/\(record.partition)@\(record.offset)): its invocation \(wrong)"
                }
            }
        }
        return nil
    }

    /// O(attempts).
    func checkNeverInvoked(_ s: String, _ label: String?, _ o: Observations, _ involved: InvolvedRecords) -> String? {
        let started = o.attempts(of: s).compactMap(\.record)
        if let label {
            guard o.produced.contains(where: { $0.label == label }) else { return "no produce step has label \(quoted(label))" }
            let wrong = started.filter { $0.label == label }
            return wrong.isEmpty ? nil : "expected no record labelled \(quoted(label)) to start; \(Set(wrong.map(\.index)).count) did, e.g. \(list(unique(wrong), involved))"
        }
        guard let committed = o.committedAfterDelete[s] else { return "the scenario never deleted '\(s)'" }
        // What the group committed once the deleted subscription's consumer had left is what it
        // read; a record beyond it was never read, so it must never have started.
        let wrong = started.filter { $0.offset >= (committed[$0.partition] ?? 0) }
        guard !wrong.isEmpty else { return nil }
        let offsets = committed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return "expected nothing at or beyond the offsets committed at the delete (\(offsets.isEmpty ? "none committed" : offsets)) to start; "
            + "\(Set(wrong.map(\.index)).count) did, e.g. \(list(unique(wrong), involved))"
    }

    /// O(partitions).
    func checkCommittedOffsets(_ s: String, _ given: [Int32: Int64]?, _ o: Observations) -> String? {
        guard let spec = o.subscriptionSpecs[s] else { return "unknown subscription '\(s)'" }
        let expected = given ?? CommitProgress.consumableEnds(of: o.produced, subscription: spec, defaultCluster: o.defaultCluster)
        let committed = o.committedAfterSteps[s] ?? [:]
        let wrong = expected.sorted { $0.key < $1.key }.filter { committed[$0.key] != $0.value }
        guard !wrong.isEmpty else { return nil }
        return "expected the group of '\(s)' to have committed " + expected.sorted { $0.key < $1.key }.map { "\(spec.topic)/\($0.key)@\($0.value)" }.joined(separator: ", ")
            + "; " + wrong.map { "\(spec.topic)/\($0.key) has \(committed[$0.key].map(String.init) ?? "nothing committed")" }.joined(separator: ", ")
    }

    /// O(attempts).
    func checkObjectKey(_ s: String, _ template: String, _ o: Observations, _ involved: InvolvedRecords) -> String? {
        for run in byRecord(o.completedRuns(s)) {
            guard let record = run.record, let want = HeaderTemplate.render(template, for: record) else { continue }
            if run.invocation.key != want {
                involved.add([record.index])
                return "record #\(record.index) (\(record.topic)/\(record.partition)@\(record.offset), key \(quoted(record.key))) ran on object key "
                    + "\(quoted(run.invocation.key)), expected \(quoted(want))"
            }
        }
        return nil
    }

    func checkMetric(_ m: MetricExpectation, _ o: Observations) -> String? {
        guard let text = o.metricsText else { return "the ingress's /metrics could not be read" }
        let samples = PrometheusText.samples(text, name: m.name, labels: m.labels)
        let shown = m.name + (m.labels.isEmpty ? "" : "{" + m.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}")
        guard !samples.isEmpty else { return "expected a series \(shown) at /metrics; there is none" }
        let total = samples.reduce(0, +)
        return m.bound.holds(total, against: m.value) ? nil
            : "expected \(shown) to be \(m.bound.phrase) \(PrometheusText.format(m.value)); it is \(PrometheusText.format(total))"
    }

    /// In produce order, so that a failure names the same record on every run.
    private func unique(_ records: [ProducedRecord]) -> [ProducedRecord] {
        var seen: Set<Int> = []
        return records.filter { seen.insert($0.index).inserted }.sorted { $0.index < $1.index }
    }

    /// Runs in produce order of their records (runs without one last), so that a failure names
    /// the first record that breaks the rule, whatever order the attempts ended in.
    private func byRecord(_ runs: [Observations.Run]) -> [Observations.Run] {
        runs.sorted { ($0.record?.index ?? .max, $0.invocation.start) < ($1.record?.index ?? .max, $1.invocation.start) }
    }
}

extension CountBound {
    func holds<N: Comparable>(_ value: N, against bound: N) -> Bool {
        switch self {
        case .exactly: value == bound
        case .atMost: value <= bound
        case .atLeast: value >= bound
        }
    }

    var phrase: String {
        switch self {
        case .exactly: "exactly"
        case .atMost: "at most"
        case .atLeast: "at least"
        }
    }
}

/// Templates of a record in `headers` and `object_key` expectations.
public enum HeaderTemplate {
    public static let placeholders = ["key", "key_base64", "topic", "partition", "offset", "timestamp", "value"]

    /// nil when the template names something the record lacks (a null key or value, a header it
    /// was not produced with, a timestamp of none): no value to compare with.
    static func render(_ template: String, for r: ProducedRecord) -> String? {
        var out = "", rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            let value: String? = switch name {
            case "key": r.key
            case "key_base64": r.keyBytes.map { Data($0).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
            case "topic": r.topic
            case "partition": String(r.partition)
            case "offset": String(r.offset)
            case "timestamp": r.timestamp == -1 ? nil : String(r.timestamp)
            case "value": r.value
            default: name.hasPrefix("header.") ? r.headers[String(name.dropFirst("header.".count))] : nil
            }
            guard let value else { return nil }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// Why the template cannot be rendered, if it cannot (checked when the file is read).
    public static func problem(_ template: String) -> String? {
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return "'{' without a closing '}'" }
            let name = String(rest[rest.index(after: open)..<close])
            if !placeholders.contains(name) && !(name.hasPrefix("header.") && name.count > "header.".count) {
                return "{\(name)} is not one of: " + (placeholders + ["header.NAME"]).map { "{\($0)}" }.joined(separator: ", ")
            }
            rest = rest[rest.index(after: close)...]
        }
        return nil
    }
}
