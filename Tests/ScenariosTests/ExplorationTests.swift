import Foundation
import HarnessTestSupport
import KafkaIngress
@testable import ScenarioRunner
@testable import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// Seeded exploration: faults drawn from a seed, a planted defect found, and its run replayed
/// from the written scenario to the same failure.
@Suite("Seeded exploration", .guarded)
struct ExplorationTests {
    /// A rebalance before any burst but the first lets the planted defect run a key's records
    /// side by side; every gap but the last precedes one (a rebalance step waits for the group to
    /// settle, so this does not depend on timing).
    static let scenario = """
        name: order under rebalances
        topics: [{name: t, partitions: 2}]
        services: [{name: Account, kind: object, handlers: [{name: apply, latency_ms: 5}]}]
        subscriptions: [{name: account, topic: t, sink: Account/apply}]
        explore: {runs: 3, seed: 42, faults: [rebalance], per_run: 1}
        steps:
          - produce: {topic: t, count: 20, key: "k{i % 4}"}
          - wait: {invocations: 20, subscription: account}
          - produce: {topic: t, count: 100, key: "k{i % 4}", value: "second-{i}"}
          - wait: {invocations: 120, subscription: account}
          - produce: {topic: t, count: 100, key: "k{i % 4}", value: "third-{i}"}
          - wait: {invocations: 220, subscription: account}
        expect:
          - no_overlap_per_key: account
          - exactly_once: account
        """

    @Test("the same seed and run draw the same faults at the same steps; other runs draw others")
    func reproducible() throws {
        let scenario = try ScenarioYAML.parse("""
            name: many
            cluster: {brokers: 3}
            topics: [{name: t, partitions: 4}]
            services: [{name: S, kind: service, handlers: [{name: h}]}]
            subscriptions: [{name: s, topic: t, sink: S/h}]
            steps:
              - produce: {topic: t}
              - produce: {topic: t}
              - produce: {topic: t}
              - produce: {topic: t}
              - wait: {invocations: 4, subscription: s}
            """)
        let spec = ExploreSpec(runs: 10, seed: 7, perRun: 3)
        let describe = { (plan: ExplorationPlan) in plan.insertions.map { "\($0.beforeStep): \($0.faults.map(\.yaml))" } }
        #expect(describe(ExplorationPlan.draw(scenario, spec, run: 4)) == describe(ExplorationPlan.draw(scenario, spec, run: 4)))
        let runs = Set((0..<10).map { describe(ExplorationPlan.draw(scenario, spec, run: $0)).joined(separator: "|") })
        #expect(runs.count > 5, "runs of one seed differ")
        var other = spec
        other.seed = 8
        #expect(describe(ExplorationPlan.draw(scenario, spec, run: 0)) != describe(ExplorationPlan.draw(scenario, other, run: 0)))
    }

    @Test("an exploration finds the planted defect, writes the failing run, and the written scenario fails the same way (and passes without the defect)")
    func findsAndReplays() async throws {
        let directory = NSTemporaryDirectory() + uniqueName("explore")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/order.yaml"
        try Self.scenario.write(toFile: file, atomically: true, encoding: .utf8)

        var defective = ScenarioRunner(defects: [.loseKeyOrderAfterRebalance], concurrency: ScenarioRunnerTests.concurrency)
        defective.replayDirectory = directory + "/replays"
        let found = await defective.run(try ScenarioYAML.load(file: file))
        let exploration = try #require(found.exploration)
        let failedRun = try #require(exploration.failedRun, "the defect was not found in \(exploration.runs) runs")
        #expect(found.failures.map(\.expectation).contains("no_overlap_per_key account"), "\(found.failures.map(\.description))")
        let replay = try #require(exploration.replayFile)
        #expect(replay == directory + "/replays/order.seed-42-run-\(failedRun).yaml")
        let text = try String(contentsOfFile: replay, encoding: .utf8)
        #expect(!text.contains("explore:"))
        #expect(text.contains("seed: \(ExploreSpec(seed: 42).runSeed(failedRun))  # run \(failedRun) of exploration seed 42"), "the run's own seed, for its probabilistic choices")
        #expect(text.contains("  - fault: {rebalance: account}  # explored: seed 42, run \(failedRun)"), "\(text)")

        let replayed = await defective.run(try ScenarioYAML.load(file: replay))
        #expect(replayed.exploration == nil)
        #expect(replayed.failures.map(\.expectation).contains("no_overlap_per_key account"), "the replay fails as the run did: \(replayed.failures.map(\.description))")
        let sound = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(try ScenarioYAML.load(file: replay))
        #expect(sound.passed, "\(sound.error ?? "") \(sound.failures.map(\.description))")
    }

    @Test("without the defect, every run of the exploration passes")
    func soundIngressPasses() async throws {
        let scenario = try ScenarioYAML.parse(Self.scenario, file: "sound.yaml")
        let result = await ScenarioRunner(concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        #expect(result.passed, "\(result.error ?? "") \(result.failures.map(\.description))")
        var expected = ExplorationOutcome(seed: 42, runs: 3, failedRun: nil, faults: result.exploration?.faults ?? [], replayFile: nil)
        expected.faultsPerRun = (0..<3).map { run in
            ExplorationPlan.draw(scenario, scenario.explore!, run: run).insertions.flatMap { $0.faults.map { "fault: \($0.yaml)" } }
        }
        #expect(result.exploration == expected, "every run's faults are kept, the passing ones included")
    }
}
