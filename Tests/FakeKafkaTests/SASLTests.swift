import FakeKafka
import HarnessTestSupport
import KafkaProtocol
import RdKafka
import Testing

/// SASL_PLAINTEXT listeners through librdkafka (Debian's 2.0.2): PLAIN and SCRAM authenticate
/// with the right password, a wrong one is refused, and nothing is served before authenticating.
@Suite("SASL listeners through librdkafka", .guarded)
struct SASLTests {
    static let sasl = SASLConfiguration(mechanisms: SASLConfiguration.Mechanism.passwordBased, users: ["alice": "s3cret"])

    static func config(_ cluster: FakeKafkaCluster, _ mechanism: SASLConfiguration.Mechanism, password: String) -> [String: String] {
        cluster.clientConfig(["security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mechanism.rawValue,
                              "sasl.username": "alice", "sasl.password": password, "linger.ms": "0", "message.timeout.ms": "5000"])
    }

    @Test("the right password is let in: a record is produced", arguments: SASLConfiguration.Mechanism.passwordBased)
    func authenticates(mechanism: SASLConfiguration.Mechanism) async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl }) { cluster in
            let topic = uniqueName("sasl")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(Self.config(cluster, mechanism, password: "s3cret"))
            let delivery = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: mechanism.rawValue))
            #expect(delivery.offset == 0)
            #expect(try cluster.records(TopicPartition(topic, 0)).map { String(decoding: $0.value ?? [], as: UTF8.self) } == [mechanism.rawValue])
        }
    }

    @Test("a wrong password is refused: the delivery fails instead of hanging", arguments: SASLConfiguration.Mechanism.passwordBased)
    func refusesWrongPassword(mechanism: SASLConfiguration.Mechanism) async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl }) { cluster in
            let topic = uniqueName("sasl")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(Self.config(cluster, mechanism, password: "wrong"))
            await #expect(throws: RdKafkaError.self) { try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v")) }
            #expect(try cluster.records(TopicPartition(topic, 0)).isEmpty)
            #expect(cluster.requestLog().entries.allSatisfy { ["ApiVersions", "SaslHandshake", "SaslAuthenticate"].contains($0.apiName) },
                    "nothing but the SASL exchange was served")
        }
    }

    @Test("a client without SASL is refused at its first request after ApiVersions")
    func plaintextClientRefused() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl }) { cluster in
            let topic = uniqueName("sasl")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0", "message.timeout.ms": "3000"]))
            await #expect(throws: RdKafkaError.self) { try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v")) }
            #expect(try cluster.records(TopicPartition(topic, 0)).isEmpty)
        }
    }
}
