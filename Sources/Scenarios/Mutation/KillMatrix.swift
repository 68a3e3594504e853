import PlantedDefects

/// What running every scenario against every planted defect found: which scenario catches
/// which defect, and where. A scenario "catches" a defect when it passes on the clean build and
/// fails with the defect planted.
public struct KillMatrix: Sendable {
    /// One scenario against one defect.
    public enum Verdict: Sendable, Equatable {
        /// Failed at this expectation (the first that failed), written at `location`.
        case caught(expectation: String, location: SourceLocation, message: String)
        /// A step could not run (the defect broke the run itself): caught too.
        case caughtByError(location: SourceLocation?, message: String)
        /// Passed with the defect planted.
        case missed
        /// The scenario does nothing the defect could change (why).
        case notApplicable(String)
        /// Not run: the scenario fails (or is skipped) on the clean build, so a failure with the
        /// defect would prove nothing (why).
        case skipped(String)

        public var isCaught: Bool {
            switch self {
            case .caught, .caughtByError: true
            default: false
            }
        }
    }

    public struct Row: Sendable {
        /// The scenario and its clean run.
        public var clean: ScenarioResult
        public var verdicts: [PlantedDefect: Verdict]
        /// Seconds the scenario's runs took, the clean one included.
        public var seconds: Double

        public init(clean: ScenarioResult, verdicts: [PlantedDefect: Verdict] = [:], seconds: Double = 0) {
            self.clean = clean
            self.verdicts = verdicts
            self.seconds = seconds
        }

        public var scenario: Scenario { clean.scenario }
        public var catches: [PlantedDefect] { verdicts.filter { $0.value.isCaught }.map { $0.key }.sorted() }
        /// Whether the scenario passed on the clean build (a skip on this target counts as not run).
        public var cleanPassed: Bool { clean.passed && clean.skipped == nil }
    }

    public var defects: [PlantedDefect]
    public var rows: [Row]
    public var seconds: Double

    public init(defects: [PlantedDefect], rows: [Row], seconds: Double) {
        self.defects = defects
        self.rows = rows
        self.seconds = seconds
    }

    /// Defects no scenario catches.
    public var uncaughtDefects: [PlantedDefect] {
        defects.filter { defect in !rows.contains { $0.verdicts[defect]?.isCaught == true } }
    }

    /// Scenarios that catch no defect and do not say why (`mutation: none  # why`).
    public var scenariosCatchingNothing: [Row] {
        rows.filter { $0.catches.isEmpty && $0.scenario.mutationExemption == nil }
    }

    /// Scenarios that fail on the clean build: a mutation run proves nothing about them.
    public var cleanFailures: [Row] { rows.filter { !$0.clean.passed } }

    /// Whether the suite is as strong as asked: every scenario passes clean and catches a defect
    /// (or says why not). Uncaught defects are reported but are the catalogue's news, not a failure.
    public var passed: Bool { cleanFailures.isEmpty && scenariosCatchingNothing.isEmpty }
}

extension KillMatrix.Verdict {
    /// A short cell for a text table.
    public var cell: String {
        switch self {
        case .caught(_, let location, _): "caught:\(location.line)"
        case .caughtByError(let location, _): "error" + (location.map { ":\($0.line)" } ?? "")
        case .missed: "MISSED"
        case .notApplicable: "n/a"
        case .skipped: "skip"
        }
    }

    /// The whole story, for reports.
    public var explanation: String {
        switch self {
        case .caught(let expectation, let location, let message): "caught by \(expectation) at \(location): \(message)"
        case .caughtByError(let location, let message): "caught: a step could not run" + (location.map { " (\($0))" } ?? "") + ": \(message)"
        case .missed: "missed: the scenario passed with the defect planted"
        case .notApplicable(let why): "not applicable: \(why)"
        case .skipped(let why): "skipped: \(why)"
        }
    }
}
