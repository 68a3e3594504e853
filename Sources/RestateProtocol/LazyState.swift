/// Lazy state: a service that enables it (`enableLazyState` in its discovery manifest) is sent
/// only part of its state (or none) with `partial_state` set, and asks for the rest as it reads:
/// `GetLazyStateCommand` for one key, `GetLazyStateKeysCommand` for the key list. The runtime
/// answers from the object's state as the invocation's own earlier writes have left it.
extension JournalEntries {
    /// The completions of the lazy state reads among `added`, answered from `state` (the
    /// object's state before this invocation) with the state changes of `journaled` and of the
    /// entries of `added` before each read applied, in order.
    public static func lazyStateAnswers(added: [Frame], journaled: [Frame], state: [[UInt8]: [UInt8]]) throws -> [Frame] {
        guard added.contains(where: { $0.type == MessageType.getLazyStateCommand.rawValue || $0.type == MessageType.getLazyStateKeysCommand.rawValue }) else {
            return []
        }
        var current = state
        func apply(_ frames: [Frame]) throws {
            for mutation in try stateMutations(in: frames) {
                switch mutation {
                case .set(let key, let value): current[key] = value
                case .clear(let key): current[key] = nil
                case .clearAll: current = [:]
                }
            }
        }
        try apply(journaled)
        var answers: [Frame] = []
        for frame in added {
            let completionID = try ProtobufReader.last(11, in: frame.body)?.uint ?? 0
            var w = ProtobufWriter()
            w.uint(1, completionID)
            switch MessageType(rawValue: frame.type) {
            case .getLazyStateCommand?:
                let key = try ProtobufReader.last(1, in: frame.body)?.bytes ?? []
                if let value = current[key] { w.message(5) { $0.bytes(1, value, always: true) } } else { w.message(4) { _ in } }
                answers.append(Frame(.getLazyStateCompletionNotification, body: w.bytes))
            case .getLazyStateKeysCommand?:
                let keys = current.keys.sorted { $0.lexicographicallyPrecedes($1) }
                w.message(17) { stateKeys in for key in keys { stateKeys.bytes(1, key, always: true) } }
                answers.append(Frame(.getLazyStateKeysCompletionNotification, body: w.bytes))
            default:
                try apply([frame])
            }
        }
        return answers
    }
}
