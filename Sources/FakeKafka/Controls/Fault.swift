import KafkaProtocol
import NIOCore

/// A fault to inject into the broker's answers, observed by clients exactly like a real one.
public struct Fault: Sendable {
    public enum Action: Sendable, Equatable {
        /// Answer with this error code (per partition when the API has partitions).
        case error(KafkaErrorCode)
        /// Answer normally, but only after this long.
        case delay(TimeAmount)
        /// Close the client's connection instead of handling the request.
        case disconnect
        /// Handle the request, then close the connection instead of answering: the client
        /// cannot tell whether it took effect (a lost response), so it retries.
        case dropResponse
    }

    public enum Frequency: Sendable, Equatable {
        case once
        case times(Int)
        case always
        /// Each matching request independently, with this probability (0...1).
        case probability(Double)
    }

    public var apiKey: ApiKey
    public var action: Action
    public var frequency: Frequency
    /// When set, only requests touching this partition match, and only it gets the error.
    public var topicPartition: TopicPartition?
    /// When set, only requests to this broker match.
    public var broker: Int32?

    public init(apiKey: ApiKey, action: Action, frequency: Frequency = .once, topicPartition: TopicPartition? = nil, broker: Int32? = nil) {
        self.apiKey = apiKey
        self.action = action
        self.frequency = frequency
        self.topicPartition = topicPartition
        self.broker = broker
    }

    /// Shorthand for the most common fault: an error code for an API.
    public static func error(_ code: KafkaErrorCode, on apiKey: ApiKey, _ frequency: Frequency = .once, partition: TopicPartition? = nil) -> Fault {
        Fault(apiKey: apiKey, action: .error(code), frequency: frequency, topicPartition: partition)
    }
}

/// Identifies an injected fault so a test can remove it.
public struct FaultID: Hashable, Sendable {
    let value: Int
}

/// The faults in force, consumed as requests match them.
struct FaultTable {
    private var faults: [(id: FaultID, fault: Fault, remaining: Int?)] = []
    /// Decides probabilistic faults; seeded (`Configuration.faultRandomness`) to make them repeatable.
    private var randomness: any RandomNumberGenerator & Sendable

    init(randomness: (any RandomNumberGenerator & Sendable)? = nil) {
        self.randomness = randomness ?? SystemRandomNumberGenerator()
    }
    private var nextId = 0
    /// How often each fault acted, kept after it is used up or removed.
    private(set) var fired: [FaultID: Int] = [:]

    mutating func add(_ fault: Fault) -> FaultID {
        nextId += 1
        let id = FaultID(value: nextId)
        let remaining: Int? = switch fault.frequency {
        case .once: 1
        case .times(let n): n
        case .always, .probability: nil
        }
        faults.append((id, fault, remaining))
        return id
    }

    mutating func remove(_ id: FaultID) { faults.removeAll { $0.id == id } }
    mutating func removeAll() { faults.removeAll() }
    var isEmpty: Bool { faults.isEmpty }

    /// Takes the first fault matching this request (and partition, for per-partition checks):
    /// a request-wide check (`partition == nil`) only matches faults without a partition filter.
    mutating func take(_ apiKey: ApiKey, broker: Int32, partition: TopicPartition?) -> Fault.Action? {
        for i in faults.indices {
            let f = faults[i]
            guard f.fault.apiKey == apiKey, f.fault.topicPartition == partition,
                  f.fault.broker == nil || f.fault.broker == broker else { continue }
            if case .probability(let p) = f.fault.frequency, Double.random(in: 0..<1, using: &randomness) >= p { continue }
            if let remaining = f.remaining {
                if remaining <= 1 { faults.remove(at: i) } else { faults[i].remaining = remaining - 1 }
            }
            fired[f.id, default: 0] += 1
            return f.fault.action
        }
        return nil
    }
}
