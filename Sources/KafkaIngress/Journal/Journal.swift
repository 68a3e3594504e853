import Foundation
import GRDB
import LiveResources
import PlantedDefects
import RdKafka
import RestateProtocol
import Synchronization

/// The ingress's durable state in one SQLite file: subscriptions, deployments, every invocation
/// (journaled before its record's offset is stored), deduplication high-water marks and the
/// state of virtual objects.
///
/// WAL with `synchronous = NORMAL`: a commit survives the process being killed (the OS holds the
/// pages), which is the failure the ingress promises to survive; a power loss may lose the last
/// commits, as it may for Kafka's own unflushed log.
final class Journal: Sendable {
    let db: DatabasePool
    let live = Mutex<[String: LiveAttempt]>([:])
    private let stateCache = Mutex<[String: [[UInt8]: [UInt8]]]>([:])
    /// The service protocol journal (entries after the input) of every open invocation that has
    /// one, mirrored from `journal_entry`: most invocations complete in one attempt and never
    /// have one, so the hot path must not ask the database.
    let entryCache = Mutex<[String: [Frame]]>([:])
    /// The deployment pins of open invocations (see `PinnedExecution`), mirrored from `invocation`.
    let pins = Mutex<[String: PinnedExecution]>([:])
    /// Workflows' durable promises, in the same database.
    let promises: PromiseStore
    private let completions: GroupCommit<Completion, [Invocation]>
    /// Open while the database is: a journal kept alive by a reference cycle shows up in the
    /// test suites' leak check instead of as descriptors of deleted files.
    private let registration: Registration
    /// Makes the `ingress_kafka` span of each invocation journaled from a record, when tracing.
    private let tracing: InvocationTracing?

    init(directory: String, tracing: InvocationTracing? = nil) throws {
        self.tracing = tracing
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.label = "ingress-journal"
        let db = try DatabasePool(path: directory + "/ingress.sqlite", configuration: configuration)
        registration = LiveResources.opened("ingress journal", directory + "/ingress.sqlite")
        try Self.migrator.migrate(db)
        self.db = db
        promises = try PromiseStore(db: db)
        completions = GroupCommit { batch in try await Self.write(batch, to: db) }
    }

