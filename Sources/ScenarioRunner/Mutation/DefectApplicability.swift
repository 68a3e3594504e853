import PlantedDefects
import Scenarios

extension PlantedDefect {
    /// Why the scenario cannot catch this defect on this target, or nil when it might: a run
    /// the defect cannot change would only cost time. Deliberately generous: only what the
    /// scenario plainly lacks (no rebalance, no deletion, no restart …) rules a defect out.
    public func notApplicable(to scenario: Scenario, target: ScenarioTarget) -> String? {
        // The provider that plants it says whether it can (FakeKafka and the embedded ingress do).
        if !target.canPlant(component) {
            let provider = component == .broker ? target.kafka.name : target.ingress.name
            return "it is planted in the \(component.rawValue), and \(provider) cannot plant defects"
        }
        let features = ScenarioFeatures(scenario)
        switch self {
        case .ignoreKeyOrder:
            return features.exclusiveKeyed ? nil : "no exclusive keyed handler (object or workflow): nothing is ordered per key"
        case .loseKeyOrderAfterRebalance:
            guard features.rebalances else { return "no rebalance (instances, rebalance, add_partitions, moved coordinator, explore)" }
            return features.exclusiveKeyed ? nil : "no exclusive keyed handler: nothing is ordered per key"
        case .reorderAfterLateQueueSplit, .loseRecordOnPartitionMove, .skipCommitOnRevoke:
            return features.rebalances ? nil : "no rebalance (instances, rebalance, add_partitions, moved coordinator, explore)"
        case .keepConsumingAfterDelete, .deleteWithoutDrainOrCommit:
            return features.deletes ? nil : "no subscription is deleted"
        case .neverInvokeAfterRestart:
            return features.restarts ? nil : "the ingress is never restarted"
        case .dropRunCompletionOnReplay:
            return features.realDeployments ? nil : "no SDK deployment: simulated handlers keep no journal of ctx.run"
        case .passRecordHeaders:
            return features.producesHeaders ? nil : "no produced record has headers"
        case .alwaysSendTimestamp:
            return features.setsTimestamps ? nil : "every record has its producer's timestamp (no produce step sets timestamp)"
        case .runWorkflowTwice:
            return features.workflows ? nil : "no workflow"
        case .retryNeverPauses, .pausedKeyMovesOn:
            return features.pausesAfterRetries ? nil : "nothing pauses: no failing handler under a retry policy that pauses after its attempts"
        case .invokeAbortedTransactions:
            return features.abortsTransactions ? nil : "no transaction is aborted or left open"
        case .loseLastBatchOnBrokerRestart:
            return features.restartsBroker ? nil : "no broker is stopped and started"
        case .invokeTwice, .dropOffsetHeader, .ignoreClusterOptions, .staleHighWatermark:
            return nil
        }
    }
}

/// What a scenario does that planted defects depend on.
struct ScenarioFeatures {
    var exclusiveKeyed = false
    var rebalances = false
    var deletes = false
    var restarts = false
    var realDeployments = false
    var producesHeaders = false
    var setsTimestamps = false
    var workflows = false
    var pausesAfterRetries = false
    var abortsTransactions = false
    var restartsBroker = false

    init(_ scenario: Scenario) {
        realDeployments = !scenario.deployments.isEmpty
        // What an SDK deployment serves is discovered at run time: assume it may be anything.
        exclusiveKeyed = realDeployments || scenario.services.contains { service in
            service.kind != .service && service.handlers.contains { $0.kind != .shared }
        }
        workflows = realDeployments || scenario.services.contains { $0.kind == .workflow }
        let policy = scenario.retryPolicy ?? RetryPolicySpec()
        let fails = realDeployments || scenario.services.contains { $0.handlers.contains { $0.failFirstAttempts > 0 } }
        pausesAfterRetries = fails && policy.onMaxAttempts == .pause && policy.maxAttempts != nil
        if let explore = scenario.explore {
            rebalances = explore.faults.contains(.rebalance)
            restartsBroker = explore.faults.contains(.brokerRestart)
        }
        for step in scenario.steps.map(\.value) {
            switch step {
            case .produce(let produce):
                if !produce.headers.isEmpty { producesHeaders = true }
                if produce.timestamp != nil { setsTimestamps = true }
                // Read uncommitted, an open transaction's records are invoked as an aborted one's are.
                if produce.transaction == .abort || produce.transaction == .open { abortsTransactions = true }
            case .deleteSubscription: deletes = true
            case .admin(let admin) where admin.method.uppercased() == "DELETE" && admin.path.contains("/subscriptions/"): deletes = true
            case .restartIngress, .killIngress: restarts = true
            case .ingressInstances, .addPartitions: rebalances = true
            case .fault(let fault): note(fault)
            default: break
            }
        }
    }

    private mutating func note(_ fault: FaultStep) {
        switch fault {
        case .rebalance, .moveCoordinator: rebalances = true
        case .startBroker: restartsBroker = true
        case .onCluster(_, let inner): note(inner)
        default: break
        }
    }
}
