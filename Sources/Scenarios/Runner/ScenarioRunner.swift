import FakeKafka
import Foundation
import KafkaIngress
import KafkaProtocol

/// What running one scenario gave.
public struct ScenarioResult: Sendable {
    public var scenario: Scenario
    public var failures: [ExpectationFailure]
    /// Set when a step could not run (the expectations were then not checked).
    public var error: String?
    /// The step that could not run, when there is one.
    public var errorLocation: SourceLocation?
    public var seconds: Double
    public var observations: Observations?

    public var passed: Bool { failures.isEmpty && error == nil }
}

/// Runs scenarios against a target: set up, run the steps, check the expectations.
public struct ScenarioRunner: Sendable {
    /// Defects the embedded ingress should exhibit: only for proving the assertions catch them.
    public var defects: Set<DeliberateDefect>
    public var target: ScenarioTarget

    public init(target: ScenarioTarget = .embedded, defects: Set<DeliberateDefect> = []) {
        self.target = target
        self.defects = defects
    }

    public func run(_ scenario: Scenario) async -> ScenarioResult {
        let started = ContinuousClock.now
        var result = ScenarioResult(scenario: scenario, failures: [], error: nil, errorLocation: nil, seconds: 0, observations: nil)
        do {
            let target = try await ScenarioEnvironment(scenario, target: self.target, defects: defects)
            do {
                let observations = try await execute(scenario, on: target)
                result.observations = observations
                for expectation in scenario.expectations {
                    if let message = expectation.value.check(observations) {
                        result.failures.append(ExpectationFailure(location: expectation.location, expectation: expectation.value.label, message: message))
                    }
                }
            } catch let error as ScenarioStepError {
                result.error = error.description
                result.errorLocation = error.location
            } catch {
                result.error = "\(error)"
            }
            await target.shutdown()
        } catch {
            result.error = "setting up: \(error)"
        }
        result.seconds = (ContinuousClock.now - started).seconds
        return result
    }

