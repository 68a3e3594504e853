import Logging
import PlantedDefects
import RestateProtocol

/// Runs one attempt of an invocation against its deployment and journals what happened.
struct InvocationExecutor: Sendable {
    let journal: Journal
    let client: ServiceEndpointClient
    let logger: Logger
    let defects: Set<PlantedDefect>
    /// Finds the deployment serving a service (registrations may change while invocations wait).
    let deploymentFor: @Sendable (String) -> Deployment?
    /// Finds a deployment by id (the one an invocation is pinned to).
    let deploymentWithID: @Sendable (String) -> Deployment?
    /// How a handler runs: keyed (objects, workflows) and exclusive (one at a time per key).
    let handlerKind: @Sendable (_ service: String, _ handler: String) -> (keyed: Bool, exclusive: Bool)
    /// Starts invocations journaled during an attempt (the callees of calls).
    let start: @Sendable ([Invocation]) async -> Void
    /// Resumes a suspended invocation now (a caller whose callee has finished).
    let wake: @Sendable (String) async -> Void
    /// Delivers a signal to an invocation (named signals, cancellation).
    let deliverSignal: @Sendable (_ target: String, _ notification: Frame) async -> Void
    /// Told of every invocation that ended for good (whoever waits on Restate's HTTP ingress).
    let ended: @Sendable (_ id: String, _ outcome: CompletionResult) -> Void
    /// Ends with the invocation's outcome once it ends (for handlers attached to it).
    /// nil: the ingress stopped first.
    let awaitEnd: @Sendable (_ id: String) -> Task<CompletionResult?, Never>
    /// A workflow's run handler, if the service is a workflow.
    let workflowRunHandler: @Sendable (_ service: String) -> String?
    /// The retry policy of a handler: the runtime's default with its service's and its own settings.
    let retryPolicy: @Sendable (_ service: String, _ handler: String) -> RetryPolicy
    /// Whether the handler takes lazy state, and the keys preloaded then.
    let stateLoading: @Sendable (_ service: String, _ handler: String) -> (lazy: Bool, preload: Set<String>)
    /// Spans of invocations and their attempts (`tracing-endpoint`); nil when not tracing.
    var tracing: InvocationTracing? = nil
    let attaches = AttachRegistrations()
    /// Kills and pauses asked for through the admin API, obeyed between attempts.
    let controls = InvocationControls()

    /// Rounds of resumption within one attempt (a handler that keeps proposing `ctx.run`
    /// results is resumed at once after each); past this the attempt fails, as a guard.
    static let maxRounds = 1_000

