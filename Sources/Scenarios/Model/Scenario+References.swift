/// Consistency of a scenario's names, whichever way it was written.
extension Scenario {
    /// Names used in steps and expectations must be declared; sinks must name declared services.
    /// YAML files are checked when read; the runner checks scenarios built in Swift.
    public func checkReferences() throws {
        let scenario = self
        let subscriptions = Set(scenario.subscriptions.map(\.name))
        if subscriptions.count != scenario.subscriptions.count {
            let names = scenario.subscriptions.map(\.name)
            let twice = Set(names.filter { name in names.filter { $0 == name }.count > 1 })
            throw ScenarioFileError(location: scenario.source, message: "subscription names must be unique; given more than once: \(twice.sorted().joined(separator: ", "))")
        }
        func check(_ name: String?, _ location: SourceLocation) throws {
            guard let name, !subscriptions.contains(name) else { return }
            throw ScenarioFileError(location: location, message: "unknown subscription '\(name)'; declared: \(subscriptions.sorted().joined(separator: ", "))")
        }
        let clusters = scenario.clusters.map(\.name)
        if Set(clusters).count != clusters.count { throw ScenarioFileError(location: scenario.source, message: "cluster names must be unique; given: \(clusters.joined(separator: ", "))") }
        func checkCluster(_ name: String?, _ location: SourceLocation) throws {
            guard let name, !clusters.contains(name) else { return }
            throw ScenarioFileError(location: location, message: "unknown cluster '\(name)'; declared: \(clusters.joined(separator: ", "))")
        }
        func checkFault(_ fault: FaultStep, _ location: SourceLocation) throws {
            switch fault {
            case .rebalance(let s), .moveCoordinator(let s, _): try check(s, location)
            case .onCluster(let cluster, let inner): try checkCluster(cluster, location); try checkFault(inner, location)
            default: break
            }
        }
        var subscribedByStep: Set<String> = []
        for step in scenario.steps {
            switch step.value {
            case .waitForInvocations(_, let s, _): try check(s, step.location)
            case .waitForGroupMembers(_, let s, _), .waitForCommitted(let s, _), .deleteSubscription(let s): try check(s, step.location)
            case .subscribe(let s):
                try check(s, step.location)
                guard subscribedByStep.insert(s).inserted else { throw ScenarioFileError(location: step.location, message: "subscription '\(s)' is subscribed by an earlier step already") }
            case .produce(let p): try checkCluster(p.cluster, step.location)
            case .fault(let f): try checkFault(f, step.location)
            case .admin(let a):
                // Names in `{subscription:NAME}` and `{deployment:NAME}` are checked when the file
                // is read, not when the request is about to go out.
                for text in [a.path, a.body ?? ""] {
                    for match in text.matches(of: /\{(subscription|deployment):([^}]*)\}/) {
                        let name = String(match.output.2)
                        if match.output.1 == "subscription" { try check(name, step.location); continue }
                        guard name == "recorder" || scenario.deployments.contains(where: { $0.name == name }) else {
                            let known = ["recorder"] + scenario.deployments.map(\.name)
                            throw ScenarioFileError(location: step.location, message: "unknown deployment '\(name)'; known: \(known.joined(separator: ", "))")
                        }
                    }
                }
            default: break
            }
        }
        let labels = Set(scenario.steps.compactMap { if case .produce(let p) = $0.value { p.label } else { nil } })
        for e in scenario.expectations {
            try check(e.value.subscription, e.location)
            if case .consumerGroup(let g) = e.value { try checkCluster(g.cluster, e.location) }
            if case .neverInvoked(_, let label?) = e.value, !labels.contains(label) {
                throw ScenarioFileError(location: e.location, message: "no produce step has label '\(label)'; labels: \(labels.sorted().joined(separator: ", "))")
            }
        }
        for t in scenario.topics { try checkCluster(t.cluster, scenario.source) }
        for s in scenario.subscriptions { try checkCluster(s.cluster, scenario.source) }
        let deploymentNames = scenario.deployments.map(\.name)
        if Set(deploymentNames).count != deploymentNames.count {
            throw ScenarioFileError(location: scenario.source, message: "deployment names must be unique; given: \(deploymentNames.joined(separator: ", "))")
        }
        // A deployment's services are known once it is discovered; the ingress then refuses a
        // sink that names none of them, and the runner reports that refusal.
        guard scenario.deployments.isEmpty else { return }
        for s in scenario.subscriptions {
            let parts = s.sink.split(separator: "/").map(String.init)
            guard let service = scenario.services.first(where: { $0.name == parts[0] }), service.handlers.contains(where: { $0.name == parts[1] }) else {
                throw ScenarioFileError(location: scenario.source, message: "subscription '\(s.name)': sink \(s.sink) names no declared service handler (nor is there a deployment that could serve it)")
            }
        }
    }
}
