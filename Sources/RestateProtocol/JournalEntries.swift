/// What an invocation's journal keeps between attempts, and the notifications the runtime adds
/// to it, so that a handler that suspended in request-response mode resumes by replay: the next
/// attempt carries every entry, and the SDK matches its code against them instead of running it
/// again (a `ctx.run` side effect is not redone, a sleep is not slept twice).
public enum JournalEntries {
    /// The entries one attempt's response adds: the commands the handler sent (all but its
    /// output), each followed by the notifications the runtime can give at once: a proposed
    /// `ctx.run` result becomes its completion, and a one-way call's invocation id is known.
    /// `invocationID` names the invocation a one-way call will start.
    public static func added(byResponse body: [UInt8], invocationID: (OneWayCall) -> String) throws -> [Frame] {
        var entries: [Frame] = []
        for frame in try Frame.decodeAll(body) {
            switch MessageType(rawValue: frame.type) {
            case .outputCommand, .end, .suspension, .error:
                continue
            case .proposeRunCompletion:
                entries.append(try runCompletion(proposal: frame.body))
            case .oneWayCallCommand:
                entries.append(frame)
                if let index = try ProtobufReader.last(10, in: frame.body)?.uint, index > 0 {
                    var w = ProtobufWriter()
                    w.uint(1, index)
                    w.string(16, invocationID(try OneWayCall(decoding: frame.body)))
                    entries.append(Frame(.callInvocationIdCompletionNotification, body: w.bytes))
                }
            default:
                // Commands (0x0400…): what the response decoding accepted is journaled as sent.
                if frame.type & 0xFC00 == 0x0400 { entries.append(frame) }
            }
        }
        return entries
    }

    /// A sleep the journal waits for: its completion id and wake-up time (epoch milliseconds).
    public struct PendingSleep: Sendable, Equatable {
        public var completionID: UInt32
        public var wakeUpTimeMs: UInt64
    }

    /// Sleeps whose completion the journal does not hold yet.
    public static func pendingSleeps(in journal: [Frame]) throws -> [PendingSleep] {
        var completed: Set<UInt32> = []
        var sleeps: [PendingSleep] = []
        for frame in journal {
            switch MessageType(rawValue: frame.type) {
            case .sleepCommand:
                var sleep = PendingSleep(completionID: 0, wakeUpTimeMs: 0)
                var r = ProtobufReader(frame.body)
                while let (field, value) = try r.next() {
                    if field == 1 { sleep.wakeUpTimeMs = value.uint }
                    if field == 11 { sleep.completionID = UInt32(truncatingIfNeeded: value.uint) }
                }
                sleeps.append(sleep)
            case .sleepCompletionNotification:
                if let id = try ProtobufReader.last(1, in: frame.body)?.uint { completed.insert(UInt32(truncatingIfNeeded: id)) }
            default:
                continue
            }
        }
        return sleeps.filter { !completed.contains($0.completionID) }
    }

    /// The notification that a sleep is over.
    public static func sleepCompletion(_ completionID: UInt32) -> Frame {
        var w = ProtobufWriter()
        w.uint(1, UInt64(completionID))
        w.message(4) { _ in }  // Void
        return Frame(.sleepCompletionNotification, body: w.bytes)
    }

    /// The one-way calls in a journal, in order, each with the invocation id its notification
    /// announced (nil when the handler did not ask for it).
    public static func sends(in journal: [Frame]) throws -> [(call: OneWayCall, invocationID: String?)] {
        var ids: [UInt64: String] = [:]
        for frame in journal where frame.type == MessageType.callInvocationIdCompletionNotification.rawValue {
            if let index = try ProtobufReader.last(1, in: frame.body)?.uint { ids[index] = try ProtobufReader.last(16, in: frame.body)?.string }
        }
        return try journal.filter { $0.type == MessageType.oneWayCallCommand.rawValue }.map { frame in
            let index = try ProtobufReader.last(10, in: frame.body)?.uint ?? 0
            return (try OneWayCall(decoding: frame.body), index > 0 ? ids[index] : nil)
        }
    }

    /// The state changes a journal's commands made, in order.
    public static func stateMutations(in journal: [Frame]) throws -> [StateMutation] {
        try InvocationResponse(decoding: journal.filter { [0x0403, 0x0404, 0x0405].contains($0.type) }.flatMap { $0.encoded() }).stateMutations
    }

    /// ProposeRunCompletion (value 14 or failure 15) as RunCompletionNotification (value 5 or failure 6).
    private static func runCompletion(proposal body: [UInt8]) throws -> Frame {
        var w = ProtobufWriter()
        var r = ProtobufReader(body)
        while let (field, value) = try r.next() {
            switch field {
            case 1: w.uint(1, value.uint)
            case 14: w.message(5) { $0.bytes(1, value.bytes, always: true) }
            case 15: w.bytes(6, value.bytes, always: true)
            default: continue
            }
        }
        return Frame(.runCompletionNotification, body: w.bytes)
    }
}
