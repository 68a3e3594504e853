/// A handler reading another invocation's outcome: `AttachInvocationCommand` (wait for it to
/// end) and `GetInvocationOutputCommand` (its outcome now, or nothing if it has not ended).
public struct InvocationRead: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case attach, output
    }

    /// Which invocation: by id, by the idempotent request that made it, or a workflow's run.
    public enum Target: Sendable, Equatable {
        case id(String)
        case idempotentRequest(service: String, key: String?, handler: String, idempotencyKey: String)
        case workflow(name: String, key: String)
    }

    public var kind: Kind
    public var target: Target
    public var completionID: UInt32

    init?(_ frame: Frame) throws {
        switch MessageType(rawValue: frame.type) {
        case .attachInvocationCommand?: kind = .attach
        case .getInvocationOutputCommand?: kind = .output
        default: return nil
        }
        target = .id("")
        completionID = 0
        var r = ProtobufReader(frame.body)
        while let (field, value) = try r.next() {
            switch field {
            case 1: target = .id(value.string)
            case 3:
                var service = "", key: String?, handler = "", idempotencyKey = ""
                var t = ProtobufReader(value.bytes)
                while let (f, v) = try t.next() {
                    switch f {
                    case 1: service = v.string
                    case 2: key = v.string
                    case 3: handler = v.string
                    case 4: idempotencyKey = v.string
                    default: continue
                    }
                }
                target = .idempotentRequest(service: service, key: key, handler: handler, idempotencyKey: idempotencyKey)
            case 4:
                let (name, key) = try ProtobufReader.stringPair(in: value.bytes)
                target = .workflow(name: name, key: key)
            case 11: completionID = UInt32(truncatingIfNeeded: value.uint)
            default: continue
            }
        }
    }

    /// Restate's answer for a target that names no invocation.
    public static let notFound = InvocationFailure(code: 404, message: "not found")

    /// The completion: the target's outcome; for `output` of an invocation still running, Void.
    public func completion(_ outcome: CompletionResult?) -> Frame {
        var w = ProtobufWriter()
        w.uint(1, UInt64(completionID))
        if let outcome { w.result(outcome) } else { w.message(4) { _ in } }
        return Frame(kind == .attach ? .attachInvocationCompletionNotification : .getInvocationOutputCompletionNotification, body: w.bytes)
    }
}

extension JournalEntries {
    /// The reads of other invocations among these entries, in order.
    public static func invocationReads(in entries: [Frame]) throws -> [InvocationRead] {
        try entries.compactMap { try InvocationRead($0) }
    }

    /// Attaches whose completion the journal does not hold yet (outputs are answered at once).
    public static func pendingAttaches(in journal: [Frame]) throws -> [InvocationRead] {
        let completed = try completionIDs(of: .attachInvocationCompletionNotification, in: journal)
        return try invocationReads(in: journal).filter { $0.kind == .attach && !completed.contains($0.completionID) }
    }
}