    func runAttempt(_ invocation: Invocation) async -> Dispatcher.AttemptResult {
        let number = invocation.attempts + 1
        do {
            journal.markStarted(invocation.id, attempt: number)
            tracing?.invoking(invocation)
            let target: AttemptTarget
            switch self.target(of: invocation) {
            case .success(let chosen): target = chosen
            case .failure(let problem): return try await failedAttempt(invocation, number, problem.description)
            }
            let deployment = target.deployment
            var state: [[UInt8]: [UInt8]] = [:]
            if let key = invocation.key { state = try await journal.objectState(service: invocation.service, key: key) }
            var entries = journal.entries(of: invocation.id)
            // Sleeps that are over complete now; one still running keeps the invocation suspended
            // without asking the handler (after a restart, or a resume that came too early).
            if !entries.isEmpty {
                let due = try completeDueSleeps(entries)
                if !due.isEmpty {
                    try await journal.append(due, to: invocation, status: .pending, attempts: invocation.attempts)
                    entries += due
                } else if invocation.suspendedUntil != nil, let wakeUp = try JournalEntries.pendingSleeps(in: entries).map(\.wakeUpTimeMs).min() {
                    return try await suspend(invocation, until: Int64(clamping: wakeUp))
                }
            }
            if defects.contains(.dropRunCompletionOnReplay), let first = entries.firstIndex(where: { $0.type == MessageType.runCompletionNotification.rawValue }) {
                entries.remove(at: first)
            }
            let loading = stateLoading(invocation.service, invocation.handler)
            for _ in 0..<Self.maxRounds {
                var request = InvocationRequest(
                    id: Array(invocation.id.utf8), debugId: invocation.id, key: invocation.key ?? "",
                    state: loading.lazy ? state.filter { loading.preload.contains(String(decoding: $0.key, as: UTF8.self)) } : state,
                    headers: defects.contains(.dropOffsetHeader) ? invocation.headers.filter { $0.0 != KafkaIngressHeader.offset } : invocation.headers,
                    input: invocation.payload, retryCount: UInt32(invocation.attempts), journal: entries)
                request.partialState = loading.lazy
                request.protocolVersion = target.protocolVersion
                request.randomSeed = InvocationID.randomSeed(invocation.id)
                let (response, body): (InvocationResponse, [UInt8])
                do {
                    (response, body) = try await invoke(invocation, at: deployment, request)
                } catch {
                    return try await failedAttempt(invocation, number, "\(error)")
                }
                switch response.outcome {
                case .value, .failure, .suspended: pin(invocation, target)
                default: break
                }
                switch response.outcome {
                case .value, .failure:
                    if response.needsJournal {
                        // Calls the handler did not wait for still start, once, with their results going
                        // nowhere; promises it did not wait to complete are still completed.
                        var added = try JournalEntries.added(byResponse: body, invocationID: newInvocationID)
                        added += try await settle(invocation, added)
                        await start(try await journal.append(added, to: invocation, status: .pending, attempts: invocation.attempts,
                                                             callees: callees(in: added)))
                        entries += added
                        return try await finish(invocation, number, response, [], journaled: entries)
                    }
                    if defects.contains(.invokeTwice) {
                        _ = try? await client.invoke(deployment.uri, headers: deployment.additionalHeaders,
                                                     service: invocation.service, handler: invocation.handler, request)
                    }
                    return try await finish(invocation, number, response, body, journaled: entries)
                case .error(let failure, let retryAfter):
                    // What the handler did before failing is journaled: the retry replays it.
                    var added = try JournalEntries.added(byResponse: body, invocationID: newInvocationID)
                    added += try await settle(invocation, added)
                    if !added.isEmpty {
                        pin(invocation, target)
                        await start(try await journal.append(added, to: invocation, status: .pending, attempts: invocation.attempts, callees: callees(in: added)))
                    }
                    return try await failedAttempt(invocation, number, "[\(failure.code)] \(failure.message)", retryAfterMs: retryAfter.map(Int.init))
                case .suspended:
                    var added = try JournalEntries.added(byResponse: body, invocationID: newInvocationID)
                    added += try JournalEntries.lazyStateAnswers(added: added, journaled: entries, state: state)
                    added += try await settle(invocation, added)
                    entries += added
                    // Promise reads of earlier rounds (say, before a restart) may be answerable now.
                    var answered = try await settlePromiseGets(invocation, try JournalEntries.pendingPromiseGets(in: entries))
                    // Attaches of earlier rounds too (after a restart nothing is registered for them).
                    for read in try JournalEntries.pendingAttaches(in: entries + answered) {
                        if let answer = try await settle(read, of: invocation) { answered.append(answer) }
                    }
                    added += answered
                    entries += answered
                    let due = try completeDueSleeps(entries)
                    entries += due
                    let resumeNow = added.contains { $0.type & 0x8000 != 0 } || !due.isEmpty
                    let wakeUp = try JournalEntries.pendingSleeps(in: entries).map(\.wakeUpTimeMs).min()
                    let waitsForCallee = try !JournalEntries.pendingCalls(in: entries).isEmpty
                    let waitsForPromise = try !JournalEntries.pendingPromiseGets(in: entries).isEmpty
                    let waitsForSignal = try !JournalEntries.awaitedSignals(inResponse: body).isEmpty
                    let waitsForAttach = try !JournalEntries.pendingAttaches(in: entries).isEmpty
                    guard resumeNow || wakeUp != nil || waitsForCallee || waitsForPromise || waitsForSignal || waitsForAttach else {
                        return try await failedAttempt(invocation, number,
                            "the handler suspended waiting for something this ingress cannot complete (it waits for nothing it journaled)")
                    }
                    let journaled = entries.count
                    let suspendUntil = resumeNow ? nil : wakeUp.map { Int64(clamping: $0) }
                    await start(try await journal.append(added + due, to: invocation, status: resumeNow ? .pending : .suspended,
                                                         attempts: invocation.attempts, wakeUp: suspendUntil, callees: callees(in: added)))
                    // A callee may have finished meanwhile: its result is already in the journal.
                    let current = journal.entries(of: invocation.id)
                    if resumeNow || current.count > journaled {
                        entries = current.count > journaled ? current : entries
                        continue
                    }
                    return .suspended(untilMs: suspendUntil)
                case .incomplete:
                    return try await failedAttempt(invocation, number, "the response ended without output or EndMessage")
                case .unsupported(let message):
                    // Never acted on in part: the attempt fails whole, and says what is missing.
                    return try await failedAttempt(invocation, number, "the handler used \(message), which this ingress does not serve yet")
                }
            }
            return try await failedAttempt(invocation, number, "the handler was resumed \(Self.maxRounds) times within one attempt")
        } catch {
            // The journal itself failed: keep the invocation open and try again later.
            logger.error("journal error on invocation \(invocation.id): \(error)")
            return .retry(afterMs: retryPolicy(invocation.service, invocation.handler).delayMs(afterAttempts: number))
        }
    }

