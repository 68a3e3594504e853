import Scenarios
import Foundation
import KafkaProtocol

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
    func apply(to scenario: Scenario, seed: UInt64) -> Scenario {
        var out = scenario
        out.explore = nil
        out.seed = seed
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
    func replayText(of original: String, _ scenario: Scenario, seed: UInt64, run: Int, runSeed: UInt64) -> String? {
        var lines = original.components(separatedBy: "\n")
        // Bottom up, so earlier line numbers stay valid.
        for (before, faults) in insertions.reversed() {
            let line = scenario.steps[before].location.line - 1
            guard lines.indices.contains(line), let dash = lines[line].firstIndex(of: "-") else { return nil }
            let indent = String(lines[line][..<dash])
            let added = faults.reversed().map { "\(indent)- fault: \($0.yaml)  # explored: seed \(seed), run \(run)" }
            for text in added { lines.insert(text, at: line) }
        }
        // The explore key (and a block under it) becomes the run's own seed.
        if let start = lines.firstIndex(where: { $0.hasPrefix("explore:") }) {
            var end = start + 1
            while end < lines.count, lines[end].hasPrefix(" ") || lines[end].hasPrefix("\t") { end += 1 }
            lines.replaceSubrange(start..<end, with: ["seed: \(runSeed)  # run \(run) of exploration seed \(seed)"])
        }
        return lines.joined(separator: "\n")
    }
}

extension ScenarioRunner {
    /// Runs the scenario `spec.runs` times with drawn faults; stops at the first failing run and
    /// writes the scenario that replays it.
    func explore(_ scenario: Scenario, _ spec: ExploreSpec, started: ContinuousClock.Instant) async -> ScenarioResult {
        var last = ScenarioResult(scenario: scenario, failures: [], error: nil, errorLocation: nil, seconds: 0, observations: nil)
        var placed: [[String]] = []
        for run in 0..<spec.runs {
            let plan = ExplorationPlan.draw(scenario, spec, run: run)
            var result = await runOnce(plan.apply(to: scenario, seed: spec.runSeed(run)), started: started)
            let faults = plan.insertions.flatMap { $0.faults.map { "fault: \($0.yaml)" } }
            placed.append(faults)
            var outcome = ExplorationOutcome(seed: spec.seed, runs: run + 1, failedRun: nil, faults: faults, replayFile: nil)
            outcome.faultsPerRun = placed
            if !result.passed {
                outcome.failedRun = run
                outcome.replayFile = writeReplay(scenario, plan, spec, run)
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

    private func writeReplay(_ scenario: Scenario, _ plan: ExplorationPlan, _ spec: ExploreSpec, _ run: Int) -> String? {
        let file = scenario.source.file
        guard let original = try? String(contentsOfFile: file, encoding: .utf8),
              let text = plan.replayText(of: original, scenario, seed: spec.seed, run: run, runSeed: spec.runSeed(run)) else { return nil }
        let source = URL(fileURLWithPath: file)
        let directory = URL(fileURLWithPath: replayDirectory ?? NSTemporaryDirectory() + "harness-replays")
        let name = source.deletingPathExtension().lastPathComponent + ".seed-\(spec.seed)-run-\(run).yaml"
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
