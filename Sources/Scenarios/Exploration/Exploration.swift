import Foundation
import KafkaProtocol

/// `explore:` in a scenario: run it `runs` times, each time with faults from a declared set
/// placed between its steps at points drawn from a seed. The same seed gives the same faults at
/// the same steps, so a failing run can be written out as a plain scenario and replayed.
public struct ExploreSpec: Sendable, Equatable {
    public enum FaultKind: String, Sendable, CaseIterable {
        /// The group of one of the scenario's subscriptions rebalances.
        case rebalance
        /// A partition's leadership moves to another broker (needs two brokers).
        case leaderMove = "leader_move"
        /// The answers to 1–3 OffsetCommit or Fetch requests are lost after they took effect.
        case lostAnswer = "lost_answer"
        /// 1–5 OffsetCommit or Fetch requests are answered 50–500 ms late.
        case delay
        /// A broker stops and starts again.
        case brokerRestart = "broker_restart"
    }

    public var runs: Int
    public var seed: UInt64
    public var faults: [FaultKind]
    /// Faults placed in each run.
    public var perRun: Int

    public init(runs: Int = 10, seed: UInt64 = 1, faults: [FaultKind] = FaultKind.allCases, perRun: Int = 2) {
        self.runs = runs
        self.seed = seed
        self.faults = faults
        self.perRun = perRun
    }

