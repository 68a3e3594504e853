import Foundation

/// What an invocation's journal keeps between attempts, and the notifications the runtime adds
/// to it, so that a handler that suspended in request-response mode resumes by replay: the next
/// attempt carries every entry, and the SDK matches its code against them instead of running it
/// again (a `ctx.run` side effect is not redone, a sleep is not slept twice).
public enum JournalEntries {
    /// The entries one attempt's response adds: the commands the handler sent (all but its
    /// output), each followed by the notifications the runtime can give at once: a proposed
    /// `ctx.run` result becomes its completion, and a one-way call's invocation id is known.
    /// `invocationID` names the invocation a call (one-way or not) will start.
    public static func added(byResponse body: [UInt8], invocationID: (_ service: String, _ handler: String, _ key: String) -> String) throws -> [Frame] {
        var entries: [Frame] = []
        for frame in try Frame.decodeAll(body) {
            switch MessageType(rawValue: frame.type) {
            case .outputCommand, .end, .suspension, .error:
                continue
            case .proposeRunCompletion:
                entries.append(try runCompletion(proposal: frame.body))
            case .oneWayCallCommand:
                entries.append(frame)
                let call = try OneWayCall(decoding: frame.body)
                if let index = try ProtobufReader.last(10, in: frame.body)?.uint, index > 0 {
                    entries.append(invocationIDNotification(index, invocationID(call.service, call.handler, call.key)))
                }
            case .callCommand:
                // The callee starts as the call is journaled, so its id is known at once.
                entries.append(frame)
                let call = try Call(decoding: frame.body)
                entries.append(invocationIDNotification(UInt64(call.invocationIDNotification), invocationID(call.service, call.handler, call.key)))
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
        let completed = try completionIDs(of: .sleepCompletionNotification, in: journal)
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
        let ids = try announcedInvocationIDs(in: journal)
        return try journal.filter { $0.type == MessageType.oneWayCallCommand.rawValue }.map { frame in
            let index = try ProtobufReader.last(10, in: frame.body)?.uint ?? 0
            return (try OneWayCall(decoding: frame.body), index > 0 ? ids[index] : nil)
        }
    }

    /// A request-response call a handler made (`ctx.service_call`, `object_call`, `generic_call`).
    public struct Call: Sendable, Equatable {
        public var service = ""
        public var handler = ""
        public var parameter: [UInt8] = []
        public var headers: [Header] = []
        /// The object or workflow key; empty for services.
        public var key = ""
        /// Where the callee's id and result are announced.
        public var invocationIDNotification: UInt32 = 0
        public var resultCompletionID: UInt32 = 0

        public struct Header: Sendable, Equatable {
            public var name: String
            public var value: String
        }

        init(decoding body: [UInt8]) throws {
            var r = ProtobufReader(body)
            while let (field, value) = try r.next() {
                switch field {
                case 1: service = value.string
                case 2: handler = value.string
                case 3: parameter = value.bytes
                case 4:
                    let (name, headerValue) = try ProtobufReader.stringPair(in: value.bytes)
                    headers.append(Header(name: name, value: headerValue))
                case 5: key = value.string
                case 10: invocationIDNotification = UInt32(truncatingIfNeeded: value.uint)
                case 11: resultCompletionID = UInt32(truncatingIfNeeded: value.uint)
                default: continue
                }
            }
        }
    }

    /// Request-response calls in these entries, each with its callee's announced id.
    public static func calls(in entries: [Frame]) throws -> [(call: Call, invocationID: String)] {
        let ids = try announcedInvocationIDs(in: entries)
        return try entries.filter { $0.type == MessageType.callCommand.rawValue }.compactMap { frame in
            let call = try Call(decoding: frame.body)
            return ids[UInt64(call.invocationIDNotification)].map { (call, $0) }
        }
    }

    /// Calls whose result the journal does not hold yet.
    public static func pendingCalls(in journal: [Frame]) throws -> [Call] {
        let completed = try completionIDs(of: .callCompletionNotification, in: journal)
        return try journal.filter { $0.type == MessageType.callCommand.rawValue }.map { try Call(decoding: $0.body) }
            .filter { !completed.contains($0.resultCompletionID) }
    }

    /// The completion ids that notifications of this type in the journal complete.
    static func completionIDs(of type: MessageType, in journal: [Frame]) throws -> Set<UInt32> {
        try Set(journal.filter { $0.type == type.rawValue }.compactMap { frame in
            try ProtobufReader.last(1, in: frame.body).map { UInt32(truncatingIfNeeded: $0.uint) }
        })
    }

    /// A callee's outcome for its caller: its output, or its terminal failure.
    public static func callCompletion(_ completionID: UInt32, _ result: CompletionResult) -> Frame {
        var w = ProtobufWriter()
        w.uint(1, UInt64(completionID))
        w.result(result)
        return Frame(.callCompletionNotification, body: w.bytes)
    }

    private static func invocationIDNotification(_ index: UInt64, _ id: String) -> Frame {
        var w = ProtobufWriter()
        w.uint(1, index)
        w.string(16, id)
        return Frame(.callInvocationIdCompletionNotification, body: w.bytes)
    }

    private static func announcedInvocationIDs(in entries: [Frame]) throws -> [UInt64: String] {
        var ids: [UInt64: String] = [:]
        for frame in entries where frame.type == MessageType.callInvocationIdCompletionNotification.rawValue {
            if let index = try ProtobufReader.last(1, in: frame.body)?.uint { ids[index] = try ProtobufReader.last(16, in: frame.body)?.string }
        }
        return ids
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

/// How something completed: with a value, or with a failure. An invocation's outcome, a call's
/// result, a durable promise's, an awakeable's or a signal's.
public enum CompletionResult: Sendable, Equatable {
    case value([UInt8])
    case failure(InvocationFailure)
}

extension JournalEntries {
    /// A durable-promise command of a workflow handler (`ctx.promise(name).value()`, `.peek()`,
    /// `.resolve()`/`.reject()`).
    public struct PromiseCommand: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case get, peek
            case complete(CompletionResult)
        }

        public var kind: Kind
        public var name: String
        public var completionID: UInt32
    }

    /// The promise commands among these entries, in order.
    public static func promiseCommands(in entries: [Frame]) throws -> [PromiseCommand] {
        try entries.compactMap { frame -> PromiseCommand? in
            guard [0x0409, 0x040A, 0x040B].contains(frame.type) else { return nil }
            var name = "", completionID: UInt32 = 0
            var completion: CompletionResult?
            var r = ProtobufReader(frame.body)
            while let (field, value) = try r.next() {
                switch field {
                case 1: name = value.string
                case 2: completion = .value(try ProtobufReader.last(1, in: value.bytes)?.bytes ?? [])
                case 3: completion = .failure(try InvocationFailure(decoding: value.bytes))
                case 11: completionID = UInt32(truncatingIfNeeded: value.uint)
                default: continue
                }
            }
            let kind: PromiseCommand.Kind
            switch frame.type {
            case 0x0409: kind = .get
            case 0x040A: kind = .peek
            default: kind = .complete(completion ?? .value([]))
            }
            return PromiseCommand(kind: kind, name: name, completionID: completionID)
        }
    }

    /// Promise reads (`get`) whose completion the journal does not hold yet.
    public static func pendingPromiseGets(in journal: [Frame]) throws -> [PromiseCommand] {
        let completed = try completionIDs(of: .getPromiseCompletionNotification, in: journal)
        return try promiseCommands(in: journal).filter { $0.kind == .get && !completed.contains($0.completionID) }
    }

    /// The completion of a promise command: for `get` the promise's result; for `peek` the
    /// result or nothing yet (Void); for `complete`, Void when it completed the promise or
    /// Restate's 409 "promise was already completed".
    public static func promiseNotification(for command: PromiseCommand, result: CompletionResult?, completedByThis: Bool = false) -> Frame {
        var w = ProtobufWriter()
        w.uint(1, UInt64(command.completionID))
        switch command.kind {
        case .get:
            w.result(result ?? .value([]))
            return Frame(.getPromiseCompletionNotification, body: w.bytes)
        case .peek:
            if let result { w.result(result) } else { w.message(4) { _ in } }
            return Frame(.peekPromiseCompletionNotification, body: w.bytes)
        case .complete:
            if completedByThis { w.message(4) { _ in } } else { w.result(.failure(InvocationFailure(code: 409, message: "promise was already completed"))) }
            return Frame(.completePromiseCompletionNotification, body: w.bytes)
        }
    }

}

extension JournalEntries {
    /// Awakeable ids as the SDKs make them (protocol 4 and later): `sign_1`, then URL-safe
    /// base64 of the invocation id's bytes followed by the signal index (u32, big-endian).
    public static func awakeableTarget(_ awakeableID: String) -> (invocationID: [UInt8], signal: UInt32)? {
        guard awakeableID.hasPrefix("sign_1") else { return nil }
        var text = String(awakeableID.dropFirst("sign_1".count)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), data.count > 4 else { return nil }
        let bytes = [UInt8](data)
        let signal = bytes.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (Array(bytes.dropLast(4)), signal)
    }

    /// Where an awakeable's completion goes: the invocation (its id as text, as this package
    /// starts invocations) and the signal notification to append; nil when it is no awakeable id.
    public static func awakeableCompletion(_ awakeableID: String, _ result: CompletionResult) -> (invocationID: String, notification: Frame)? {
        awakeableTarget(awakeableID).map { (String(decoding: $0.invocationID, as: UTF8.self), signalNotification($0.signal, result)) }
    }

    /// The signal that cancels an invocation.
    public static let cancelSignal: UInt32 = 1

    /// A signal by index (awakeables; 1 is cancellation) or by name.
    public enum SignalID: Sendable, Equatable {
        case index(UInt32)
        case name(String)
    }

    /// A signal (an awakeable's completion, a named signal) for the invocation's journal; a nil
    /// result is Void (as for cancellation).
    public static func signalNotification(_ signal: UInt32, _ result: CompletionResult?) -> Frame {
        signalNotification(.index(signal), result)
    }

    public static func signalNotification(_ signal: SignalID, _ result: CompletionResult?) -> Frame {
        var w = ProtobufWriter()
        switch signal {
        case .index(let index): w.uint(2, UInt64(index))
        case .name(let name): w.string(3, name)
        }
        if let result { w.result(result) } else { w.message(4) { _ in } }
        return Frame(.signalNotification, body: w.bytes)
    }

    /// Signals a handler sent to other invocations (`ctx.resolve_signal`, `reject_signal`,
    /// `cancel_invocation`), in order.
    public static func signalSends(in entries: [Frame]) throws -> [(target: String, signal: SignalID, result: CompletionResult?)] {
        try entries.filter { $0.type == MessageType.sendSignalCommand.rawValue }.map { frame in
            var target = "", signal = SignalID.index(0)
            var result: CompletionResult?
            var r = ProtobufReader(frame.body)
            while let (field, value) = try r.next() {
                switch field {
                case 1: target = value.string
                case 2: signal = .index(UInt32(truncatingIfNeeded: value.uint))
                case 3: signal = .name(value.string)
                case 5: result = .value(try ProtobufReader.last(1, in: value.bytes)?.bytes ?? [])
                case 6: result = .failure(try InvocationFailure(decoding: value.bytes))
                default: continue
                }
            }
            return (target, signal, result)
        }
    }

    /// Awakeables a handler completed (`ctx.resolve_awakeable`, `reject_awakeable`), in order.
    public static func awakeableCompletions(in entries: [Frame]) throws -> [(awakeableID: String, result: CompletionResult)] {
        try entries.filter { $0.type == MessageType.completeAwakeableCommand.rawValue }.map { frame in
            var id = "", result = CompletionResult.value([])
            var r = ProtobufReader(frame.body)
            while let (field, value) = try r.next() {
                switch field {
                case 1: id = value.string
                case 2: result = .value(try ProtobufReader.last(1, in: value.bytes)?.bytes ?? [])
                case 3: result = .failure(try InvocationFailure(decoding: value.bytes))
                default: continue
                }
            }
            return (id, result)
        }
    }

    /// The user signals a SuspensionMessage of protocol 5 waits for: awakeables (indexes from
    /// 17; lower ones are the runtime's, such as cancellation) and named signals.
    public static func awaitedSignals(inResponse body: [UInt8]) throws -> [SignalID] {
        guard let suspension = try Frame.decodeAll(body).last(where: { $0.type == MessageType.suspension.rawValue }) else { return [] }
        var signals: [SignalID] = []
        var r = ProtobufReader(suspension.body)
        while let (field, value) = try r.next() {
            switch (field, value) {
            case (2, .varint(let v)): signals.append(.index(UInt32(truncatingIfNeeded: v)))
            case (2, .bytes(let packed)):
                var p = ProtobufReader.packed(packed)
                while let v = try p.nextVarint() { signals.append(.index(UInt32(truncatingIfNeeded: v))) }
            case (3, _): signals.append(.name(value.string))
            default: continue
            }
        }
        return signals.filter { if case .index(let i) = $0 { i >= 17 } else { true } }
    }
}

extension ProtobufWriter {
    /// A notification's result: `value` (5, a Value message) or `failure` (6, a Failure message).
    mutating func result(_ result: CompletionResult) {
        switch result {
        case .value(let bytes): message(5) { $0.bytes(1, bytes, always: true) }
        case .failure(let f):
            message(6) { m in
                m.uint(1, UInt64(f.code))
                m.string(2, f.message)
            }
        }
    }
}

extension InvocationFailure {
    /// Reads a Failure message (code 1, message 2).
    init(decoding body: [UInt8]) throws {
        self.init(code: 0, message: "")
        var r = ProtobufReader(body)
        while let (field, value) = try r.next() {
            if field == 1 { code = UInt32(truncatingIfNeeded: value.uint) }
            if field == 2 { message = value.string }
        }
    }
}
