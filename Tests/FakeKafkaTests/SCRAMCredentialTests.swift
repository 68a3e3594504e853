@testable import FakeKafka
import HarnessTestSupport
import KafkaProtocol
import NIOCore
import RdKafka
import Testing

/// SCRAM credentials administered over the wire (KIP-554): DescribeUserScramCredentials and
/// AlterUserScramCredentials, with Kafka's refusals, and librdkafka logging in with a credential
/// only the API created (and no longer with one it deleted).
@Suite("SCRAM credential administration", .guarded)
struct SCRAMCredentialTests {
    static let sasl = SASLConfiguration(mechanisms: SASLConfiguration.Mechanism.passwordBased, users: ["alice": "s3cret"])

    private func call<Response: KafkaMessage>(_ raw: RawKafkaClient, _ request: some KafkaMessage, _ key: ApiKey, version: Int16,
                                              as: Response.Type) async throws -> Response {
        var body = try #require(try await raw.request(request, apiKey: key, version: version))
        return try Response(from: &body, version: version)
    }

    /// A raw connection logged in as alice with PLAIN.
    private func adminConnection(_ cluster: FakeKafkaCluster) async throws -> RawKafkaClient {
        let broker = cluster.brokers[0]
        let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
        let handshake = try await call(raw, SaslHandshakeRequest(mechanism: "PLAIN"), .saslHandshake, version: 1, as: SaslHandshakeResponse.self)
        #expect(handshake.errorCode == 0)
        let login = try await call(raw, SaslAuthenticateRequest(authBytes: [0] + Array("alice".utf8) + [0] + Array("s3cret".utf8)),
                                   .saslAuthenticate, version: 2, as: SaslAuthenticateResponse.self)
        #expect(login.errorCode == 0)
        return raw
    }

    private func describe(_ raw: RawKafkaClient, _ users: [String]?) async throws -> [String: (Int16, [Int8: Int32])] {
        let request = DescribeUserScramCredentialsRequest(users: users.map { $0.map { .init(name: $0) } })
        let answer = try await call(raw, request, .describeUserScramCredentials, version: 0, as: DescribeUserScramCredentialsResponse.self)
        return Dictionary(uniqueKeysWithValues: answer.results.map { r in
            (r.user, (r.errorCode, Dictionary(uniqueKeysWithValues: r.credentialInfos.map { ($0.mechanism, $0.iterations) })))
        })
    }

    @Test("credentials are described, upserted and deleted as Kafka does, and SCRAM logins follow them")
    func alterAndLogIn() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl }) { cluster in
            let raw = try await adminConnection(cluster)
            let initial = try await describe(raw, nil)
            #expect(initial.keys.sorted() == ["alice"])
            #expect(initial["alice"]?.1 == [1: 4096, 2: 4096], "the configured user has both SCRAM mechanisms")

            let salt = Array("pepper".utf8)
            let salted = SCRAMServer.saltedPassword(.sha256, password: Array("hunter2".utf8), salt: salt, iterations: 8192)
            let alter = AlterUserScramCredentialsRequest(
                deletions: [.init(name: "alice", mechanism: 2), .init(name: "erin", mechanism: 1)],
                upsertions: [.init(name: "bob", mechanism: 1, iterations: 8192, salt: salt, saltedPassword: salted),
                             .init(name: "carol", mechanism: 1, iterations: 10, salt: salt, saltedPassword: salted),
                             .init(name: "dave", mechanism: 9, iterations: 8192, salt: salt, saltedPassword: salted)])
            let altered = try await call(raw, alter, .alterUserScramCredentials, version: 0, as: AlterUserScramCredentialsResponse.self)
            let codes = Dictionary(uniqueKeysWithValues: altered.results.map { ($0.user, $0.errorCode) })
            #expect(codes == ["alice": 0, "erin": KafkaErrorCode.resourceNotFound.rawValue, "bob": 0,
                              "carol": KafkaErrorCode.unacceptableCredential.rawValue, "dave": KafkaErrorCode.unsupportedSaslMechanism.rawValue])

            let after = try await describe(raw, ["bob", "alice", "nobody"])
            #expect(after["bob"]?.0 == 0 && after["bob"]?.1 == [1: 8192])
            #expect(after["alice"]?.1 == [1: 4096])
            #expect(after["nobody"]?.0 == KafkaErrorCode.resourceNotFound.rawValue)
            await raw.close()

            let topic = uniqueName("scram")
            try cluster.createTopic(topic, partitions: 1)
            func producer(_ user: String, _ password: String, _ mechanism: SASLConfiguration.Mechanism) throws -> RdKafkaProducer {
                try RdKafkaProducer(cluster.clientConfig([
                    "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mechanism.rawValue, "sasl.username": user,
                    "sasl.password": password, "linger.ms": "0", "message.timeout.ms": "5000"]))
            }
            let bob = try producer("bob", "hunter2", .scramSHA256)
            #expect(try await bob.send(OutgoingRecord(topic: topic, key: "k", value: "from bob")).offset == 0)
            let deleted = try producer("alice", "s3cret", .scramSHA512)
            await #expect(throws: RdKafkaError.self) { try await deleted.send(OutgoingRecord(topic: topic, key: "k", value: "v")) }
        }
    }
}
