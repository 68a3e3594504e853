import Scenarios
import Foundation
import KafkaProtocol

/// Runs scenarios against a target: set up, run the steps, check the expectations.
public struct ScenarioRunner: Sendable {
    public var target: ScenarioTarget
    /// Replaces the seed of scenarios that explore (`--seed`).
    public var seed: UInt64?
    /// Where an exploration writes the scenario of a failed run (nil: the temporary directory;
    /// never beside the scenario, where a later `harness run` of the folder would pick it up).
    public var replayDirectory: String?

    public init(target: ScenarioTarget) {
        self.target = target
    }

    public func run(_ scenario: Scenario) async -> ScenarioResult {
        let started = ContinuousClock.now
        var result = ScenarioResult(scenario: scenario, failures: [], error: nil, errorLocation: nil, seconds: 0, observations: nil)
        do {
            try scenario.checkReferences()
        } catch let error as ScenarioFileError {
            result.error = error.description
            result.errorLocation = error.location
            return result
        } catch {
            result.error = "\(error)"
            return result
        }
        if let reason = unsupported(scenario) {
            result.skipped = reason
            return result
        }
        if var spec = scenario.explore {
            spec.seed = seed ?? spec.seed
            return await explore(scenario, spec, started: started)
        }
        var seeded = scenario
        seeded.seed = seed ?? scenario.seed
        return await runOnce(seeded, started: started)
    }

    func runOnce(_ scenario: Scenario, started: ContinuousClock.Instant = .now) async -> ScenarioResult {
        var result = ScenarioResult(scenario: scenario, failures: [], error: nil, errorLocation: nil, seconds: 0, observations: nil)
        // A real Kafka keeps what earlier runs wrote: give this run topics of its own.
        var runnable = scenario
        if target.kafka.capabilities.contains(.keepsEarlierRuns) {
            runnable = scenario.suffixingTopics("-" + String(UInt32.random(in: 0...UInt32.max), radix: 36))
        }
        do {
            let environment = try await ScenarioEnvironment(runnable, target: target)
            do {
                let observations = try await ScenarioExecution(scenario: runnable, environment: environment).run()
                result.observations = observations
                result.failures += observations.unfiredFaults
                for expectation in runnable.expectations {
                    let involved = InvolvedRecords()
                    if let message = expectation.value.check(observations, involved: involved) {
                        var failure = ExpectationFailure(location: expectation.location, expectation: expectation.value.label, message: message)
                        failure.records = involved.indices
                        result.failures.append(failure)
                    }
                }
            } catch let error as ScenarioStepError {
                result.error = error.description
                result.errorLocation = error.location
            } catch {
                result.error = "\(error)"
            }
            // What a real deployment printed is often the reason (a handler's traceback).
            if let error = result.error, environment.deployments.startedAny {
                result.error = error + "\n" + environment.deployments.outputTail()
            }
            await environment.shutdown()
        } catch {
            result.error = "setting up: \(error)"
        }
        result.seconds = (ContinuousClock.now - started).seconds
        return result
    }
}

extension ScenarioRunner {
    /// What the scenario needs that the target cannot do, if anything (such scenarios are skipped).
    public func unsupported(_ scenario: Scenario) -> String? {
        let kafka = target.kafka.capabilities, ingress = target.ingress.capabilities
        let (kafkaName, ingressName) = (target.kafka.name, target.ingress.name)
        let steps = scenario.steps.map(\.value)
        let clusters = scenario.clusters.count
        func any(_ matches: (Step) -> Bool) -> Bool { steps.contains(where: matches) }
        let needs: [(Bool, Bool, String)] = [
            (any { if case .fault = $0 { true } else { false } }, kafka.contains(.faults), "it injects faults, which \(kafkaName) does not offer (FakeKafka does)"),
            (scenario.explore != nil, kafka.contains(.faults), "it explores faults, which \(kafkaName) does not offer (FakeKafka does)"),
            (any { if case .addPartitions = $0 { true } else { false } }, kafka.contains(.addPartitions), "it adds partitions, which this harness does only on FakeKafka, not on \(kafkaName)"),
            (any { if case .produce(let p) = $0 { p.via == .log } else { false } }, kafka.contains(.directAppend),
             "it appends records directly to the log (via: log), which only FakeKafka allows, not \(kafkaName)"),
            (scenario.clusters.contains { $0.sasl != nil }, kafka.contains(.saslUsers), "it declares SASL users, which only FakeKafka can be given, not \(kafkaName)"),
            (scenario.clusters.contains { $0.effectiveSecurityProtocol.usesTLS }, kafka.contains(.generatedTLS),
             "its cluster uses TLS with a CA the harness generates, which needs FakeKafka, not \(kafkaName)"),
            (clusters > 1, kafka.contains(.multipleClusters), "it uses \(clusters) Kafka clusters; \(kafkaName) is one"),
            (clusters > 1, ingress.contains(.multipleClusters), "it uses \(clusters) Kafka clusters; \(ingressName) is configured with one"),
            (steps.contains(.restartIngress), ingress.contains(.restart), "it restarts the ingress, which \(ingressName) does not let the harness do"),
            (steps.contains(.killIngress), ingress.contains(.kill), "it kills the ingress, which \(ingressName) does not let the harness do"),
            (any { if case .ingressInstances = $0 { true } else { false } }, ingress.contains(.nodes), "it adds ingress instances, which \(ingressName) cannot"),
            (scenario.cluster.effectiveSecurityProtocol.usesTLS, ingress.contains(.perRunClusterConfiguration),
             "its cluster uses TLS with a CA generated per run, which the configuration of \(ingressName) cannot name in advance"),
            (!scenario.cluster.properties.isEmpty && !scenario.cluster.registeredAtRuntime, ingress.contains(.perRunClusterConfiguration),
             "its cluster's properties go into the ingress's configuration, which \(ingressName) takes from its own file (register the cluster at run time instead)"),
            (scenario.cluster.sasl?.ingressUser != nil, ingress.contains(.perRunClusterConfiguration),
             "its ingress_user goes into the ingress's cluster properties, which \(ingressName) takes from its own configuration"),
        ]
        return needs.first { needed, offered, _ in needed && !offered }?.2
    }
}

extension ScenarioRunner {
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
}

struct ScenarioStepError: Error, CustomStringConvertible {
    var location: SourceLocation
    var message: String
    var description: String { "\(location): \(message)" }
}


extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
