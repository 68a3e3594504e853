import PlantedDefects
import Scenarios
import FakeKafka
import Foundation
import KafkaIngress
import KafkaProtocol

/// Runs scenarios against a target: set up, run the steps, check the expectations.
public struct ScenarioRunner: Sendable {
    /// Defects the embedded ingress should exhibit: only for proving the assertions catch them.
    public var defects: Set<PlantedDefect>
    public var target: ScenarioTarget
    /// Attempts the embedded ingress runs at once (each holds a connection to the recorder).
    public var concurrency: Int
    /// Replaces the seed of scenarios that explore (`--seed`).
    public var seed: UInt64?
    /// Where an exploration writes the scenario of a failed run (nil: the temporary directory;
    /// never beside the scenario, where a later `harness run` of the folder would pick it up).
    public var replayDirectory: String?

    public init(target: ScenarioTarget = .embedded, defects: Set<PlantedDefect> = [],
                concurrency: Int = KafkaIngress.Settings.defaultConcurrency) {
        self.target = target
        self.defects = defects
        self.concurrency = concurrency
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
        if case .external = target.kafka { runnable = scenario.suffixingTopics("-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)) }
        do {
            let environment = try await ScenarioEnvironment(runnable, target: target, embedded: EmbeddedIngress.Options(defects: defects, concurrency: concurrency, retry: runnable.retryPolicy))
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
        let steps = scenario.steps.map(\.value)
        if case .external = target.kafka {
            if steps.contains(where: { if case .fault = $0 { true } else { false } }) { return "it injects faults, which need FakeKafka (not --bootstrap-servers)" }
            if scenario.explore != nil { return "it explores faults, which need FakeKafka (not --bootstrap-servers)" }
            if steps.contains(where: { if case .addPartitions = $0 { true } else { false } }) { return "it adds partitions, which this harness does only on FakeKafka (not --bootstrap-servers)" }
            if scenario.clusters.contains(where: { $0.sasl != nil }) { return "it declares SASL users, which only FakeKafka can be given (not --bootstrap-servers)" }
            if scenario.clusters.contains(where: { $0.effectiveSecurityProtocol.usesTLS }) { return "its cluster uses TLS with a CA the harness generates, which needs FakeKafka (not --bootstrap-servers)" }
            if !scenario.additionalClusters.isEmpty { return "it uses \(scenario.clusters.count) Kafka clusters; --bootstrap-servers gives one" }
        }
        if case .remote = target.ingress {
            if steps.contains(.restartIngress) { return "it restarts the ingress, which an external ingress does not let the harness do" }
            if steps.contains(where: { if case .ingressInstances = $0 { true } else { false } }) { return "it adds ingress instances, which only the embedded target can" }
            if !scenario.additionalClusters.isEmpty { return "it uses \(scenario.clusters.count) Kafka clusters; an external ingress is configured with one" }
            if scenario.cluster.effectiveSecurityProtocol.usesTLS {
                return "its cluster uses TLS with a CA generated per run, which an external ingress's configuration cannot name in advance"
            }
            if scenario.cluster.sasl?.ingressUser != nil {
                return "its ingress_user goes into the ingress's cluster properties, which an external ingress takes from its own configuration"
            }
        }
        return nil
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


/// `{i}` and `{i % N}` in keys and values.
/// A key or value template: `{i}` is the record's number in its step, `{i % N}` that number
/// modulo N; anything else is literal. Parsed once per step, rendered once per record.
struct Template {
    private enum Part {
        case literal(String)
        case index
        case indexModulo(Int)
    }

    private let parts: [Part]

    init(_ template: String) {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{i") {
            literal += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let inside = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            var placeholder: Part?
            if inside.isEmpty {
                placeholder = .index
            } else if inside.hasPrefix("%"), let n = Int(inside.dropFirst().trimmingCharacters(in: .whitespaces)), n > 0 {
                placeholder = .indexModulo(n)
            }
            if let placeholder {
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(placeholder)
            } else {
                literal += rest[open.lowerBound...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    func render(_ i: Int) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .index: out += String(i)
            case .indexModulo(let n): out += String(i % n)
            }
        }
        return out
    }

    /// A stable partition for a key (FNV-1a; all records of a key land together).
    static func partition(of key: [UInt8], _ partitions: Int32) -> Int {
        Int(key.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } % UInt32(max(1, partitions)))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