    /// The generator of one run: runs of one seed differ, and each is reproducible alone.
    func generator(run: Int) -> SeededGenerator {
        SeededGenerator(seed: seed ^ (UInt64(run) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    }
}

/// SplitMix64: small, fast and the same on every platform, which is what a replayable seed needs
/// (the standard library's generator is neither seedable nor specified).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One run's plan: the scenario with the faults inserted, and where they went.
struct ExplorationPlan {
    /// (the original step the faults precede, the faults).
    var insertions: [(beforeStep: Int, faults: [FaultStep])]

    /// Draws the faults of run `run`. Faults go between steps (never before the first or after
    /// the last), with parameters from the scenario: its subscriptions, topics and brokers.
    static func draw(_ scenario: Scenario, _ spec: ExploreSpec, run: Int) -> ExplorationPlan {
        var rng = spec.generator(run: run)
        let brokers = scenario.cluster.brokers
        let subscriptions = scenario.subscriptions.filter { !scenario.subscribedByStep.contains($0.name) && $0.cluster == nil }.map(\.name)
        let topics = scenario.topics.filter { $0.cluster == nil }.map { ($0.name, $0.partitions ?? scenario.cluster.partitions) }
        let kinds = spec.faults.filter { kind in
            switch kind {
            case .rebalance: !subscriptions.isEmpty
            case .leaderMove: brokers > 1 && !topics.isEmpty
            case .lostAnswer, .delay, .brokerRestart: true
            }
        }
        var insertions: [(Int, [FaultStep])] = []
        guard scenario.steps.count >= 2, !kinds.isEmpty else { return ExplorationPlan(insertions: []) }
        for _ in 0..<spec.perRun {
            let before = Int.random(in: 1..<scenario.steps.count, using: &rng)
            let api: ApiKey = Bool.random(using: &rng) ? .offsetCommit : .fetch
            let faults: [FaultStep] = switch kinds.randomElement(using: &rng)! {
            case .rebalance:
                [.rebalance(subscription: subscriptions.randomElement(using: &rng)!)]
            case .leaderMove:
                { () -> [FaultStep] in
                    let (topic, partitions) = topics.randomElement(using: &rng)!
                    return [.moveLeader(topic: topic, partition: Int32.random(in: 0..<partitions, using: &rng),
                                        toBroker: Int32.random(in: 0..<Int32(brokers), using: &rng))]
                }()
            case .lostAnswer:
                [.inject(InjectedFault(api: api, action: .dropResponse, frequency: .times(Int.random(in: 1...3, using: &rng))))]
            case .delay:
                [.inject(InjectedFault(api: api, action: .delayMs(Int.random(in: 50...500, using: &rng)), frequency: .times(Int.random(in: 1...5, using: &rng))))]
            case .brokerRestart:
                { () -> [FaultStep] in
                    let broker = Int32.random(in: 0..<Int32(brokers), using: &rng)
                    return [.stopBroker(broker), .startBroker(broker)]
                }()
            }
            insertions.append((before, faults))
        }
        return ExplorationPlan(insertions: insertions.sorted { $0.0 < $1.0 })
    }

    /// The scenario of this run; the inserted steps are marked so an injected fault that never
    /// meets a request does not fail the run (where it lands is chance, not a claim).
    func apply(to scenario: Scenario) -> Scenario {
        var out = scenario
        out.explore = nil
        var steps: [Located<Step>] = []
        var explored: Set<Int> = []
        for (index, step) in scenario.steps.enumerated() {
            for (_, faults) in insertions.filter({ $0.beforeStep == index }) {
                for fault in faults {
                    explored.insert(steps.count)
                    steps.append(Located(.fault(fault), at: step.location))
                }
            }
            steps.append(step)
        }
        out.steps = steps
        out.exploredSteps = explored
        return out
    }

    /// The original file with the faults written in as ordinary steps, and without `explore:`:
    /// replaying it runs exactly this run. Needs block-style steps (one `- ` per step line).
    func replayText(of original: String, _ scenario: Scenario, seed: UInt64, run: Int) -> String? {
        var lines = original.components(separatedBy: "\n")
        // Bottom up, so earlier line numbers stay valid.
        for (before, faults) in insertions.reversed() {
            let line = scenario.steps[before].location.line - 1
            guard lines.indices.contains(line), let dash = lines[line].firstIndex(of: "-") else { return nil }
            let indent = String(lines[line][..<dash])
            let added = faults.reversed().map { "\(indent)- fault: \($0.yaml)  # explored: seed \(seed), run \(run)" }
            for text in added { lines.insert(text, at: line) }
        }
        // Drop the explore key (and a block under it).
        if let start = lines.firstIndex(where: { $0.hasPrefix("explore:") }) {
            var end = start + 1
            while end < lines.count, lines[end].hasPrefix(" ") || lines[end].hasPrefix("\t") { end += 1 }
            lines.removeSubrange(start..<end)
        }
        return lines.joined(separator: "\n")
    }
}

extension FaultStep {
    /// The step's flow-style YAML, as a scenario file writes it.
    var yaml: String {
        switch self {
        case .rebalance(let s): "{rebalance: \(s)}"
        case .moveLeader(let t, let p, let b): "{move_leader: {topic: \(t), partition: \(p), to: \(b)}}"
        case .stopBroker(let b): "{stop_broker: \(b)}"
        case .startBroker(let b): "{start_broker: \(b)}"
        case .inject(let f):
            { () -> String in
                let action = switch f.action {
                case .dropResponse: "drop_response: true"
                case .disconnect: "disconnect: true"
                case .delayMs(let ms): "delay_ms: \(ms)"
                case .error(let code): "error: \(code.name)"
                }
                let frequency = switch f.frequency {
                case .times(let n): "times: \(n)"
                case .always: "always: true"
                case .probability(let p): "probability: \(p)"
                }
                return "{inject: {api: \(f.api), \(action), \(frequency)}}"
            }()
        case .clearFaults: "{clear_faults: true}"
        case .dropConnections(let b): "{drop_connections: \(b.map(String.init) ?? "all")}"
        case .moveCoordinator(let s, let b): "{move_coordinator: {subscription: \(s), to: \(b)}}"
        case .capVersion(let api, let max): "{cap_version: {api: \(api), max: \(max.map(String.init) ?? "none")}}"
        case .onCluster(let c, let inner): String(inner.yaml.dropLast()) + ", cluster: \(c)}"
        }
    }
}

/// What an exploration did: how many runs, and the first that failed with how to replay it.
public struct ExplorationOutcome: Sendable, Equatable {
    public var seed: UInt64
    public var runs: Int
    public var failedRun: Int?
    /// The faults of the failed run, as scenario steps.
    public var faults: [String]
    /// The scenario that replays the failed run exactly, when it could be written.
    public var replayFile: String?
}

extension ScenarioRunner {
    /// Runs the scenario `spec.runs` times with drawn faults; stops at the first failing run and
    /// writes the scenario that replays it.
    func explore(_ scenario: Scenario, _ spec: ExploreSpec, started: ContinuousClock.Instant) async -> ScenarioResult {
        var last = ScenarioResult(scenario: scenario, failures: [], error: nil, errorLocation: nil, seconds: 0, observations: nil)
        for run in 0..<spec.runs {
            let plan = ExplorationPlan.draw(scenario, spec, run: run)
            var result = await runOnce(plan.apply(to: scenario), started: started)
            let faults = plan.insertions.flatMap { $0.faults.map { "fault: \($0.yaml)" } }
            var outcome = ExplorationOutcome(seed: spec.seed, runs: run + 1, failedRun: nil, faults: faults, replayFile: nil)
            if !result.passed {
                outcome.failedRun = run
                outcome.replayFile = writeReplay(scenario, plan, spec.seed, run)
                result.exploration = outcome
                result.scenario = scenario
                return result
            }
            result.exploration = outcome
            result.scenario = scenario
            last = result
        }
        return last
    }

    private func writeReplay(_ scenario: Scenario, _ plan: ExplorationPlan, _ seed: UInt64, _ run: Int) -> String? {
        let file = scenario.source.file
        guard let original = try? String(contentsOfFile: file, encoding: .utf8),
              let text = plan.replayText(of: original, scenario, seed: seed, run: run) else { return nil }
        let source = URL(fileURLWithPath: file)
        let directory = URL(fileURLWithPath: replayDirectory ?? NSTemporaryDirectory() + "harness-replays")
        let name = source.deletingPathExtension().lastPathComponent + ".seed-\(seed)-run-\(run).yaml"
        let target = directory.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try text.write(to: target, atomically: true, encoding: .utf8)
            return target.path
        } catch {
            return nil
        }
    }
}
