import KafkaProtocol

/// The Apache Kafka release FakeKafka presents itself as. Clients choose features from the
/// ApiVersions answer, so the release decides which request versions are advertised (each
/// clipped to what FakeKafka serves) and a few answers that changed between releases.
public enum KafkaVersion: String, Sendable, CaseIterable, Comparable {
    case v3_9 = "3.9"
    case v4_0 = "4.0"

    public static func < (a: KafkaVersion, b: KafkaVersion) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The versions this Kafka release's brokers accept for `key`, nil when it has no such API.
    /// Kafka 4.0 dropped the request versions of clients older than 2.1 (KIP-896) and added
    /// versions of its own.
    public func kafkaRange(_ key: ApiKey) -> ClosedRange<Int16>? {
        let table = self == .v3_9 ? Self.kafka3_9 : Self.kafka4_0
        return table[key]
    }

    /// What is advertised for `key`: Kafka's range for this release, clipped to what FakeKafka
    /// serves; nil when nothing is left. An API the tables below do not list yet (one just added
    /// to the generator's SERVED table) is advertised as served, so that serving it is enough to
    /// offer it; give it its Kafka ranges here.
    public func advertised(_ key: ApiKey) -> ClosedRange<Int16>? {
        let kafka = kafkaRange(key) ?? key.versions
        let lo = max(kafka.lowerBound, key.versions.lowerBound), hi = min(kafka.upperBound, key.versions.upperBound)
        return lo <= hi ? lo...hi : nil
    }

    private static let kafka3_9: [ApiKey: ClosedRange<Int16>] = [
        .produce: 0...11, .fetch: 0...17, .listOffsets: 0...9, .metadata: 0...12, .offsetCommit: 0...9, .offsetFetch: 0...9,
        .findCoordinator: 0...6, .joinGroup: 0...9, .heartbeat: 0...4, .leaveGroup: 0...5, .syncGroup: 0...5,
        .describeGroups: 0...5, .listGroups: 0...5, .saslHandshake: 0...1, .apiVersions: 0...4, .createTopics: 0...7,
        .deleteTopics: 0...6, .deleteRecords: 0...2, .initProducerId: 0...5, .offsetForLeaderEpoch: 0...4,
        .addPartitionsToTxn: 0...5, .addOffsetsToTxn: 0...4, .endTxn: 0...4, .txnOffsetCommit: 0...4,
        .describeAcls: 0...3, .createAcls: 0...3, .deleteAcls: 0...3, .describeConfigs: 0...4, .alterConfigs: 0...2,
        .saslAuthenticate: 0...2, .createPartitions: 0...3, .deleteGroups: 0...2, .incrementalAlterConfigs: 0...1,
        .offsetDelete: 0...0, .describeCluster: 0...1, .describeUserScramCredentials: 0...0, .alterUserScramCredentials: 0...0,
        .describeTopicPartitions: 0...0, .getTelemetrySubscriptions: 0...0,
    ]

    private static let kafka4_0: [ApiKey: ClosedRange<Int16>] = [
        .produce: 3...12, .fetch: 4...17, .listOffsets: 1...10, .metadata: 0...12, .offsetCommit: 2...9, .offsetFetch: 1...9,
        .findCoordinator: 0...6, .joinGroup: 0...9, .heartbeat: 0...4, .leaveGroup: 0...5, .syncGroup: 0...5,
        .describeGroups: 0...6, .listGroups: 0...5, .saslHandshake: 0...1, .apiVersions: 0...4, .createTopics: 2...7,
        .deleteTopics: 1...6, .deleteRecords: 0...2, .initProducerId: 0...5, .offsetForLeaderEpoch: 2...4,
        .addPartitionsToTxn: 0...5, .addOffsetsToTxn: 0...4, .endTxn: 0...5, .txnOffsetCommit: 0...5,
        .describeAcls: 1...3, .createAcls: 1...3, .deleteAcls: 1...3, .describeConfigs: 1...4, .alterConfigs: 0...2,
        .saslAuthenticate: 0...2, .createPartitions: 0...3, .deleteGroups: 0...2, .incrementalAlterConfigs: 0...1,
        .offsetDelete: 0...0, .describeCluster: 0...2, .describeUserScramCredentials: 0...0, .alterUserScramCredentials: 0...0,
        .describeTopicPartitions: 0...0, .getTelemetrySubscriptions: 0...0,
    ]
}
