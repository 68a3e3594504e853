import Scenarios
import Foundation
import KafkaProtocol
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
                try await environment.kafka(cluster.name, in: scenario).createTopic(topic.name, partitions: topic.partitions ?? cluster.partitions)
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
            var lag: [Int32: Int64] = [:]
            guard try await Polling.until(timeout: .milliseconds(timeoutMs), every: .milliseconds(50), {
                lag = try await kafka.uncommitted(group: group(of: name), topic: s.topic).filter { $0.value > 0 }
                return lag.isEmpty
            }) else {
                let detail = lag.sorted { $0.key < $1.key }.map { "\(s.topic)/\($0.key): \($0.value)" }.joined(separator: ", ")
                throw ScenarioError("waited \(timeoutMs) ms for group \(group(of: name)) to commit every record; not committed: \(detail)")
            }
        case .subscribe(let name):
            guard let s = subscriptionSpec(name) else { throw ScenarioError("unknown subscription '\(name)'") }
            try await subscribe(s)
        case .deleteSubscription(let name):
            try await environment.ingress.delete(subscription: ids[name] ?? "")
            deleted.insert(name)
            membersAfterDelete[name] = try await membersOnceLeft(name)
        case .restartIngress:
            try await environment.ingress.restart()
        case .ingressInstances(let count):
            try await environment.scale(to: count)
        case .addPartitions(let topic, let count, let cluster):
            try await environment.kafka(cluster, in: scenario).addPartitions(to: topic, total: count)
        case .fault(let fault):
            if let fired = try await apply(fault, cluster: nil), let injectedFault = fault.injected, !explored {
                injected.append((location, injectedFault, fired))
            }
        case .call(let call):
            try await perform(call)
        case .sleep(let ms):
            try await Task.sleep(for: .milliseconds(ms))
        }
    }

    private func subscribe(_ s: SubscriptionSpec) async throws {
        let cluster = spec(of: s.cluster)
        let kafka = try environment.kafka(cluster.name, in: scenario)
        do {
            if try await kafka.partitions(of: s.topic) == nil { try await kafka.createTopic(s.topic, partitions: cluster.partitions) }
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
            if let refusals = (kafka as? FakeKafkaTarget)?.cluster.tokenEndpointRefusals, let last = refusals.last {
                notes.append("the token endpoint of cluster \(name) refused \(refusals.count) token request(s): \(last)")
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
            try await kafka.createTopic(p.topic, partitions: cluster.partitions)
            partitions = cluster.partitions
        }
        let count = partitions ?? 1
        let timestamp = p.timestamp ?? Int64(Date().timeIntervalSince1970 * 1000)
        let rawKey = p.keyHex.map(ScenarioRunner.bytes(hex:))
        let rawValue = p.valueHex.map(ScenarioRunner.bytes(hex:))
        let headers = p.headers.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
        let keyTemplate = p.key.map(Template.init)
        let valueTemplate = Template(p.value)
        var byPartition: [Int32: [(index: Int, record: RecordToProduce, value: String)]] = [:]
        for i in 0..<p.count {
            let key = rawKey ?? keyTemplate.map { Array($0.render(i).utf8) }
            let value = rawValue.map { String(decoding: $0, as: UTF8.self) } ?? valueTemplate.render(i)
            let partition = p.partition ?? key.map { Int32(Template.partition(of: $0, count)) } ?? Int32(i % Int(count))
            guard (0..<count).contains(partition) else {
                throw ScenarioError("partition \(partition) of topic \(p.topic) does not exist (it has \(count))")
            }
            let record = RecordToProduce(partition: partition, key: key, value: rawValue ?? Array(value.utf8), headers: headers, timestamp: timestamp)
            byPartition[partition, default: []].append((first + i, record, value))
        }
        var offsetsByPartition: [Int32: [Int64]] = [:]
        if let outcome = p.transaction {
            offsetsByPartition = try await kafka.produceTransaction(byPartition.mapValues { $0.map(\.record) }, topic: p.topic,
                                                                    compression: p.compression, commit: outcome == .commit)
        } else {
            for (partition, items) in byPartition.sorted(by: { $0.key < $1.key }) {
                offsetsByPartition[partition] = try await kafka.produce(items.map(\.record), topic: p.topic, partition: partition, compression: p.compression)
            }
        }
        var out: [ProducedRecord] = []
        for (partition, items) in byPartition.sorted(by: { $0.key < $1.key }) {
            for (item, offset) in zip(items, offsetsByPartition[partition] ?? []) {
                var record = ProducedRecord(index: item.index, cluster: cluster.name, topic: p.topic, partition: partition, offset: offset,
                                            key: item.record.key.map { String(decoding: $0, as: UTF8.self) }, keyBytes: item.record.key,
                                            value: item.value, timestamp: timestamp, producedAfterDeleting: deleted)
                record.aborted = p.transaction == .abort
                out.append(record)
            }
        }
        return out.sorted { $0.index < $1.index }
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