    /// One request to the deployment, in an `invocation-attempt` span when tracing.
    private func invoke(_ invocation: Invocation, at deployment: Deployment, _ request: InvocationRequest) async throws -> (InvocationResponse, [UInt8]) {
        guard let tracing else {
            return try await client.invoke(deployment.uri, headers: deployment.additionalHeaders, service: invocation.service, handler: invocation.handler, request)
        }
        return try await tracing.attempt(invocation, at: deployment) { headers in
            try await client.invoke(deployment.uri, headers: headers, service: invocation.service, handler: invocation.handler, request)
        }
    }

    /// Acts on the new commands that reach beyond this handler, and returns what it learns at
    /// once. Awakeables it completed and signals it sent go to their invocations. For the
    /// workflow's promises: a peek gets its answer, a completion its outcome (and whoever waits
    /// for the promise its value, woken), a read of a completed promise its value; a read of an
    /// open promise waits (registered here).
    private func settle(_ invocation: Invocation, _ added: [Frame]) async throws -> [Frame] {
        for (awakeableID, result) in try JournalEntries.awakeableCompletions(in: added) {
            if let (target, notification) = JournalEntries.awakeableCompletion(awakeableID, result) { await deliverSignal(target, notification) }
        }
        for (target, signal, result) in try JournalEntries.signalSends(in: added) {
            await deliverSignal(target, JournalEntries.signalNotification(signal, result))
        }
        var notifications: [Frame] = []
        for command in try JournalEntries.promiseCommands(in: added) {
            let key = PromiseStore.Key(service: invocation.service, workflow: invocation.key ?? "", name: command.name)
            switch command.kind {
            case .peek:
                notifications.append(JournalEntries.promiseNotification(for: command, result: journal.promises.result(key)))
            case .complete(let result):
                let (completed, waiters) = try await journal.promises.complete(key, result)
                notifications.append(JournalEntries.promiseNotification(for: command, result: nil, completedByThis: completed))
                for waiter in waiters {
                    let value = JournalEntries.promiseNotification(for: waiter.command, result: result)
                    // This handler reading the promise it completed gets the value on its next round.
                    if waiter.invocationID == invocation.id {
                        notifications.append(value)
                    } else {
                        try await journal.notify(waiter.invocationID, value)
                        await wake(waiter.invocationID)
                    }
                }
            case .get:
                notifications += try await settlePromiseGets(invocation, [command])
            }
        }
        for read in try JournalEntries.invocationReads(in: added) {
            if let answer = try await settle(read, of: invocation) { notifications.append(answer) }
        }
        return notifications
    }

    /// Values of the promise reads that are completed; the others are registered to be told.
    private func settlePromiseGets(_ invocation: Invocation, _ gets: [JournalEntries.PromiseCommand]) async throws -> [Frame] {
        gets.compactMap { command in
            let key = PromiseStore.Key(service: invocation.service, workflow: invocation.key ?? "", name: command.name)
            return journal.promises.resultOrWait(key, .init(invocationID: invocation.id, command: command))
                .map { JournalEntries.promiseNotification(for: command, result: $0) }
        }
    }

    /// The invocations the calls among these entries start: keyed and exclusive as their target
    /// handlers are, with the ids the handler was told.
    private func callees(in entries: [Frame]) throws -> [Journal.Send] {
        try JournalEntries.calls(in: entries).map { call, id in
            let kind = handlerKind(call.service, call.handler)
            return Journal.Send(id: id, service: call.service, handler: call.handler, key: kind.keyed ? call.key : nil, exclusive: kind.exclusive,
                                headers: call.headers.map { ($0.name, $0.value) }, payload: call.parameter, callerCompletion: call.resultCompletionID)
        }
    }

