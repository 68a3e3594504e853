import Synchronization

/// What this process holds open that its user must close: librdkafka clients, FakeKafka clusters,
/// ingress instances, HTTP servers, child processes.
///
/// Each is registered when it opens and unregistered once it is fully closed (threads joined,
/// sockets closed), tagged with the `owner` current when it opened. Tests run side by side in
/// one process, so counting descriptors cannot say whose they are; the owner tag can, and lets a
/// test suite check that it closed everything it opened.
public enum LiveResources {
    /// Who opened a resource: a test and the suite it belongs to.
    public struct Owner: Sendable, Hashable, CustomStringConvertible {
        /// Identifies the suite (stable and unique); `suiteName` is for people.
        public var suiteID: String
        public var suiteName: String
        public var test: String

        public init(suiteID: String, suiteName: String, test: String) {
            self.suiteID = suiteID
            self.suiteName = suiteName
            self.test = test
        }

        public var description: String { "test \"\(test)\" of suite \"\(suiteName)\"" }
    }

    /// One open resource.
    public struct Entry: Sendable, CustomStringConvertible {
        public let id: UInt64
        /// What it is, e.g. "librdkafka consumer".
        public let kind: String
        /// Which one, e.g. its client name or address.
        public let name: String
        public let owner: Owner?

        public var description: String { "\(kind) \(name)" + (owner.map { ", opened by \($0)" } ?? "") }
    }

    /// The owner resources opened in this task (and the tasks it starts) are tagged with.
    @TaskLocal public static var owner: Owner?

    private static let state = Mutex<(next: UInt64, open: [UInt64: Entry])>((1, [:]))

    /// Registers a resource as open; call `close()` on the result once it is fully closed.
    public static func opened(_ kind: String, _ name: String) -> Registration {
        let owner = self.owner
        let id = state.withLock { state in
            let id = state.next
            state.next += 1
            state.open[id] = Entry(id: id, kind: kind, name: name, owner: owner)
            return id
        }
        return Registration(id: id)
    }

    /// Everything open now, oldest first; only what `suiteID` owns when given.
    public static func open(ownedBySuite suiteID: String? = nil) -> [Entry] {
        state.withLock { state in
            state.open.values.filter { suiteID == nil || $0.owner?.suiteID == suiteID }.sorted { $0.id < $1.id }
        }
    }

    fileprivate static func close(_ id: UInt64) {
        _ = state.withLock { $0.open.removeValue(forKey: id) }
    }
}

/// An open resource's entry in `LiveResources`; closing it twice is harmless.
public final class Registration: Sendable {
    let id: UInt64

    init(id: UInt64) {
        self.id = id
    }

    public func close() {
        LiveResources.close(id)
    }
}
