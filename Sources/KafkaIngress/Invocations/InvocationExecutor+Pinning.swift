import RestateProtocol

/// Which deployment an attempt goes to, as Restate's invoker chooses: the one the invocation is
/// pinned to, with the protocol version it started with; else the newest one serving its
/// service (pinned once the attempt journals something).
extension InvocationExecutor {
    struct AttemptTarget {
        var deployment: Deployment
        var protocolVersion: Int
        /// Whether this attempt pins the deployment once the handler journals something.
        var pins: Bool
    }

    /// The attempt's deployment, or why there is none (a failed attempt, retried).
    func target(of invocation: Invocation) -> Result<AttemptTarget, AttemptProblem> {
        let pinned = journal.pinned(invocation.id)
        if let id = pinned?.deploymentID {
            guard let deployment = deploymentWithID(id) else {
                return .failure(AttemptProblem(description: "the deployment \(id) the invocation is pinned to is not registered"))
            }
            return .success(AttemptTarget(deployment: deployment, protocolVersion: pinned?.protocolVersion ?? deployment.protocolVersion, pins: false))
        }
        guard let deployment = deploymentFor(invocation.service) else {
            return .failure(AttemptProblem(description: "no deployment serves service '\(invocation.service)'"))
        }
        return .success(AttemptTarget(deployment: deployment, protocolVersion: deployment.protocolVersion, pins: true))
    }

    /// Pins the attempt's deployment, as Restate does with the first entry an attempt journals.
    func pin(_ invocation: Invocation, _ target: AttemptTarget) {
        guard target.pins else { return }
        journal.pinIfUnpinned(invocation.id, deploymentID: target.deployment.id, protocolVersion: target.protocolVersion)
    }

    /// The journal entries whose effects (state changes, sends) are the invocation's own: not the
    /// prefix copied from the invocation it restarts, whose effects were applied then.
    func ownEntries(_ invocation: Invocation, _ entries: [Frame]) -> [Frame] {
        let copied = journal.pinned(invocation.id)?.copiedEntries ?? 0
        return copied == 0 ? entries : Array(entries.dropFirst(copied))
    }

    struct AttemptProblem: Error, CustomStringConvertible {
        var description: String
    }
}
