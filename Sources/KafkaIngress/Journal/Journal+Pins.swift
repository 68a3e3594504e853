import Foundation
import GRDB
import RestateProtocol

/// What later attempts of an invocation must keep, as Restate keeps an invocation's
/// `pinned_deployment`: the deployment and protocol version of the first attempt that journaled
/// something; and, for an invocation restarted from a journal prefix, how many of its entries are
/// copies whose effects were applied already.
struct PinnedExecution: Sendable, Equatable {
    var deploymentID: String?
    var protocolVersion: Int?
    /// Leading journal entries copied from the restarted invocation.
    var copiedEntries = 0
}

extension Journal {
    /// The pin of an open invocation (loaded with it, or set by its attempts); nil when none.
    func pinned(_ id: String) -> PinnedExecution? {
        pins.withLock { $0[id] }
    }

    /// Pins an attempt's deployment unless the invocation has one: it becomes durable with the
    /// attempt's journal writes (`append`, `finish`).
    func pinIfUnpinned(_ id: String, deploymentID: String, protocolVersion: Int) {
        pins.withLock { pins in
            guard pins[id]?.deploymentID == nil else { return }
            pins[id, default: PinnedExecution()].deploymentID = deploymentID
            pins[id, default: PinnedExecution()].protocolVersion = protocolVersion
        }
    }

    /// The pin to write with an attempt's journal writes, and for a finished invocation the last
    /// time it is needed here.
    func pinToWrite(_ id: String, finished: Bool) -> PinnedExecution? {
        pins.withLock { finished ? $0.removeValue(forKey: id) : $0[id] }
    }

    /// Fills the pins of these (open) invocations from the database.
    func loadPins(of ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let loaded = try await db.read { db in
            var loaded: [String: PinnedExecution] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT id, deployment, protocol_version, copied_entries FROM invocation
                    WHERE id IN (\(chunk.map { _ in "?" }.joined(separator: ","))) AND (deployment IS NOT NULL OR copied_entries IS NOT NULL)
                    """, arguments: StatementArguments(chunk))
                for row in rows {
                    loaded[row["id"]] = PinnedExecution(deploymentID: row["deployment"], protocolVersion: row["protocol_version"],
                                                        copiedEntries: row["copied_entries"] ?? 0)
                }
            }
            return loaded
        }
        pins.withLock { $0.merge(loaded) { _, stored in stored } }
    }

    /// Moves an open invocation to another deployment (resume with `deployment`), keeping the
    /// protocol version it started with.
    func repin(_ id: String, to deploymentID: String) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE invocation SET deployment = ? WHERE id = ?", arguments: [deploymentID, id])
        }
        pins.withLock { $0[id, default: PinnedExecution()].deploymentID = deploymentID }
    }

    /// What restart-as-new (and a resume choosing a deployment) needs of an invocation.
    struct StoredInvocation: Sendable {
        var invocation: Invocation
        var pin: PinnedExecution
        /// Its journal after the input, as kept; nil when it was purged.
        var entries: [Frame]?
    }

    func storedInvocation(_ id: String) async throws -> StoredInvocation? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT seq, id, service, handler, key, exclusive, headers, payload, deployment, protocol_version, copied_entries,
                       journal_purged
                FROM invocation WHERE id = ?
                """, arguments: [id]) else { return nil }
            let pairs = try JSONDecoder().decode([[String]].self, from: Data((row["headers"] as String).utf8))
            let invocation = Invocation(seq: row["seq"], id: row["id"], subscriptionID: "", service: row["service"], handler: row["handler"],
                                        key: row["key"], exclusive: row["exclusive"], headers: pairs.map { ($0[0], $0[1]) },
                                        payload: [UInt8](row["payload"] as Data), attempts: 0, topic: "", partition: -1)
            let pin = PinnedExecution(deploymentID: row["deployment"], protocolVersion: row["protocol_version"],
                                      copiedEntries: row["copied_entries"] ?? 0)
            let purged = (row["journal_purged"] as Int?) == 1
            let entries = purged ? nil : try Row.fetchAll(db, sql: "SELECT type, body FROM journal_entry WHERE invocation = ? ORDER BY idx", arguments: [id])
                .map { Frame(type: UInt16(truncatingIfNeeded: $0["type"] as Int), body: [UInt8]($0["body"] as Data)) }
            return StoredInvocation(invocation: invocation, pin: pin, entries: entries)
        }
    }

    /// Remembers that an ended invocation's journal, input included, is gone (`purge-journal`).
    func markJournalPurged(_ id: String) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE invocation SET journal_purged = 1 WHERE id = ?", arguments: [id])
        }
    }

    /// Journals the new invocation of a restart-as-new: the old one's target, headers and input,
    /// the copied journal prefix and the pin; outside any subscription, as an invocation of
    /// Restate's HTTP ingress is.
    func journalRestart(of ended: Invocation, as id: String, entries: [Frame], pin: PinnedExecution) async throws -> Invocation {
        let now = Self.nowMs()
        let invocation = try await db.write { db in
            try db.execute(sql: """
                INSERT INTO invocation (id, subscription, service, handler, key, exclusive, headers, payload, topic, partition, "offset",
                                        status, created_at, deployment, protocol_version, copied_entries)
                VALUES (?, '', ?, ?, ?, ?, ?, ?, '', -1, -1, 'pending', ?, ?, ?, ?)
                """, arguments: [id, ended.service, ended.handler, ended.key, ended.exclusive, Self.headersJSON(ended.headers),
                                 Data(ended.payload), now, pin.deploymentID, pin.protocolVersion, pin.copiedEntries])
            let seq = db.lastInsertedRowID
            for entry in entries { try Self.insertEntry(entry, of: id, db) }
            return Invocation(seq: seq, id: id, subscriptionID: "", service: ended.service, handler: ended.handler, key: ended.key,
                              exclusive: ended.exclusive, headers: ended.headers, payload: ended.payload, attempts: 0, topic: "", partition: -1)
        }
        if pin != PinnedExecution() { pins.withLock { $0[id] = pin } }
        if !entries.isEmpty { entryCache.withLock { $0[id] = entries } }
        return invocation
    }
}
