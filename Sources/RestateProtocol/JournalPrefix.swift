/// What Restate checks and copies when it restarts an invocation from a prefix of its journal
/// (`restart-as-new` with `from`): every command of the prefix must have its completions
/// somewhere in the journal, and those completions go with the prefix.
extension JournalEntries {
    /// The completions a command waits for (Restate's `related_completion_ids`): the result of a
    /// state read, promise, sleep, run, attach or output read, and for a call both the callee's
    /// invocation id and its result; none for a notification or a command without one.
    public static func relatedCompletionIDs(of entry: Frame) throws -> [UInt32] {
        switch MessageType(rawValue: entry.type) {
        case .getLazyStateCommand, .getLazyStateKeysCommand, .getPromiseCommand, .peekPromiseCommand, .completePromiseCommand,
             .sleepCommand, .runCommand, .attachInvocationCommand, .getInvocationOutputCommand:
            return try ProtobufReader.last(11, in: entry.body).map { [UInt32(truncatingIfNeeded: $0.uint)] } ?? []
        case .callCommand:
            return try [10, 11].compactMap { try ProtobufReader.last($0, in: entry.body).map { UInt32(truncatingIfNeeded: $0.uint) } }
        case .oneWayCallCommand:
            return try ProtobufReader.last(10, in: entry.body).map { [UInt32(truncatingIfNeeded: $0.uint)] } ?? []
        default:
            return []
        }
    }

    /// Whether the entry is a command (as opposed to a notification).
    public static func isCommand(_ entry: Frame) -> Bool { entry.type & 0xFC00 == 0x0400 }

    /// The completion id a notification completes; nil for commands and signals.
    public static func completionID(of entry: Frame) throws -> UInt32? {
        guard entry.type & 0x8000 != 0, entry.type != MessageType.signalNotification.rawValue else { return nil }
        return try ProtobufReader.last(1, in: entry.body).map { UInt32(truncatingIfNeeded: $0.uint) }
    }
}
