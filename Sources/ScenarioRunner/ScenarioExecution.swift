import Scenarios
import AsyncHTTPClient
import Foundation
import NIOCore
import KafkaProtocol
import RdKafka
import RestateProtocol

/// One run of a scenario's steps; collects what the expectations look at.
final class ScenarioExecution {
    let scenario: Scenario
    let environment: ScenarioEnvironment
    /// Scenario subscription name → the id the (first) ingress gave it.
    var ids: [String: String] = [:]
    var produced: [ProducedRecord] = []
    var deleted: Set<String> = []
    var membersAfterDelete: [String: Int] = [:]
    var committedAfterDelete: [String: [Int32: Int64]] = [:]
    /// Injected faults, where they were written, and how often each has acted.
    var injected: [(location: SourceLocation, fault: InjectedFault, fired: @Sendable () -> Int)] = []
    /// When each step acted, for the report's timeline.
    var stepRecords: [StepRecord] = []

    init(scenario: Scenario, environment: ScenarioEnvironment) {
        self.scenario = scenario
        self.environment = environment
    }

    func run() async throws -> Observations {
        // Set-up failures point at the scenario itself: topics and subscriptions carry no line.
        for topic in scenario.topics {
            let cluster = spec(of: topic.cluster)
            do {
                try await environment.kafka(cluster.name, in: scenario).createTopic(topic.name, partitions: topic.partitions ?? cluster.partitions,
                                                                                    configs: topic.configs)
            } catch {
                throw ScenarioStepError(location: scenario.source, message: "creating topic \(topic.name) on cluster \(cluster.name): \(error)")
            }
        }
        let deferred = scenario.subscribedByStep
        for s in scenario.subscriptions where !deferred.contains(s.name) {
            do {
                try await subscribe(s)
            } catch {
                throw ScenarioStepError(location: scenario.source, message: "\(error)")
            }
        }
        for (index, step) in scenario.steps.enumerated() {
            do {
                let started = StepRecord.nowMicros()
                try await perform(step.value, at: step.location, explored: scenario.exploredSteps.contains(index))
                stepRecords.append(StepRecord(index: index, step: step.value, location: step.location, explored: scenario.exploredSteps.contains(index),
                                              start: started, end: StepRecord.nowMicros()))
            } catch {
                throw ScenarioStepError(location: step.location, message: "\(error)")
            }
        }
        // Let what was ingested finish before judging (bounded: a stuck invocation fails the checks).
        await environment.ingress.settle()
        var unfinished: [String: Int] = [:]
        for name in deleted {
            unfinished[name] = try await environment.ingress.unfinished(subscription: ids[name] ?? "")
        }
        var groups: [ConsumerGroupExpectation: GroupSnapshot?] = [:]
        for case .consumerGroup(let e) in scenario.expectations.map(\.value) {
            let subscription = e.subscription.flatMap { name in scenario.subscriptions.first { $0.name == name } }
            let group = e.group ?? subscription.flatMap { ids[$0.name] } ?? ""
            groups.updateValue(try await environment.kafka(e.cluster ?? subscription?.cluster, in: scenario).group(group), forKey: e)
        }
        // A fault that never acted means the scenario did not test what it says.
        let unfired = injected.compactMap { entry -> ExpectationFailure? in
            let fired = entry.fired(), wanted = entry.fault.expectedFirings
            guard fired < wanted else { return nil }
            return ExpectationFailure(location: entry.location, expectation: "fault fired",
                                      message: "expected the fault \(entry.fault.summary) to act on \(wanted) request(s); it acted on \(fired)")
        }
        var observations = Observations(
            produced: produced, attempts: environment.recorder.records,
            subscriptionIDs: ids.mapValues { Set([$0]) },
            subscriptionTopics: Dictionary(scenario.subscriptions.map { ($0.name, TopicOnCluster(cluster: $0.cluster ?? scenario.cluster.name, topic: $0.topic)) },
                                           uniquingKeysWith: { first, _ in first }),
            groupMembersAfterDelete: membersAfterDelete, unfinishedAfterDelete: unfinished, consumerGroups: groups, unfiredFaults: unfired)
        observations.subscriptionSpecs = Dictionary(scenario.subscriptions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        observations.defaultCluster = scenario.cluster.name
        observations.committedAfterDelete = committedAfterDelete
        for case .committedOffsets(let name, _) in scenario.expectations.map(\.value) {
            guard let s = subscriptionSpec(name) else { continue }
            observations.committedAfterSteps[name] = try await environment.kafka(s.cluster, in: scenario).committedOffsets(group: group(of: name), topic: s.topic)
        }
        if scenario.expectations.contains(where: { if case .metric = $0.value { true } else { false } }) {
            observations.metricsText = try? await metricsText()
        }
        observations.steps = stepRecords.map { record in
            var record = record
            record.fired = injected.last { $0.location == record.location }?.fired()
            return record
        }
        let discovered = environment.recorder.discoveredServices
        observations.workflowRuns = Set(scenario.subscriptions.filter { s in
            let parts = s.sink.split(separator: "/").map(String.init)
            return scenario.services.contains { $0.name == parts.first && $0.kind == .workflow && $0.handlers.contains { $0.name == parts.last && $0.kind == .workflow } }
                || discovered.contains { $0.name == parts.first && $0.ty == .workflow && $0.handlers.contains { $0.name == parts.last && $0.ty == .workflow } }
        }.map(\.name))
        return observations
    }

    private func perform(_ step: Step, at location: SourceLocation, explored: Bool) async throws {
        switch step {
        case .produce(let p):
            produced += try await produce(p, startingAt: produced.count)
        case .waitForInvocations(let count, let subscription, let timeoutMs):
            let all = subscription.map { name in Set([ids[name] ?? ""]) }
            try await waitFor(count, all, timeoutMs)
        case .waitForGroupMembers(let count, let name, let timeoutMs):
            var members = 0
            guard try await Polling.until(timeout: .milliseconds(timeoutMs), every: .milliseconds(10), {
                members = try await assignedMembers(of: name)
                return members == count
            }) else {
                throw ScenarioError("waited \(timeoutMs) ms for \(count) members with partitions in group \(group(of: name)); \(members) have")
            }
        case .waitForCommitted(let name, let timeoutMs):
            guard let s = subscriptionSpec(name) else { throw ScenarioError("unknown subscription '\(name)'") }
            let kafka = try environment.kafka(s.cluster, in: scenario)
            // What a consumer that has read everything it can commits: past the last consumable
            // record the scenario wrote. Control records and aborted or open transactions beyond
            // it are not waited for, on any Kafka.
            let ends = CommitProgress.consumableEnds(of: produced, subscription: s, defaultCluster: scenario.cluster.name)
            var behind: [Int32: (committed: Int64?, end: Int64)] = [:]
            guard try await Polling.until(timeout: .milliseconds(timeoutMs), every: .milliseconds(50), {
                let committed = try await kafka.committedOffsets(group: group(of: name), topic: s.topic)
                behind = [:]
                for (partition, end) in ends where (committed[partition] ?? -1) < end { behind[partition] = (committed[partition], end) }
                return behind.isEmpty
            }) else {
                let detail = behind.sorted { $0.key < $1.key }
                    .map { "\(s.topic)/\($0.key) committed \($0.value.committed.map(String.init) ?? "nothing"), expected \($0.value.end)" }
                    .joined(separator: ", ")
                throw ScenarioError("waited \(timeoutMs) ms for group \(group(of: name)) to commit every record; \(detail)")
            }
        case .subscribe(let name):
            guard let s = subscriptionSpec(name) else { throw ScenarioError("unknown subscription '\(name)'") }
            try await subscribe(s)
        case .deleteSubscription(let name):
            try await environment.ingress.delete(subscription: ids[name] ?? "")
            deleted.insert(name)
            membersAfterDelete[name] = try await membersOnceLeft(name)
            if let s = subscriptionSpec(name) {
                committedAfterDelete[name] = try await environment.kafka(s.cluster, in: scenario).committedOffsets(group: group(of: name), topic: s.topic)
            }
        case .restartIngress:
            try await environment.ingress.restart(kill: false)
        case .killIngress:
            try await environment.ingress.restart(kill: true)
        case .ingressInstances(let count):
            try await environment.ingress.setNodes(count)
        case .addPartitions(let topic, let count, let cluster):
            try await environment.kafka(cluster, in: scenario).addPartitions(to: topic, total: count)
            await environment.producers.forget(cluster: cluster ?? scenario.cluster.name)
        case .fault(let fault):
            if let fired = try await apply(fault, cluster: nil), let injectedFault = fault.injected, !explored {
                injected.append((location, injectedFault, fired))
            }
        case .call(let call):
            try await perform(call)
        case .admin(let admin):
            try await perform(admin)
        case .sleep(let ms):
            try await Task.sleep(for: .milliseconds(ms))
        }
    }

    private func subscribe(_ s: SubscriptionSpec) async throws {
        let cluster = spec(of: s.cluster)
        let kafka = try environment.kafka(cluster.name, in: scenario)
        do {
            if try await kafka.partitions(of: s.topic) == nil { try await kafka.createTopic(s.topic, partitions: cluster.partitions, configs: [:]) }
            ids[s.name] = try await environment.ingress.subscribe(cluster: cluster.name, topic: s.topic, sink: s.sink, options: s.options)
        } catch {
            throw ScenarioError("creating subscription '\(s.name)' (\(cluster.name)/\(s.topic) → \(s.sink)): \(error)")
        }
    }

    private func apply(_ fault: FaultStep, cluster: String?) async throws -> (@Sendable () -> Int)? {
        if case .onCluster(let name, let inner) = fault { return try await apply(inner, cluster: name) }
        let kafka = try environment.kafka(cluster, in: scenario)
        // A group fault right after the subscription is made (as an exploration may place it)
        // acts once the group exists: the subscription's consumer needs a moment to join.
        switch fault {
        case .rebalance(let subscription), .moveCoordinator(let subscription, _):
            _ = try await Polling.until(timeout: .seconds(30)) { try await kafka.group(group(of: subscription)) != nil }
        default: break
        }
        guard case .rebalance(let subscription) = fault else { return try await kafka.apply(fault) { self.group(of: $0) } }
        // A rebalance is done when the group is stable again in a later generation: the next
        // step then meets the consumers after their revoke and assignment, whatever the timing.
        let before = try await kafka.group(group(of: subscription))?.generation ?? 0
        let fired = try await kafka.apply(fault) { self.group(of: $0) }
        _ = try await Polling.until(timeout: .seconds(30)) {
            guard let now = try await kafka.group(group(of: subscription)) else { return false }
            return now.stable && (now.generation ?? 0) > before && now.members.contains { $0.assignedPartitions > 0 }
        }
        return fired
    }

    /// The ingress's Prometheus metrics, from `/metrics` on its admin API.
    private func metricsText() async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: try await environment.ingress.adminURL() + "/metrics"), timeout: .seconds(30))
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    /// Why nothing may have been consumed: SASL authentications a cluster refused, TLS handshakes that failed, token requests refused.
    private func authenticationNote() -> String {
        let refused = environment.kafka.sorted { $0.key < $1.key }.flatMap { name, kafka -> [String] in
            var notes: [String] = []
            if let last = kafka.tlsHandshakeFailures.last {
                notes.append("cluster \(name) saw \(kafka.tlsHandshakeFailures.count) failed TLS handshake(s): \(last)")
            }
            if let last = kafka.authenticationFailures.last {
                notes.append("cluster \(name) refused \(kafka.authenticationFailures.count) SASL authentication(s): \(last)")
            }
            if let last = kafka.tokenEndpointRefusals.last {
                notes.append("the token endpoint of cluster \(name) refused \(kafka.tokenEndpointRefusals.count) token request(s): \(last)")
            }
            return notes
        }
        return refused.isEmpty ? "" : " (\(refused.joined(separator: "; ")))"
    }

    private func spec(of cluster: String?) -> ClusterSpec {
        scenario.clusters.first { $0.name == (cluster ?? scenario.cluster.name) } ?? scenario.cluster
    }

    private func subscriptionSpec(_ name: String) -> SubscriptionSpec? { scenario.subscriptions.first { $0.name == name } }

    /// The subscription's consumer group: its `group.id` option, or (Restate's default) its id.
    private func group(of name: String) -> String {
        subscriptionSpec(name)?.options["group.id"] ?? ids[name] ?? ""
    }

    private func assignedMembers(of name: String) async throws -> Int {
        let kafka = try environment.kafka(subscriptionSpec(name)?.cluster, in: scenario)
        return try await kafka.group(group(of: name))?.members.filter { $0.assignedPartitions > 0 }.count ?? 0
    }

    /// Members left once the deleted subscription's consumer has left: an external ingress may stop
    /// it after answering, so this waits (bounded) for the group to empty and reports who stayed.
    private func membersOnceLeft(_ name: String) async throws -> Int {
        let kafka = try environment.kafka(subscriptionSpec(name)?.cluster, in: scenario)
        var members = 0
        _ = try await Polling.until(timeout: .seconds(30)) {
            members = try await kafka.group(group(of: name))?.members.count ?? 0
            return members == 0
        }
        return members
    }

    private func produce(_ p: ProduceStep, startingAt first: Int) async throws -> [ProducedRecord] {
        let cluster = spec(of: p.cluster)
        let kafka = try environment.kafka(cluster.name, in: scenario)
        var partitions = try await kafka.partitions(of: p.topic)
        if partitions == nil {
            try await kafka.createTopic(p.topic, partitions: cluster.partitions, configs: [:])
            partitions = cluster.partitions
        }
        let count = partitions ?? 1
        let timestamp = p.timestamp ?? Int64(Date().timeIntervalSince1970 * 1000)
        let rawKey = p.keyHex.map(ScenarioRunner.bytes(hex:))
        let rawValue = p.valueHex.map(ScenarioRunner.bytes(hex:))
        let headers = p.headers.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
        let keyTemplate = p.key.map(Template.init)
        let valueTemplate = p.value.map(Template.init)
        var items: [(index: Int, record: RecordToProduce, value: String?)] = []
        for i in 0..<p.count {
            let key = rawKey ?? keyTemplate.map { Array($0.render(i).utf8) }
            let value = rawValue.map { String(decoding: $0, as: UTF8.self) } ?? valueTemplate?.render(i)
            let partition = p.partition ?? key.map { Int32(Template.partition(of: $0, count)) } ?? Int32(i % Int(count))
            guard (0..<count).contains(partition) else {
                throw ScenarioError("partition \(partition) of topic \(p.topic) does not exist (it has \(count))")
            }
            items.append((first + i, RecordToProduce(partition: partition, key: key, value: rawValue ?? value.map { Array($0.utf8) },
                                                     headers: headers, timestamp: timestamp), value))
        }
        let written = try await write(items.map(\.record), p, cluster: cluster.name, kafka)
        guard let written else { return [] }
        return zip(items, written).map { item, stored in
            var record = ProducedRecord(index: item.index, cluster: cluster.name, topic: p.topic, partition: item.record.partition, offset: stored.offset,
                                        key: item.record.key.map { String(decoding: $0, as: UTF8.self) }, keyBytes: item.record.key,
                                        value: item.value, timestamp: stored.timestamp, producedAfterDeleting: deleted)
            record.aborted = p.transaction == .abort
            record.inOpenTransaction = p.transaction == .open
            record.headers = p.headers
            record.label = p.label
            return record
        }
    }

    /// Writes the records (in order) as the step says; returns where each was stored, or nil when
    /// the step expected the write to fail and it did.
    private func write(_ records: [RecordToProduce], _ p: ProduceStep, cluster: String,
                       _ kafka: any KafkaTarget) async throws -> [(offset: Int64, timestamp: Int64)]? {
        if p.via == .log {
            guard p.transaction == nil, p.expectError == nil else {
                throw ScenarioError("`via: log` appends directly to the log; transactions and expected errors need the producer")
            }
            guard environment.target.kafka.capabilities.contains(.directAppend) else {
                throw ScenarioError("`via: log` appends to FakeKafka's logs; \(environment.target.kafka.name) is written through a producer")
            }
            var stored = [(offset: Int64, timestamp: Int64)?](repeating: nil, count: records.count)
            let byPartition = Dictionary(grouping: records.indices) { records[$0].partition }
            for (partition, indices) in byPartition.sorted(by: { $0.key < $1.key }) {
                let offsets = try await kafka.append(indices.map { records[$0] }, topic: p.topic, partition: partition, compression: p.compression)
                for (i, offset) in zip(indices, offsets) { stored[i] = (offset, records[i].timestamp) }
            }
            return stored.map { $0! }
        }
        let outgoing = records.map { r in
            OutgoingRecord(topic: p.topic, partition: r.partition, key: r.key, value: r.value,
                           headers: r.headers.map { RdKafkaHeader($0.0, $0.1) }, timestamp: r.timestamp)
        }
        let producers = environment.producers
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let deliveries = if let outcome = p.transaction {
                    try await producers.sendTransaction(outgoing, cluster: cluster, compression: p.compression, outcome: outcome)
                } else {
                    try await producers.send(outgoing, cluster: cluster, compression: p.compression, isolated: p.expectError != nil)
                }
                if let expected = p.expectError {
                    throw ScenarioError("expected producing \(records.count) record(s) to \(p.topic) to fail with \(expected); every one was delivered")
                }
                return deliveries.map { ($0.offset, $0.timestamp) }
            } catch let error as RdKafkaError {
                if let expected = p.expectError {
                    guard Self.error(error, is: expected) else {
                        throw ScenarioError("expected producing to \(p.topic) to fail with \(expected); it failed with \(Self.kafkaName(error)): \(error)")
                    }
                    return nil
                }
                guard p.eventually, ContinuousClock.now < deadline else {
                    throw ScenarioError("producing \(records.count) record(s) to \(p.topic) failed with \(Self.kafkaName(error)): \(error)"
                                        + (p.eventually ? " (still failing after 30 s)" : ""))
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Kafka's name for a broker error (NOT_LEADER_OR_FOLLOWER), librdkafka's for a local one (_MSG_TIMED_OUT).
    static func kafkaName(_ error: RdKafkaError) -> String {
        if error.code >= 0, let code = KafkaErrorCode(rawValue: Int16(error.code)) { return code.name }
        return error.name
    }

    static func error(_ error: RdKafkaError, is expected: String) -> Bool {
        kafkaName(error) == expected || error.name == expected
    }

    /// Waits for completed invocations of these subscription ids (all when nil).
    private func waitFor(_ count: Int, _ subscriptionIDs: Set<String>?, _ timeoutMs: Int) async throws {
        let recorder = environment.recorder
        var done = 0
        guard try await Polling.until(timeout: .milliseconds(timeoutMs), every: .milliseconds(10), {
            done = recorder.completedCount(subscriptions: subscriptionIDs)
            return done >= count
        }) else {
            throw ScenarioError("waited \(timeoutMs) ms for \(count) completed invocations; \(done) completed" + authenticationNote())
        }
    }
}
