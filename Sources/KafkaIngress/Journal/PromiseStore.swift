import Foundation
import GRDB
import RestateProtocol
import Synchronization

/// Workflows' durable promises: resolved once, read by any handler of the workflow, waited for
/// by handlers suspended in `promise.value()`. Every completion is written to the journal's
/// database before it is visible here, and all are loaded at start.
final class PromiseStore: Sendable {
    struct Key: Hashable, Sendable {
        var service: String
        var workflow: String
        var name: String
    }

    /// An invocation suspended in a promise read: its id and the read's completion.
    struct Waiter: Sendable {
        var invocationID: String
        var command: JournalEntries.PromiseCommand
    }

    private struct State {
        var results: [Key: CompletionResult] = [:]
        var waiters: [Key: [Waiter]] = [:]
    }

    private let db: DatabasePool
    private let state = Mutex(State())

    init(db: DatabasePool) throws {
        self.db = db
        let loaded = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT service, workflow, name, value, failure_code, failure_message FROM workflow_promise").map { row in
                let key = Key(service: row["service"], workflow: row["workflow"], name: row["name"])
                let result: CompletionResult
                if let code: Int64 = row["failure_code"] {
                    result = .failure(InvocationFailure(code: UInt32(truncatingIfNeeded: code), message: row["failure_message"] ?? ""))
                } else {
                    result = .value([UInt8](row["value"] as Data? ?? Data()))
                }
                return (key, result)
            }
        }
        state.withLock { $0.results = Dictionary(loaded, uniquingKeysWith: { first, _ in first }) }
    }

    func result(_ key: Key) -> CompletionResult? {
        state.withLock { $0.results[key] }
    }

    /// The promise's result, or nil after registering `waiter` to be told of it.
    func resultOrWait(_ key: Key, _ waiter: Waiter) -> CompletionResult? {
        state.withLock { state in
            if let result = state.results[key] { return result }
            if !(state.waiters[key] ?? []).contains(where: { $0.invocationID == waiter.invocationID && $0.command == waiter.command }) {
                state.waiters[key, default: []].append(waiter)
            }
            return nil
        }
    }

    /// Completes the promise unless it already is; returns whether this call completed it and
    /// who waited for it.
    func complete(_ key: Key, _ result: CompletionResult) async throws -> (completed: Bool, waiters: [Waiter]) {
        let inserted = try await db.write { db -> Bool in
            var value: Data?, code: Int64?, message: String?
            switch result {
            case .value(let bytes): value = Data(bytes)
            case .failure(let failure): (code, message) = (Int64(failure.code), failure.message)
            }
            try db.execute(sql: """
                INSERT OR IGNORE INTO workflow_promise (service, workflow, name, value, failure_code, failure_message) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [key.service, key.workflow, key.name, value, code, message])
            return db.changesCount == 1
        }
        guard inserted else { return (false, []) }
        return state.withLock { state in
            state.results[key] = result
            return (true, state.waiters.removeValue(forKey: key) ?? [])
        }
    }
}
