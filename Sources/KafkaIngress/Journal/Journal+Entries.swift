import Foundation
import GRDB
import RestateProtocol

/// The journal's part for durable execution: each invocation's service-protocol entries
/// (commands and the notifications that completed them), kept in `journal_entry` and mirrored in
/// memory, and the invocations that handlers (calls, sends) and Restate's HTTP ingress start.
extension Journal {
    /// An invocation to start, as the journal keeps it: sent by a handler (a one-way call, or
    /// the callee of a call), or asked for through Restate's HTTP ingress.
    struct Send: Sendable {
        /// The id the handler was told (it asked for the call's invocation id); nil: a new one.
        var id: String?
        var service: String
        var handler: String
        /// The object or workflow key; nil for services.
        var key: String?
        var exclusive: Bool
        var headers: [(String, String)]
        var payload: [UInt8]
        /// Epoch milliseconds before which it must not start (a delayed send); nil: at once.
        var notBefore: Int64?
        /// For a request-response call: where the caller waits for the result.
        var callerCompletion: UInt32?
    }

    /// Fills the in-memory mirror with the entries of these (open) invocations.
    func loadEntries(of ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let entries = try await db.read { db in
            var entries: [String: [Frame]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT invocation, type, body FROM journal_entry
                WHERE invocation IN (SELECT id FROM invocation WHERE status NOT IN ('completed', 'failed')) ORDER BY invocation, idx
                """)
            let wanted = Set(ids)
            while let row = try rows.next() {
                let id: String = row["invocation"]
                guard wanted.contains(id) else { continue }
                entries[id, default: []].append(Frame(type: UInt16(truncatingIfNeeded: row["type"] as Int), body: [UInt8](row["body"] as Data)))
            }
            return entries
        }
        entryCache.withLock { $0.merge(entries) { _, loaded in loaded } }
    }

    // MARK: The service protocol journal

    /// The invocation's journal after its input; empty for most.
    func entries(of id: String) -> [Frame] {
        entryCache.withLock { $0[id] ?? [] }
    }

    /// Appends to the invocation's journal and, in the same transaction, journals the callees of
    /// the calls among the entries and records why the attempt ended open: suspended until
    /// `wakeUp` (nil: until woken), or pending. Returns the callees, to start.
    @discardableResult
    func append(_ entries: [Frame], to invocation: Invocation, status: InvocationStatus, attempts: Int, wakeUp: Int64? = nil,
                error: String? = nil, callees: [Send] = []) async throws -> [Invocation] {
        let id = invocation.id
        let started = live.withLock { live -> Int64? in
            live[id]?.running = false
            return live[id]?.startedAt
        }
        let now = Self.nowMs()
        let pin = pinToWrite(id, finished: false)
        let spawned = try await db.write { db in
            for entry in entries { try Self.insertEntry(entry, of: id, db) }
            try db.execute(sql: """
                UPDATE invocation SET status = ?, attempts = ?, error = COALESCE(?, error), not_before = ?, started_at = COALESCE(started_at, ?),
                    deployment = COALESCE(?, deployment), protocol_version = COALESCE(?, protocol_version)
                WHERE id = ?
                """, arguments: [status.rawValue, attempts, error, wakeUp, started, pin?.deploymentID, pin?.protocolVersion, id])
            return try callees.map { try Self.insert($0, sentBy: invocation, at: now, db) }
        }
        if !entries.isEmpty { entryCache.withLock { $0[id, default: []] += entries } }
        return spawned
    }

    /// Appends a notification to another invocation's journal (a promise it waits for was completed).
    func notify(_ id: String, _ notification: Frame) async throws {
        try await db.write { db in try Self.insertEntry(notification, of: id, db) }
        entryCache.withLock { $0[id, default: []].append(notification) }
    }

    /// At the end of the invocation's journal, whoever else appended meanwhile (a callee's result).
    static func insertEntry(_ entry: Frame, of id: String, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO journal_entry (invocation, idx, type, body)
            VALUES (?, (SELECT COALESCE(MAX(idx), -1) + 1 FROM journal_entry WHERE invocation = ?), ?, ?)
            """).execute(arguments: [id, id, Int(entry.type), Data(entry.body)])
    }

    /// Journals an invocation that came through Restate's HTTP ingress: no subscription (""),
    /// no Kafka record.
    func journalIngressInvocation(_ send: Send) async throws -> Invocation {
        let now = Self.nowMs()
        return try await db.write { db in
            let id = send.id ?? InvocationID.make(key: send.key)
            try db.cachedStatement(sql: """
                INSERT INTO invocation (id, subscription, service, handler, key, exclusive, headers, payload, topic, partition, "offset",
                                        status, created_at, not_before)
                VALUES (?, '', ?, ?, ?, ?, ?, ?, '', -1, -1, 'pending', ?, ?)
                """).execute(arguments: [id, send.service, send.handler, send.key, send.exclusive, Self.headersJSON(send.headers),
                                         Data(send.payload), now, send.notBefore])
            return Invocation(seq: db.lastInsertedRowID, id: id, subscriptionID: "", service: send.service, handler: send.handler,
                              key: send.key, exclusive: send.exclusive, headers: send.headers, payload: send.payload, attempts: 0,
                              topic: "", partition: -1, notBefore: send.notBefore)
        }
    }

    /// Journals an invocation a handler sent. It belongs to the sender's subscription but to no
    /// Kafka partition (topic "", partition and offset -1), so no partition revoke waits for it.
    static func insert(_ send: Send, sentBy parent: Invocation, at now: Int64, _ db: Database) throws -> Invocation {
        let id = send.id ?? InvocationID.make(key: send.key)
        try db.cachedStatement(sql: """
            INSERT INTO invocation (id, subscription, service, handler, key, exclusive, headers, payload, topic, partition, "offset",
                                    status, created_at, not_before, parent, caller_completion)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', -1, -1, 'pending', ?, ?, ?, ?)
            """).execute(arguments: [id, parent.subscriptionID, send.service, send.handler, send.key, send.exclusive, headersJSON(send.headers),
                                     Data(send.payload), now, send.notBefore, parent.id, send.callerCompletion.map { Int64($0) }])
        return Invocation(seq: db.lastInsertedRowID, id: id, subscriptionID: parent.subscriptionID, service: send.service, handler: send.handler,
                          key: send.key, exclusive: send.exclusive, headers: send.headers, payload: send.payload, attempts: 0,
                          topic: "", partition: -1, notBefore: send.notBefore,
                          caller: send.callerCompletion.map { Invocation.Caller(id: parent.id, completionID: $0) })
    }

    /// A workflow's run: its invocation id and, once it ended, its outcome (nil while it runs).
    func workflowRun(service: String, handler: String, key: String) async throws -> (id: String, outcome: CompletionResult?)? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, status, output, error FROM invocation WHERE service = ? AND key = ? AND handler = ? ORDER BY seq LIMIT 1
                """, arguments: [service, key, handler]) else { return nil }
            return (row["id"], Self.outcome(of: row))
        }
    }

    /// An invocation's outcome by id: nil when there is no such invocation, an empty outcome
    /// while it has not ended.
    func outcome(of id: String) async throws -> (id: String, outcome: CompletionResult?)? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, status, output, error FROM invocation WHERE id = ?", arguments: [id]) else { return nil }
            return (row["id"], Self.outcome(of: row))
        }
    }

    private static func outcome(of row: Row) -> CompletionResult? {
        switch InvocationStatus(rawValue: row["status"]) {
        case .completed?: .value([UInt8](row["output"] as Data? ?? Data()))
        case .failed?: .failure(failure(fromJournaled: row["error"] ?? ""))
        default: nil
        }
    }

    /// A terminal failure as `finish` journals it, "[code] message", read back.
    static func failure(fromJournaled text: String) -> InvocationFailure {
        guard text.hasPrefix("["), let close = text.firstIndex(of: "]"), let code = UInt32(text[text.index(after: text.startIndex)..<close]) else {
            return InvocationFailure(code: 500, message: text)
        }
        return InvocationFailure(code: code, message: String(text[text.index(after: close)...]).trimmingCharacters(in: .whitespaces))
    }

    /// Forgets a completed or failed invocation (`purge`), or only its journal (`purge-journal`).
    /// The dedup record of its Kafka record is kept apart and stays. False when the invocation is
    /// not final (or unknown).
    func purge(_ id: String, journalOnly: Bool) async throws -> Bool {
        let purged = try await db.write { db -> Bool in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM invocation WHERE id = ?", arguments: [id]),
                  InvocationStatus(rawValue: status)?.isFinal == true else { return false }
            try db.execute(sql: "DELETE FROM journal_entry WHERE invocation = ?", arguments: [id])
            if !journalOnly { try db.execute(sql: "DELETE FROM invocation WHERE id = ?", arguments: [id]) }
            return true
        }
        if purged { entryCache.withLock { _ = $0.removeValue(forKey: id) } }
        return purged
    }
}