    private func execute(_ scenario: Scenario, on target: ScenarioEnvironment) async throws -> Observations {
        for topic in scenario.topics { try target.cluster.createTopic(topic.name, partitions: topic.partitions) }
        var ids: [String: String] = [:]
        for s in scenario.subscriptions {
            if target.cluster.topics[s.topic] == nil { try target.cluster.createTopic(s.topic) }
            ids[s.name] = try await target.ingress.subscribe(topic: s.topic, sink: s.sink, options: s.options)
        }
        var produced: [ProducedRecord] = []
        var deleted: Set<String> = []
        var membersAfterDelete: [String: Int] = [:]
        // Subscription ids of further ingress instances (their invocations count as the subscription's).
        var extraIDs: [String: Set<String>] = [:]
        for step in scenario.steps {
            do {
                switch step.value {
                case .produce(let p):
                    produced += try produce(p, startingAt: produced.count, deleted: deleted, on: target.cluster)
                case .waitForInvocations(let count, let subscription, let timeoutMs):
                    let all = subscription.map { name in Set([ids[name] ?? ""]).union(extraIDs[name] ?? []) }
                    try await waitFor(count, all, timeoutMs, target)
                case .waitForGroupMembers(let count, let name, let timeoutMs):
                    let group = scenario.subscriptions.first { $0.name == name }?.options["group.id"] ?? ids[name] ?? ""
                    let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
                    func assigned() -> Int { target.cluster.group(group)?.members.filter { !($0.assignment ?? []).isEmpty }.count ?? 0 }
                    while assigned() != count {
                        guard ContinuousClock.now < deadline else {
                            throw WaitTimedOut(message: "waited \(timeoutMs) ms for \(count) members with partitions in group \(group); \(assigned()) have")
                        }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                case .deleteSubscription(let name):
                    try await target.ingress.delete(subscription: ids[name] ?? "")
                    deleted.insert(name)
                    let group = scenario.subscriptions.first { $0.name == name }?.options["group.id"] ?? ids[name] ?? ""
                    membersAfterDelete[name] = target.cluster.group(group)?.members.count ?? 0
                case .restartIngress:
                    try await target.ingress.restart()
                case .ingressInstances(let count):
                    let groups = Dictionary(uniqueKeysWithValues: scenario.subscriptions.map { ($0.name, $0.options["group.id"] ?? ids[$0.name] ?? "") })
                    let before = Set(target.extraInstances.map { ObjectIdentifier($0.ingress) })
                    try await target.scale(to: count, subscriptions: scenario.subscriptions, groups: groups)
                    for extra in target.extraInstances where !before.contains(ObjectIdentifier(extra.ingress)) {
                        for (name, id) in extra.ids { extraIDs[name, default: []].insert(id) }
                    }
                case .fault(let fault):
                    try await apply(fault, ids: ids, scenario: scenario, on: target)
                case .sleep(let ms):
                    try await Task.sleep(for: .milliseconds(ms))
                }
            } catch {
                throw ScenarioStepError(location: step.location, message: "\(error)")
            }
        }
        // Let what was ingested finish before judging (bounded: a stuck invocation fails the checks).
        await target.ingress.settle()
        for extra in target.extraInstances { await extra.ingress.settle() }
        var unfinished: [String: Int] = [:]
        for name in deleted {
            unfinished[name] = try await target.ingress.unfinished(subscription: ids[name] ?? "")
        }
        return Observations(
            produced: produced, attempts: target.recorder.records,
            subscriptionIDs: ids.reduce(into: [:]) { all, entry in all[entry.key] = Set([entry.value]).union(extraIDs[entry.key] ?? []) },
            subscriptionTopics: Dictionary(scenario.subscriptions.map { ($0.name, $0.topic) }, uniquingKeysWith: { first, _ in first }),
            groupMembersAfterDelete: membersAfterDelete, unfinishedAfterDelete: unfinished)
    }

    private func produce(_ p: ProduceStep, startingAt first: Int, deleted: Set<String>, on cluster: FakeKafkaCluster) throws -> [ProducedRecord] {
        if cluster.topics[p.topic] == nil { try cluster.createTopic(p.topic) }
        let partitions = cluster.topics[p.topic] ?? 1
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let rawKey = p.keyHex.map(Self.bytes(hex:))
        var byPartition: [Int32: [(index: Int, key: [UInt8]?, value: String)]] = [:]
        for i in 0..<p.count {
            let key = rawKey ?? p.key.map { Array(Template.render($0, i).utf8) }
            let value = Template.render(p.value, i)
            let partition = p.partition ?? key.map { Int32(Template.partition(of: $0, partitions)) } ?? Int32(i % Int(partitions))
            byPartition[partition, default: []].append((first + i, key, value))
        }
        let headers = p.headers.sorted { $0.key < $1.key }.map { KafkaRecordHeader(key: $0.key, value: Array($0.value.utf8)) }
        let codec = CompressionCodec.allCases.first { $0.description == p.compression } ?? .none
        var out: [ProducedRecord] = []
        for (partition, items) in byPartition.sorted(by: { $0.key < $1.key }) {
            let records = items.map { KafkaRecord(timestamp: now, key: $0.key, value: Array($0.value.utf8), headers: headers) }
            let base = try cluster.append(records, to: TopicPartition(p.topic, partition), compression: codec)
            for (n, item) in items.enumerated() {
                out.append(ProducedRecord(index: item.index, topic: p.topic, partition: partition, offset: base + Int64(n),
                                          key: item.key.map { String(decoding: $0, as: UTF8.self) }, keyBytes: item.key,
                                          value: item.value, timestamp: now, producedAfterDeleting: deleted))
            }
        }
        return out.sorted { $0.index < $1.index }
    }

    private func apply(_ fault: FaultStep, ids: [String: String], scenario: Scenario, on target: ScenarioEnvironment) async throws {
        switch fault {
        case .moveLeader(let topic, let partition, let broker):
            try target.cluster.moveLeader(of: TopicPartition(topic, partition), to: broker)
        case .rebalance(let name):
            let group = scenario.subscriptions.first { $0.name == name }?.options["group.id"] ?? ids[name] ?? ""
            try target.cluster.forceRebalance(of: group)
        case .stopBroker(let id):
            try await target.cluster.stopBroker(id)
        case .startBroker(let id):
            try await target.cluster.startBroker(id)
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    /// Waits for completed invocations of these subscription ids (all when nil).
    private func waitFor(_ count: Int, _ subscriptionIDs: Set<String>?, _ timeoutMs: Int, _ target: ScenarioEnvironment) async throws {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        func done() -> Int {
            target.recorder.records.filter { $0.outcome == "completed" && (subscriptionIDs?.contains($0.headers["restate.subscription.id"] ?? "") ?? true) }.count
        }
        while done() < count {
            guard ContinuousClock.now < deadline else {
                throw WaitTimedOut(message: "waited \(timeoutMs) ms for \(count) completed invocations; \(done()) completed")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

struct ScenarioStepError: Error, CustomStringConvertible {
    var location: SourceLocation
    var message: String
    var description: String { "\(location): \(message)" }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// `{i}` and `{i % N}` in keys and values.
enum Template {
    static func render(_ template: String, _ i: Int) -> String {
        guard template.contains("{i") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{i") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let inside = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            if inside.isEmpty {
                out += String(i)
            } else if inside.hasPrefix("%"), let n = Int(inside.dropFirst().trimmingCharacters(in: .whitespaces)), n > 0 {
                out += String(i % n)
            } else {
                out += rest[open.lowerBound...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// A stable partition for a key (FNV-1a; all records of a key land together).
    static func partition(of key: [UInt8], _ partitions: Int32) -> Int {
        Int(key.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } % UInt32(max(1, partitions)))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
