import Foundation
import RestateProtocol

/// The `deployment` parameter of `PATCH /invocations/{id}/resume` and `/restart-as-new`, and
/// restart-as-new itself (`crates/worker/src/partition/rpc/resume_invocation.rs`,
/// `restart_as_new_invocation.rs`, `state_machine/lifecycle/restart_as_new.rs`).
extension KafkaIngress {
    /// Which deployment a resumed or restarted invocation goes to (Restate's `PatchDeploymentId`).
    public enum DeploymentChoice: Sendable, Equatable {
        /// The one it is pinned to.
        case keep
        /// The newest one serving its service.
        case latest
        case id(String)
    }

    /// Why the deployment of an invocation cannot be changed as asked.
    public enum DeploymentChoiceRefusal: Error, Sendable, Equatable {
        /// Still running, or nothing pinned yet to replace.
        case cannotChange
        case notFound
        /// The chosen deployment does not speak the protocol version the invocation started with.
        case incompatible(pinnedVersion: Int, deploymentID: String, supported: ClosedRange<Int>)
    }

    /// Resume, moving a paused or suspended invocation to another deployment first. Running or
    /// backing-off invocations cannot move (their attempt holds the deployment).
    public func resumeInvocation(_ id: String, deployment choice: DeploymentChoice) async throws -> Result<ResumeOutcome, DeploymentChoiceRefusal> {
        guard choice != .keep else { return .success(try await resumeInvocation(id)) }
        switch try await journal.status(of: id) {
        case nil, .completed?, .failed?:
            break
        case .pending?:
            guard journal.isRunning(id) else { break }
            return .failure(.cannotChange)
        case .running?, .retrying?:
            return .failure(.cannotChange)
        case .suspended?, .paused?:
            let pin = journal.pinned(id)
            guard let pinnedVersion = pin?.protocolVersion, pin?.deploymentID != nil else {
                // Nothing pinned: "latest" is what the next attempt picks anyway.
                if choice == .latest { break }
                return .failure(.cannotChange)
            }
            guard let service = try await journal.storedInvocation(id)?.invocation.service else { break }
            switch chosenDeployment(choice, service: service, pinnedVersion: pinnedVersion) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let deployment):
                if let deployment { try await journal.repin(id, to: deployment.id) }
            }
        }
        return .success(try await resumeInvocation(id))
    }

    public enum RestartOutcome: Sendable, Equatable {
        case restarted(newID: String)
        case unknown
        case stillRunning
        /// Waiting behind its key, not started.
        case notStarted
        /// A workflow, or `from` past 0 for an invocation that did not run on protocol 6 or later.
        case unsupported
        /// Its journal (with the input) was purged.
        case missingInput
        case indexOutOfRange
        /// The prefix up to `from` has a command whose completion the journal lacks.
        case prefixIncomplete
        case refused(DeploymentChoiceRefusal)
    }

    /// Restate's restart-as-new: an ended invocation starts again as a new invocation (a new id
    /// with the same partition key), with its input and headers, and with the first `from`
    /// entries of its journal after the input (plus the completions of the commands among
    /// them). It keeps the old pin, moved to the chosen deployment. Its random seed comes from its
    /// own id, as with Restate's default (`unique_random_seeds` off, so no seed is kept to copy).
    public func restartAsNew(_ id: String, from: Int, deployment choice: DeploymentChoice) async throws -> RestartOutcome {
        switch try await journal.status(of: id) {
        case nil: return .unknown
        case .pending?: return journal.isRunning(id) ? .stillRunning : .notStarted
        case .running?, .retrying?, .suspended?, .paused?: return .stillRunning
        case .completed?, .failed?: break
        }
        guard let ended = try await journal.storedInvocation(id) else { return .unknown }
        guard let entries = ended.entries else { return .missingInput }
        let catalog = self.catalog.state.withLock { $0 }
        let old = ended.invocation
        if catalog.lookup(old.service)?.1.ty == .workflow { return .unsupported }
        if from > 0 && (ended.pin.protocolVersion ?? 0) < 6 { return .unsupported }
        var newDeployment: String?
        if choice != .keep {
            switch chosenDeployment(choice, service: old.service, pinnedVersion: ended.pin.protocolVersion) {
            case .failure(let refusal): return .refused(refusal)
            case .success(let deployment): newDeployment = deployment?.id
            }
        }
        // Journal index 0 is the input; ours keeps the entries after it.
        guard let copied = try Self.prefix(of: entries, upTo: from) else { return .prefixIncomplete }
        guard from < entries.count + 1 else { return .indexOutOfRange }
        var pin = PinnedExecution()
        if ended.pin.deploymentID != nil {
            pin.deploymentID = newDeployment ?? ended.pin.deploymentID
            pin.protocolVersion = ended.pin.protocolVersion
        }
        pin.copiedEntries = copied.count
        let newID = String(id.prefix(InvocationID.prefix.count + InvocationID.partitionKeyLength))
            + ResourceID.base62(ResourceID.ulidBytes(now: Date()).reversed())
        let invocation = try await journal.journalRestart(of: old, as: newID, entries: copied, pin: pin)
        logger.info("invocation \(id) restarted as \(newID)\(from > 0 ? " from entry \(from)" : "")")
        await dispatcher.submit([invocation])
        return .restarted(newID: newID)
    }

    /// The deployment a choice names (nil for keep), checked against the pinned protocol version.
    private func chosenDeployment(_ choice: DeploymentChoice, service: String, pinnedVersion: Int?) -> Result<Deployment?, DeploymentChoiceRefusal> {
        let deployment: Deployment?
        switch choice {
        case .keep: return .success(nil)
        case .latest: deployment = catalog.state.withLock { $0.lookup(service)?.0 }
        case .id(let id): deployment = catalog.state.withLock { $0.deployment(id: id) }
        }
        guard let deployment else { return .failure(.notFound) }
        if let pinnedVersion, !deployment.supportedProtocolVersions.contains(pinnedVersion) {
            return .failure(.incompatible(pinnedVersion: pinnedVersion, deploymentID: deployment.id, supported: deployment.supportedProtocolVersions))
        }
        return .success(deployment)
    }

    /// Entries 1 to `from` of the journal (0 is the input) and then, in journal order, the
    /// completions of their commands; nil when an entry is missing or a command's completion is
    /// nowhere in the journal.
    static func prefix(of entries: [Frame], upTo from: Int) throws -> [Frame]? {
        guard from > 0 else { return [] }
        guard from <= entries.count else { return nil }
        let completed = Set(try entries.compactMap(JournalEntries.completionID(of:)))
        var copied = Array(entries[0..<from])
        var missing: Set<UInt32> = []
        for entry in copied where JournalEntries.isCommand(entry) {
            let related = try JournalEntries.relatedCompletionIDs(of: entry)
            guard related.allSatisfy(completed.contains) else { return nil }
            missing.formUnion(related)
        }
        for entry in copied { if let id = try JournalEntries.completionID(of: entry) { missing.remove(id) } }
        for entry in entries[from...] where !missing.isEmpty {
            if let id = try JournalEntries.completionID(of: entry), missing.remove(id) != nil { copied.append(entry) }
        }
        return copied
    }
}
