import Foundation
import Synchronization
import PlantedDefects
import Scenarios

/// Runs scenarios on the clean build and against planted defects, and builds the kill matrix.
///
/// Every run is a separate `ScenarioRunner` run (its own FakeKafka, ingress, recorder and data
/// directory), so runs are independent and `parallelism` of them go at once.
public struct MutationTesting: Sendable {
    public var runner: ScenarioRunner
    public var defects: [PlantedDefect]
    /// Runs at once. Each holds a broker, an ingress and a recorder; timing-sensitive scenarios
    /// want a core each, so the default is the machine's cores.
    public var parallelism: Int

    public init(runner: ScenarioRunner, defects: [PlantedDefect] = PlantedDefect.allCases,
                parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.runner = runner
        self.defects = defects
        self.parallelism = max(1, parallelism)
    }

    /// One line per finished run, for progress.
    public typealias Progress = @Sendable (String) -> Void

    public func run(_ scenarios: [Scenario], progress: @escaping Progress = { _ in }) async -> KillMatrix {
        let started = ContinuousClock.now
        // First the clean build: a scenario that fails there proves nothing about a defect.
        let clean = await runAll(scenarios.indices.map { Job(index: $0, defect: nil) }, scenarios) { job, result in
            progress("clean: \(Self.status(result)) \(scenarios[job.index].name) (\(String(format: "%.1f", result.seconds)) s)")
        }
        var rows = scenarios.indices.map { index in
            let outcome = clean[Job(index: index, defect: nil)]!
            return KillMatrix.Row(clean: outcome, seconds: outcome.seconds)
        }
        var jobs: [Job] = []
        for (index, row) in rows.enumerated() {
            for defect in defects {
                if let skip = row.clean.skipped {
                    rows[index].verdicts[defect] = .skipped("skipped on this target: \(skip)")
                } else if !row.clean.passed {
                    rows[index].verdicts[defect] = .skipped("fails on the clean build")
                } else if let why = defect.notApplicable(to: row.scenario, target: runner.target) {
                    rows[index].verdicts[defect] = .notApplicable(why)
                } else {
                    jobs.append(Job(index: index, defect: defect))
                }
            }
        }
        progress("\(jobs.count) runs with a defect planted, \(parallelism) at a time")
        let total = jobs.count
        let done = Counter()
        let planted = await runAll(jobs, scenarios) { job, result in
            progress("[\(done.next())/\(total)] \(job.defect!.name) × \(scenarios[job.index].name): \(Self.verdict(result).cell)")
        }
        for (job, result) in planted {
            rows[job.index].verdicts[job.defect!] = Self.verdict(result)
            rows[job.index].seconds += result.seconds
        }
        return KillMatrix(defects: defects, rows: rows, seconds: (ContinuousClock.now - started).seconds)
    }

    /// How one run with a defect planted ends up in the matrix.
    public static func verdict(_ result: ScenarioResult) -> KillMatrix.Verdict {
        if let skipped = result.skipped { return .skipped(skipped) }
        if let failure = result.failures.first {
            return .caught(expectation: failure.expectation, location: failure.location, message: failure.message)
        }
        if let error = result.error { return .caughtByError(location: result.errorLocation, message: error) }
        return .missed
    }

    /// One scenario, clean (no defect) or with one defect planted.
    struct Job: Hashable, Sendable {
        var index: Int
        var defect: PlantedDefect?
    }

    private func runAll(_ jobs: [Job], _ scenarios: [Scenario],
                        finished: @escaping @Sendable (Job, ScenarioResult) -> Void) async -> [Job: ScenarioResult] {
        await withTaskGroup(of: (Job, ScenarioResult).self) { group in
            var pending = jobs[...]
            var results: [Job: ScenarioResult] = [:]
            func startNext() {
                guard let job = pending.popFirst() else { return }
                var planted = self.runner
                let scenario = scenarios[job.index]
                // Only defects the target's providers can plant get here (`notApplicable`).
                guard let target = self.runner.target.planting(job.defect.map { [$0] } ?? []) else {
                    group.addTask { (job, ScenarioResult(scenario: scenario, skipped: "the target cannot plant \(job.defect?.name ?? "")")) }
                    return
                }
                planted.target = target
                let runner = planted
                group.addTask { (job, await runner.run(scenario)) }
            }
            for _ in 0..<parallelism { startNext() }
            while let (job, result) = await group.next() {
                finished(job, result)
                results[job] = result
                startNext()
            }
            return results
        }
    }

    private static func status(_ result: ScenarioResult) -> String {
        if result.skipped != nil { return "skipped" }
        return result.passed ? "passed" : "FAILED"
    }
}

/// Counts finished runs across the tasks that report them.
private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
