import KafkaProtocol

extension InjectedFault {
    /// How many requests it must act on for the scenario to have tested what it says.
    public var expectedFirings: Int {
        if case .times(let n) = frequency { return n }
        return 1
    }

    /// For messages: "Fetch answered NOT_LEADER_OR_FOLLOWER on events/0 (3 times)".
    public var summary: String {
        let what = switch action {
        case .error(let code): "answered \(code.name)"
        case .delayMs(let ms): "delayed \(ms) ms"
        case .disconnect: "disconnected"
        case .dropResponse: "lost its answer"
        }
        let scope = [topic.flatMap { t in partition.map { " on \(t)/\($0)" } }, broker.map { " at broker \($0)" }].compactMap { $0 }.joined()
        let how = switch frequency {
        case .times(let n): n == 1 ? "once" : "\(n) times"
        case .always: "always"
        case .probability(let p): "with probability \(p)"
        }
        return "\(api) \(what)\(scope) (\(how))"
    }
}