    deinit {
        registration.close()
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE subscription (id TEXT PRIMARY KEY, body TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE deployment (id TEXT PRIMARY KEY, body TEXT NOT NULL, registered INTEGER NOT NULL);
                CREATE TABLE invocation (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    subscription TEXT NOT NULL,
                    service TEXT NOT NULL,
                    handler TEXT NOT NULL,
                    key TEXT,
                    exclusive INTEGER NOT NULL,
                    headers TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    "offset" INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    output BLOB,
                    error TEXT,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    completed_at INTEGER
                );
                CREATE INDEX invocation_by_subscription ON invocation (subscription, seq);
                CREATE INDEX invocation_open ON invocation (status) WHERE status NOT IN ('completed', 'failed');
                CREATE TABLE dedup (producer INTEGER PRIMARY KEY, high_water INTEGER NOT NULL);
                CREATE TABLE object_state (service TEXT NOT NULL, key TEXT NOT NULL, name BLOB NOT NULL, value BLOB NOT NULL,
                                           PRIMARY KEY (service, key, name));
                """)
        }
        m.registerMigration("v2: invocations by object key") { db in
            try db.execute(sql: "CREATE INDEX invocation_by_key ON invocation (service, key)")
        }
        m.registerMigration("v3: Kafka clusters registered through the admin API") { db in
            try db.execute(sql: "CREATE TABLE kafka_cluster (name TEXT PRIMARY KEY, properties TEXT NOT NULL, created_at INTEGER NOT NULL)")
        }
        m.registerMigration("v4: invocations sent by handlers (one-way calls), possibly delayed") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN not_before INTEGER")
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN parent TEXT")
        }
        m.registerMigration("v5: the service protocol journal of invocations that suspended or failed part-way") { db in
            try db.execute(sql: """
                CREATE TABLE journal_entry (invocation TEXT NOT NULL, idx INTEGER NOT NULL, type INTEGER NOT NULL, body BLOB NOT NULL,
                                            PRIMARY KEY (invocation, idx))
                """)
        }
        m.registerMigration("v6: callees of request-response calls (their caller is `parent`)") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN caller_completion INTEGER")
        }
        m.registerMigration("v7: workflows' durable promises") { db in
            try db.execute(sql: """
                CREATE TABLE workflow_promise (service TEXT NOT NULL, workflow TEXT NOT NULL, name TEXT NOT NULL, value BLOB,
                                               failure_code INTEGER, failure_message TEXT, PRIMARY KEY (service, workflow, name))
                """)
        }
        m.registerMigration("v8: deployment pins, restarts from a journal prefix, purged journals") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN deployment TEXT")
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN protocol_version INTEGER")
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN copied_entries INTEGER")
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN journal_purged INTEGER")
        }
        m.registerMigration("v9: the trace context of invocations from records (tracing-endpoint)") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN trace_parent TEXT")
        }
        return m
    }

    // MARK: Subscriptions and deployments

    func save(_ subscription: Subscription) async throws {
        let body = try Self.json(subscription)
        try await db.write { db in
            try db.execute(sql: "INSERT INTO subscription (id, body) VALUES (?, ?)", arguments: [subscription.id, body])
        }
    }

    func markDeleted(subscription id: String) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE subscription SET deleted = 1 WHERE id = ?", arguments: [id])
        }
    }

    /// Live subscriptions, oldest first.
    func subscriptions() async throws -> [Subscription] {
        try await db.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM subscription WHERE deleted = 0 ORDER BY rowid")
        }.map { try JSONDecoder().decode(Subscription.self, from: Data($0.utf8)) }
    }

    func save(_ deployment: Deployment) async throws {
        let body = try Self.json(deployment)
        let now = Self.nowMs()
        try await db.write { db in
            try db.execute(sql: "DELETE FROM deployment WHERE id = ?", arguments: [deployment.id])
            try db.execute(sql: "INSERT INTO deployment (id, body, registered) VALUES (?, ?, ?)", arguments: [deployment.id, body, now])
        }
    }

    func deleteDeployment(_ id: String) async throws {
        try await db.write { db in try db.execute(sql: "DELETE FROM deployment WHERE id = ?", arguments: [id]) }
    }

    /// Deployments in registration order.
    func deployments() async throws -> [Deployment] {
        try await db.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM deployment ORDER BY registered, rowid")
        }.map { try JSONDecoder().decode(Deployment.self, from: Data($0.utf8)) }
    }

    /// Kafka clusters registered through the admin API, oldest first.
    func kafkaClusters() async throws -> [RegisteredKafkaCluster] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT name, properties, created_at FROM kafka_cluster ORDER BY created_at, rowid").map { row in
                RegisteredKafkaCluster(name: row["name"], properties: try JSONDecoder().decode([String: String].self, from: Data((row["properties"] as String).utf8)),
                                       createdAt: row["created_at"])
            }
        }
    }

    func save(_ cluster: RegisteredKafkaCluster) async throws {
        let properties = try Self.json(cluster.properties)
        try await db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO kafka_cluster (name, properties, created_at) VALUES (?, ?, ?)",
                           arguments: [cluster.name, properties, cluster.createdAt])
        }
    }

    func deleteKafkaCluster(named name: String) async throws {
        try await db.write { db in try db.execute(sql: "DELETE FROM kafka_cluster WHERE name = ?", arguments: [name]) }
    }

    // MARK: Records in, invocations out


    /// What a journaled record is to become.
    struct Target: Sendable {
        var subscription: Subscription
        var exclusive: Bool
        /// Whether the record key is the object key (virtual objects and workflows).
        var keyed: Bool
        /// A workflow's run handler: the key is the workflow id, which runs once. As in Restate
        /// (where the id is derived from the key, so a second record makes the same invocation
        /// id), a later record with the same key attaches to the existing run instead of
        /// starting another: nothing new is invoked.
        var workflowRun = false
        /// Bugs planted for mutation testing (empty outside it), read at the seams of ingesting.
        var plantedDefects: Set<PlantedDefect> = []
        /// Planted `reorderAfterLateQueueSplit`, once tripped: a poll's invocations start last first.
        var dispatchesLastFirst = false
    }

    /// Journals the records of one poll in one transaction. A record at or below its producer's
    /// high-water mark was journaled before (a redelivery after a crash or rebalance) and is
    /// dropped, as is one for a workflow id that already ran. Returns the new invocations in
    /// record order.
    func append(_ records: [RdKafkaRecord], target: Target, keys: [String?]) async throws -> [Invocation] {
        let now = Self.nowMs()
        let sub = target.subscription
        // Parsed once per batch: these are computed from the subscription's URIs.
        let (service, handler, group) = (sub.service, sub.handler, sub.groupID)
        var producers: [String: Int64] = [:]
        let prepared: [(RdKafkaRecord, Int64, String?, [(String, String)], String)] = zip(records, keys).map { record, key in
            let headers = IngressHeaders.make(for: record, subscriptionID: sub.id, defects: target.plantedDefects)
            let source = "\(record.topic)/\(record.partition)"
            let producer = producers[source] ?? ProducerID.of(subscription: sub.id, group: group, topic: record.topic, partition: record.partition)
            producers[source] = producer
            return (record, producer,
                    key, headers, Self.headersJSON(headers))
        }
        return try await db.write { db in
            var out: [Invocation] = []
            var highWater: [Int64: Int64] = [:]
            let insert = try db.cachedStatement(sql: """
                INSERT INTO invocation (id, subscription, service, handler, key, exclusive, headers, payload, topic, partition, "offset", status, created_at,
                                        trace_parent)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                """)
            for (record, producer, key, headers, headersJSON) in prepared {
                if highWater[producer] == nil {
                    highWater[producer] = try Int64.fetchOne(db.cachedStatement(sql: "SELECT high_water FROM dedup WHERE producer = ?"), arguments: [producer]) ?? -1
                }
                guard record.offset > highWater[producer]! else { continue }
                highWater[producer] = record.offset
                if target.workflowRun, let key, try Self.workflowExists(db, service: service, handler: handler, key: key) { continue }
                let id = InvocationID.make(key: key)
                let payload = record.value ?? []
                let traceParent = tracing?.journaled(record, invocationID: id, key: key, target: target)
                try insert.execute(arguments: [id, sub.id, service, handler, key, target.exclusive, headersJSON, Data(payload),
                                               record.topic, record.partition, record.offset, now, traceParent])
                out.append(Invocation(seq: db.lastInsertedRowID, id: id, subscriptionID: sub.id, service: service, handler: handler,
                                      key: key, exclusive: target.exclusive, headers: headers, payload: payload, attempts: 0,
                                      topic: record.topic, partition: record.partition, traceParent: traceParent))
            }
            for (producer, mark) in highWater {
                try db.execute(sql: "INSERT INTO dedup (producer, high_water) VALUES (?, ?) ON CONFLICT(producer) DO UPDATE SET high_water = excluded.high_water WHERE excluded.high_water > high_water",
                               arguments: [producer, mark])
            }
            return out
        }
    }

    private static func workflowExists(_ db: Database, service: String, handler: String, key: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM invocation WHERE service = ? AND key = ? AND handler = ? LIMIT 1"),
                          arguments: [service, key, handler]) ?? false
    }

    /// Invocations not yet completed or failed (or just `id`), in journal order: what a restart
    /// resumes. Paused ones come back paused.
    func openInvocations(id: String? = nil) async throws -> [Invocation] {
        let invocations = try await db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, id, subscription, service, handler, key, exclusive, headers, payload, attempts, status, topic, partition, not_before,
                       parent, caller_completion, trace_parent
                FROM invocation WHERE status NOT IN ('completed', 'failed') \(id == nil ? "" : "AND id = ?") ORDER BY seq
                """, arguments: StatementArguments(id.map { [$0] } ?? []))
                .map { row in
                    let pairs = try JSONDecoder().decode([[String]].self, from: Data((row["headers"] as String).utf8))
                    let suspended = row["status"] == InvocationStatus.suspended.rawValue
                    var invocation = Invocation(seq: row["seq"], id: row["id"], subscriptionID: row["subscription"], service: row["service"],
                                      handler: row["handler"], key: row["key"], exclusive: row["exclusive"],
                                      headers: pairs.map { ($0[0], $0[1]) }, payload: [UInt8](row["payload"] as Data), attempts: row["attempts"],
                                      paused: row["status"] == InvocationStatus.paused.rawValue, topic: row["topic"], partition: row["partition"],
                                      traceParent: row["trace_parent"])
                    // One column, two meanings: a delayed send's start, or a suspended invocation's wake-up.
                    if suspended { invocation.suspendedUntil = row["not_before"] } else { invocation.notBefore = row["not_before"] }
                    if let completion: Int64 = row["caller_completion"], let caller: String = row["parent"] {
                        invocation.caller = Invocation.Caller(id: caller, completionID: UInt32(truncatingIfNeeded: completion))
                    }
                    return invocation
                }
        }
        try await loadEntries(of: invocations.map(\.id))
        try await loadPins(of: invocations.map(\.id))
        return invocations
    }

    // MARK: Attempts

    /// An object's state: from the cache, else from the database (then cached). Only this
    /// journal writes state, always through `finish`, so the cache cannot go stale.
    func objectState(service: String, key: String) async throws -> [[UInt8]: [UInt8]] {
        let cacheKey = service + "\u{0}" + key
        if let cached = stateCache.withLock({ $0[cacheKey] }) { return cached }
        let state = try await db.read { db in
            var state: [[UInt8]: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM object_state WHERE service = ? AND key = ?", arguments: [service, key]) {
                state[[UInt8](row["name"] as Data)] = [UInt8](row["value"] as Data)
            }
            return state
        }
        // A finish may have cached a newer state meanwhile: that one wins.
        return stateCache.withLock { cache in
            if let newer = cache[cacheKey] { return newer }
            cache[cacheKey] = state
            return state
        }
    }

    /// Running is not journaled (a restart makes every open invocation pending again); the
    /// admin API learns it from here.
    func markStarted(_ id: String, attempt: Int) {
        let now = Self.nowMs()
        live.withLock { live in
            let firstStart = live[id]?.startedAt ?? now
            live[id] = LiveAttempt(attempt: attempt, startedAt: firstStart, running: true)
        }
    }

    func markRetrying(_ id: String, attempts: Int, error: String) async throws {
        try await markOpen(id, status: .retrying, attempts: attempts, error: error)
    }

    func markPaused(_ id: String, attempts: Int, error: String) async throws {
        try await markOpen(id, status: .paused, attempts: attempts, error: error)
        live.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// A paused invocation to be attempted again (its attempt count starts over, as Restate's
    /// resume does); nil when `id` is not paused.
    func resume(_ id: String) async throws -> Invocation? {
        let changed = try await db.write { db in
            try db.execute(sql: "UPDATE invocation SET status = 'retrying', attempts = 0 WHERE id = ? AND status = 'paused'", arguments: [id])
            return db.changesCount
        }
        guard changed == 1 else { return nil }
        return try await openInvocations(id: id).first
    }

    /// Whether an attempt of the invocation runs now (running is not journaled).
    func isRunning(_ id: String) -> Bool {
        live.withLock { $0[id]?.running ?? false }
    }

    /// The journaled status of an invocation (running is not journaled); nil when unknown.
    func status(of id: String) async throws -> InvocationStatus? {
        try await db.read { db in
            try String.fetchOne(db, sql: "SELECT status FROM invocation WHERE id = ?", arguments: [id]).flatMap(InvocationStatus.init(rawValue:))
        }
    }

    private func markOpen(_ id: String, status: InvocationStatus, attempts: Int, error: String) async throws {
        let started = live.withLock { live -> Int64? in
            live[id]?.running = false
            return live[id]?.startedAt
        }
        try await db.write { db in
            try db.execute(sql: "UPDATE invocation SET status = ?, attempts = ?, error = ?, started_at = COALESCE(started_at, ?) WHERE id = ?",
                           arguments: [status.rawValue, attempts, error, started, id])
        }
    }

    /// Records the end of an invocation and, in the same transaction, its state changes and the
    /// invocations it sent (so each is started exactly once: with the outcome, or not at all).
    /// Concurrent calls are committed together (group commit); each returns once its own
    /// change is durable, with the sent invocations as journaled.
    @discardableResult
    func finish(_ invocation: Invocation, status: InvocationStatus, attempts: Int, output: [UInt8]?, error: String?,
                mutations: [StateChange], sends: [Send] = [], callerNotification: Frame? = nil) async throws -> [Invocation] {
        let started = live.withLock { $0.removeValue(forKey: invocation.id)?.startedAt }
        let op = Completion(invocation: invocation, status: status, attempts: attempts, startedAt: started, completedAt: Self.nowMs(),
                            output: output, error: error, mutations: mutations, sends: sends, callerNotification: callerNotification,
                            pin: pinToWrite(invocation.id, finished: true))
        let sent = try await completions.submit(op)
        entryCache.withLock { cache in
            cache.removeValue(forKey: invocation.id)
            if let caller = invocation.caller, let callerNotification { cache[caller.id, default: []].append(callerNotification) }
        }
        if let key = invocation.key, !mutations.isEmpty {
            let cacheKey = invocation.service + "\u{0}" + key
            stateCache.withLock { cache in
                guard var state = cache[cacheKey] else { return }
                for change in mutations {
                    switch change {
                    case .set(let name, let value): state[name] = value
                    case .clear(let name): state[name] = nil
                    case .clearAll: state = [:]
                    }
                }
                cache[cacheKey] = state
            }
        }
        return sent
    }

    /// Writes a batch of completions in one transaction; returns each one's sent invocations.
    private static func write(_ batch: [Completion], to db: DatabasePool) async throws -> [[Invocation]] {
        try await db.write { db in
            var sentPerCompletion: [[Invocation]] = []
            for op in batch {
                let invocation = op.invocation
                if let key = invocation.key {
                    for change in op.mutations {
                        switch change {
                        case .set(let name, let value):
                            try db.execute(sql: "INSERT OR REPLACE INTO object_state (service, key, name, value) VALUES (?, ?, ?, ?)",
                                           arguments: [invocation.service, key, Data(name), Data(value)])
                        case .clear(let name):
                            try db.execute(sql: "DELETE FROM object_state WHERE service = ? AND key = ? AND name = ?",
                                           arguments: [invocation.service, key, Data(name)])
                        case .clearAll:
                            try db.execute(sql: "DELETE FROM object_state WHERE service = ? AND key = ?", arguments: [invocation.service, key])
                        }
                    }
                }
                try db.cachedStatement(sql: """
                    UPDATE invocation SET status = ?, attempts = ?, output = ?, error = COALESCE(?, error),
                        started_at = COALESCE(started_at, ?), completed_at = ?,
                        deployment = COALESCE(?, deployment), protocol_version = COALESCE(?, protocol_version) WHERE id = ?
                    """).execute(arguments: [op.status.rawValue, op.attempts, op.output.map { Data($0) }, op.error, op.startedAt, op.completedAt,
                                             op.pin?.deploymentID, op.pin?.protocolVersion, invocation.id])
                // A callee's outcome goes into its caller's journal with it.
                if let caller = invocation.caller, let notification = op.callerNotification { try insertEntry(notification, of: caller.id, db) }
                sentPerCompletion.append(try op.sends.map { try insert($0, sentBy: invocation, at: op.completedAt, db) })
            }
            return sentPerCompletion
        }
    }

    // MARK: Reading for the admin API

    func invocations(subscription: String?) async throws -> [InvocationView] {
        let live = self.live.withLock { $0 }
        return try await db.read { db in
            let sql = "SELECT * FROM invocation" + (subscription == nil ? "" : " WHERE subscription = ?") + " ORDER BY seq"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(subscription.map { [$0] } ?? [])).map { row in
                let pairs = try JSONDecoder().decode([[String]].self, from: Data((row["headers"] as String).utf8))
                let output = (row["output"] as Data?).map { JSONValue(parsingOrString: [UInt8]($0)) }
                var view = InvocationView(
                    id: row["id"], subscription: row["subscription"], target: "\(row["service"] as String)/\(row["handler"] as String)",
                    key: row["key"], status: InvocationStatus(rawValue: row["status"]) ?? .pending, attempts: row["attempts"],
                    headers: Dictionary(pairs.map { ($0[0], $0[1]) }, uniquingKeysWith: { _, last in last }),
                    output: output, error: row["error"], topic: row["topic"], partition: row["partition"], offset: row["offset"],
                    createdAt: row["created_at"], startedAt: row["started_at"], completedAt: row["completed_at"])
                if let attempt = live[view.id] {
                    view.attempts = attempt.attempt
                    view.startedAt = view.startedAt ?? attempt.startedAt
                    if attempt.running { view.status = .running }
                }
                return view
            }
        }
    }

    // MARK: Helpers

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Headers as a JSON array of [name, value] pairs (order kept), written by hand: this runs
    /// for every record, and JSONEncoder costs more than the rest of journaling.
    static func headersJSON(_ headers: [(String, String)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "["))
        for (i, (name, value)) in headers.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            appendJSONString(name, to: &out)
            out.append(UInt8(ascii: ","))
            appendJSONString(value, to: &out)
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string literal, escaping quotes, backslashes and control characters (UTF-8 bytes
    /// of other characters pass through).
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        let hex = hexDigits
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A state change a handler made, to apply when its invocation completes.
enum StateChange: Sendable, Equatable {
    case set([UInt8], [UInt8])
    case clear([UInt8])
    case clearAll
}

/// An attempt in progress, kept in memory only.
struct LiveAttempt: Sendable {
    var attempt: Int
    var startedAt: Int64
    var running: Bool
}

/// A finished invocation waiting to be written.
struct Completion: Sendable {
    var invocation: Invocation
    var status: InvocationStatus
    var attempts: Int
    var startedAt: Int64?
    var completedAt: Int64
    var output: [UInt8]?
    var error: String?
    var mutations: [StateChange]
    var sends: [Journal.Send]
    /// A callee's outcome, for its caller's journal.
    var callerNotification: Frame?
    /// The deployment the invocation was pinned to.
    var pin: PinnedExecution?
}

