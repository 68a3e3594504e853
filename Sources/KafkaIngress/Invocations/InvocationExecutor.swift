import Logging
import RestateProtocol

/// Runs one attempt of an invocation against its deployment and journals what happened.
struct InvocationExecutor: Sendable {
    let journal: Journal
    let client: ServiceEndpointClient
    let retry: RetryPolicy
    let logger: Logger
    let defects: Set<DeliberateDefect>
    /// Finds the deployment serving a service (registrations may change while invocations wait).
    let deploymentFor: @Sendable (String) -> Deployment?
    /// How a handler runs: keyed (objects, workflows) and exclusive (one at a time per key).
    let handlerKind: @Sendable (_ service: String, _ handler: String) -> (keyed: Bool, exclusive: Bool)

    func attempt(_ invocation: Invocation) async -> Dispatcher.AttemptResult {
        let number = invocation.attempts + 1
        do {
            journal.markStarted(invocation.id, attempt: number)
            guard let deployment = deploymentFor(invocation.service) else {
                return try await failedAttempt(invocation, number, "no deployment serves service '\(invocation.service)'")
            }
            var state: [[UInt8]: [UInt8]] = [:]
            if let key = invocation.key { state = try await journal.objectState(service: invocation.service, key: key) }
            let request = InvocationRequest(
                id: Array(invocation.id.utf8), debugId: invocation.id, key: invocation.key ?? "", state: state,
                headers: defects.contains(.dropOffsetHeader) ? invocation.headers.filter { $0.0 != KafkaIngressHeader.offset } : invocation.headers,
                input: invocation.payload, retryCount: UInt32(invocation.attempts))
            let response: InvocationResponse
            do {
                response = try await client.invoke(deployment.uri, headers: deployment.additionalHeaders,
                                                   service: invocation.service, handler: invocation.handler, request)
            } catch {
                return try await failedAttempt(invocation, number, "\(error)")
            }
            let changes = response.stateMutations.map(StateChange.init)
            let sends = response.sends.map(send)
            switch response.outcome {
            case .value(let output):
                if defects.contains(.invokeTwice) {
                    _ = try? await client.invoke(deployment.uri, headers: deployment.additionalHeaders,
                                                 service: invocation.service, handler: invocation.handler, request)
                }
                let sent = try await journal.finish(invocation, status: .completed, attempts: number, output: output, error: nil,
                                                    mutations: changes, sends: sends)
                return sent.isEmpty ? .finished : .finishedSending(sent)
            case .failure(let failure):
                // A terminal error: the handler decided; not retried. What it sent before still goes.
                let sent = try await journal.finish(invocation, status: .failed, attempts: number, output: nil,
                                                    error: "[\(failure.code)] \(failure.message)", mutations: changes, sends: sends)
                return sent.isEmpty ? .finished : .finishedSending(sent)
            case .error(let failure, let retryAfter):
                return try await failedAttempt(invocation, number, "[\(failure.code)] \(failure.message)", retryAfterMs: retryAfter.map(Int.init))
            case .suspended:
                return try await failedAttempt(invocation, number, "the handler suspended, which request-response mode cannot resume")
            case .incomplete:
                return try await failedAttempt(invocation, number, "the response ended without output or EndMessage")
            case .unsupported(let message):
                // Never acted on in part: the attempt fails whole, and says what is missing.
                return try await failedAttempt(invocation, number, "the handler used \(message), which this ingress does not serve yet")
            }
        } catch {
            // The journal itself failed: keep the invocation open and try again later.
            logger.error("journal error on invocation \(invocation.id): \(error)")
            return .retry(afterMs: retry.delayMs(afterAttempts: number))
        }
    }

    /// A one-way call as the journal keeps it: keyed and exclusive as its target handler is.
    private func send(_ call: OneWayCall) -> Journal.Send {
        let kind = handlerKind(call.service, call.handler)
        return Journal.Send(service: call.service, handler: call.handler, key: kind.keyed ? call.key : nil, exclusive: kind.exclusive,
                            headers: call.headers, payload: call.parameter,
                            notBefore: call.invokeTimeMs > 0 ? Int64(clamping: call.invokeTimeMs) : nil)
    }

    private func failedAttempt(_ invocation: Invocation, _ number: Int, _ error: String, retryAfterMs: Int? = nil) async throws -> Dispatcher.AttemptResult {
        if let max = retry.maxAttempts, number >= max {
            switch retry.onMaxAttempts {
            case .kill:
                try await journal.finish(invocation, status: .failed, attempts: number, output: nil,
                                         error: "\(error) (killed after \(number) attempts)", mutations: [])
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
