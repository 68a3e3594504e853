/// Collects writes that arrive while a commit is running and commits them together next: one
/// transaction for many callers, without a timer. Each caller returns once its write is durable,
/// with what the commit made of it.
actor GroupCommit<Operation: Sendable, Outcome: Sendable> {
    private let commit: @Sendable ([Operation]) async throws -> [Outcome]
    private var pending: [(Operation, CheckedContinuation<Outcome, Error>)] = []
    private var committing = false

    /// `commit` returns one outcome per operation, in order.
    init(_ commit: @escaping @Sendable ([Operation]) async throws -> [Outcome]) {
        self.commit = commit
    }

    func submit(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((operation, continuation))
            if !committing {
                committing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                let outcomes = try await commit(batch.map(\.0))
                precondition(outcomes.count == batch.count, "a group commit must return one outcome per operation")
                for ((_, continuation), outcome) in zip(batch, outcomes) { continuation.resume(returning: outcome) }
            } catch {
                batch.forEach { $0.1.resume(throwing: error) }
            }
        }
        committing = false
    }
}
