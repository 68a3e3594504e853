import Foundation

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
    public func generator(run: Int) -> SeededGenerator {
        SeededGenerator(seed: seed ^ (UInt64(run) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The seed of run `run`'s own random choices (its probabilistic faults), apart from the
    /// draw of its faults.
    public func runSeed(_ run: Int) -> UInt64 {
        // Kept below 2^62 so it reads back from YAML as an integer.
        (seed ^ (UInt64(run) &+ 1) &* 0xD1B5_4A32_D192_ED03) & 0x3FFF_FFFF_FFFF_FFFF
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

/// What an exploration did: how many runs, and the first that failed with how to replay it.
public struct ExplorationOutcome: Sendable, Equatable {
    public var seed: UInt64
    public var runs: Int
    public var failedRun: Int?
    /// The faults of the failed run, as scenario steps.
    public var faults: [String]
    /// The scenario that replays the failed run exactly, when it could be written.
    public var replayFile: String?
    /// The faults each run placed, in run order (the failed run's last), as scenario steps.
    public var faultsPerRun: [[String]] = []

    public init(seed: UInt64, runs: Int, failedRun: Int?, faults: [String], replayFile: String?) {
        self.seed = seed
        self.runs = runs
        self.failedRun = failedRun
        self.faults = faults
        self.replayFile = replayFile
    }
}