    /// Completed or failed for good: the outcome, state changes and sends in one transaction.
    /// With a journal, the state changes and sends are those of every entry (earlier rounds'
    /// ones are not in this response).
    private func finish(_ invocation: Invocation, _ number: Int, _ response: InvocationResponse, _ body: [UInt8],
                        journaled entries: [Frame]) async throws -> Dispatcher.AttemptResult {
        var mutations = response.stateMutations
        var sends = response.sends.map { send($0, id: nil) }
        if !entries.isEmpty {
            let all = ownEntries(invocation, entries) + (try JournalEntries.added(byResponse: body, invocationID: newInvocationID))
            mutations = try JournalEntries.stateMutations(in: all)
            sends = try JournalEntries.sends(in: all).map { send($0.call, id: $0.invocationID) }
        }
        let (status, output, error): (InvocationStatus, [UInt8]?, String?)
        var failure: InvocationFailure?
        switch response.outcome {
        case .value(let value): (status, output, error) = (.completed, value, nil)
        // A terminal error: the handler decided; not retried. What it sent before still goes.
        case .failure(let f):
            (status, output, error) = (.failed, nil, "[\(f.code)] \(f.message)")
            failure = f
        default: preconditionFailure("finish is for final outcomes")
        }
        let notification = invocation.caller.map { JournalEntries.callCompletion($0.completionID, failure.map(CompletionResult.failure) ?? .value(output ?? [])) }
        let sent = try await journal.finish(invocation, status: status, attempts: number, output: output, error: error,
                                            mutations: mutations.map(StateChange.init), sends: sends, callerNotification: notification)
        if let caller = invocation.caller { await wake(caller.id) }
        ended(invocation.id, failure.map(CompletionResult.failure) ?? .value(output ?? []))
        return sent.isEmpty ? .finished : .finishedSending(sent)
    }

    private func suspend(_ invocation: Invocation, until wakeUp: Int64) async throws -> Dispatcher.AttemptResult {
        try await journal.append([], to: invocation, status: .suspended, attempts: invocation.attempts, wakeUp: wakeUp)
        return .suspended(untilMs: wakeUp)
    }

    /// Completions for the journal's sleeps whose time has come.
    private func completeDueSleeps(_ entries: [Frame]) throws -> [Frame] {
        let now = UInt64(max(0, Journal.nowMs()))
        return try JournalEntries.pendingSleeps(in: entries).filter { $0.wakeUpTimeMs <= now }.map { JournalEntries.sleepCompletion($0.completionID) }
    }

    /// The id of the invocation a call starts (told to the handler when it asks).
    private func newInvocationID(_ service: String, _ handler: String, _ key: String) -> String {
        InvocationID.make(key: handlerKind(service, handler).keyed ? key : nil)
    }

    /// A one-way call as the journal keeps it: keyed and exclusive as its target handler is.
    private func send(_ call: OneWayCall, id: String?) -> Journal.Send {
        let kind = handlerKind(call.service, call.handler)
        return Journal.Send(id: id, service: call.service, handler: call.handler, key: kind.keyed ? call.key : nil, exclusive: kind.exclusive,
                            headers: call.headers, payload: call.parameter,
                            notBefore: call.invokeTimeMs > 0 ? Int64(clamping: call.invokeTimeMs) : nil)
    }

    private func failedAttempt(_ invocation: Invocation, _ number: Int, _ error: String, retryAfterMs: Int? = nil) async throws -> Dispatcher.AttemptResult {
        let retry = retryPolicy(invocation.service, invocation.handler)
        // Planted `retryNeverPauses`: a policy that pauses is treated as unlimited.
        if let max = retry.maxAttempts, number >= max, !(retry.onMaxAttempts == .pause && defects.contains(.retryNeverPauses)) {
            switch retry.onMaxAttempts {
            case .kill:
                let message = "\(error) (killed after \(number) attempts)"
                let failure = InvocationFailure(code: 500, message: message)
                try await journal.finish(invocation, status: .failed, attempts: number, output: nil, error: message, mutations: [],
                                         callerNotification: invocation.caller.map { JournalEntries.callCompletion($0.completionID, .failure(failure)) })
                if let caller = invocation.caller { await wake(caller.id) }
                ended(invocation.id, .failure(failure))
                return .finished
            case .pause:
                logger.warning("invocation \(invocation.id) paused after \(number) attempts: \(error)")
                try await journal.markPaused(invocation.id, attempts: number, error: error)
                return .paused
            }
        }
        logger.debug("invocation \(invocation.id) attempt \(number) failed: \(error)")
        try await journal.markRetrying(invocation.id, attempts: number, error: error)
        return .retry(afterMs: retryAfterMs ?? retry.delayMs(afterAttempts: number))
    }
}

extension StateChange {
    init(_ mutation: StateMutation) {
        switch mutation {
        case .set(let key, let value): self = .set(key, value)
        case .clear(let key): self = .clear(key)
        case .clearAll: self = .clearAll
        }
    }
}
