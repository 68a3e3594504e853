/// Collects writes that arrive while a commit is running and commits them together next: one
/// transaction for many callers, without a timer. Each caller returns once its write is durable.
actor GroupCommit<Operation: Sendable> {
    private let commit: @Sendable ([Operation]) async throws -> Void
    private var pending: [(Operation, CheckedContinuation<Void, Error>)] = []
    private var committing = false

    init(_ commit: @escaping @Sendable ([Operation]) async throws -> Void) {
        self.commit = commit
    }

    func submit(_ operation: Operation) async throws {
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
                try await commit(batch.map(\.0))
                batch.forEach { $0.1.resume() }
            } catch {
                batch.forEach { $0.1.resume(throwing: error) }
            }
        }
        committing = false
    }
}
