import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaProtocol
import NIOCore
import RdKafka
import Testing

/// OAUTHBEARER listeners: unsecured tokens as Kafka's default validator takes them, tokens from
/// the cluster's OAuth token endpoint fetched through RdKafka's client-credentials support (what
/// `sasl.oauthbearer.method=oidc` does in Restate), and the refusals: expired, wrongly scoped,
/// badly signed tokens, a wrong client secret.
@Suite("OAUTHBEARER through librdkafka and on the wire", .guarded)
struct OAuthBearerTests {
    static func sasl(requiredScope: [String] = ["kafka"], signedOnly: Bool = false, validator: OAuthBearerValidator? = nil) -> SASLConfiguration {
        SASLConfiguration(mechanisms: [.oauthBearer], users: ["ingress": "s3cret"],
                          oauthBearer: OAuthBearerSettings(acceptsUnsecuredTokens: !signedOnly, requiredScope: requiredScope, validator: validator))
    }

    static func oidc(_ cluster: FakeKafkaCluster, secret: String = "s3cret", scope: String = "kafka") -> [String: String] {
        cluster.clientConfig([
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.client.id": "ingress", "sasl.oauthbearer.client.secret": secret,
            "sasl.oauthbearer.token.endpoint.url": cluster.oauthTokenEndpoint!, "sasl.oauthbearer.scope": scope,
            "linger.ms": "0", "message.timeout.ms": "5000",
        ])
    }

    @Test("an unsecured token (librdkafka's own, alg none) with the required scope is let in")
    func unsecuredToken() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl() }) { cluster in
            let topic = uniqueName("oauth")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig([
                "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER", "enable.sasl.oauthbearer.unsecure.jwt": "true",
                "sasl.oauthbearer.config": "principal=alice scope=kafka", "linger.ms": "0", "message.timeout.ms": "5000",
            ]))
            #expect(try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "unsecured")).offset == 0)
            #expect(cluster.authenticationFailures.isEmpty)
        }
    }

    @Test("sasl.oauthbearer.method=oidc: the token comes from the cluster's endpoint; records are produced and consumed")
    func oidcProduceConsume() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl(signedOnly: true) }) { cluster in
            let topic = uniqueName("oidc")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(Self.oidc(cluster))
            _ = try await producer.sendAll((0..<5).map { OutgoingRecord(topic: topic, key: "k", value: "v\($0)") })
            let consumer = try RdKafkaConsumer(Self.oidc(cluster).merging(["group.id": uniqueName("g"), "auto.offset.reset": "earliest"]) { $1 })
            try consumer.subscribe([topic])
            var values: [String] = []
            try await eventually("the consumer reads the 5 records") {
                if let record = try await consumer.poll(timeoutMs: 200) { values.append(String(decoding: record.value ?? [], as: UTF8.self)) }
                return values.count == 5
            }
            try await consumer.close()
            #expect(values == (0..<5).map { "v\($0)" })
            #expect(cluster.issuedOAuthTokens.contains("ingress"), "the token came from the endpoint, not librdkafka")
            #expect(cluster.authenticationFailures.isEmpty)
        }
    }

    @Test("a token without the required scope is refused (insufficient_scope), and the delivery fails")
    func wrongScope() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl() }) { cluster in
            let topic = uniqueName("oidc")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(Self.oidc(cluster, scope: "reporting"))
            await #expect(throws: RdKafkaError.self) { try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v")) }
            #expect(try cluster.records(TopicPartition(topic, 0)).isEmpty)
            #expect(cluster.authenticationFailures.contains { $0.contains("insufficient_scope") && $0.contains("without kafka") })
        }
    }

    @Test("a wrong client secret is refused by the token endpoint: the delivery fails with that reason, before its timeout")
    func wrongClientSecret() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl() }) { cluster in
            let topic = uniqueName("oidc")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(Self.oidc(cluster, secret: "wrong"))
            let started = ContinuousClock.now
            let error = await #expect(throws: RdKafkaError.self) { try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v")) }
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(error?.description.contains("HTTP 401 invalid_client") == true, "\(error.map { "\($0)" } ?? "no error")")
            #expect(cluster.tokenEndpointRefusals.contains { $0.contains("'ingress'") })
            #expect(cluster.issuedOAuthTokens.isEmpty)
        }
    }

    @Test("on the wire: an expired token gets Kafka's invalid_token challenge, then SASL_AUTHENTICATION_FAILED and a closed connection")
    func expiredToken() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl() }) { cluster in
            let expired = cluster.issueOAuthToken(subject: "ingress", scope: ["kafka"], lifetime: .seconds(-120))
            let refusal = try await Self.authenticate(cluster, token: expired)
            #expect(refusal == .refused(challenge: #"{"status":"invalid_token"}"#))
            #expect(cluster.authenticationFailures.contains { $0.contains("expired") })
        }
    }

    @Test("on the wire: the endpoint's own signed token is accepted; a forged signature and the wrong scope are not")
    func signedTokens() async throws {
        try await withCluster(configure: { $0.sasl = Self.sasl(signedOnly: true) }) { cluster in
            let good = cluster.issueOAuthToken(subject: "ingress", scope: ["kafka"])
            let goodOutcome = try await Self.authenticate(cluster, token: good)
            #expect(goodOutcome == .accepted)
            let parts = good.split(separator: ".")
            let forged = "\(parts[0]).\(Self.base64URL(#"{"sub":"admin","exp":9999999999,"scope":"kafka","iss":"fake-kafka"}"#)).\(parts[2])"
            let forgedOutcome = try await Self.authenticate(cluster, token: forged)
            #expect(forgedOutcome == .refused(challenge: #"{"status":"invalid_token"}"#))
            let unsecured = "\(Self.base64URL(#"{"alg":"none"}"#)).\(Self.base64URL(#"{"sub":"alice","exp":9999999999,"scope":"kafka"}"#))."
            let unsecuredOutcome = try await Self.authenticate(cluster, token: unsecured)
            #expect(unsecuredOutcome == .refused(challenge: #"{"status":"invalid_token"}"#),
                    "signed-only refuses alg none")
            let unscoped = cluster.issueOAuthToken(subject: "ingress", scope: ["other"])
            let unscopedOutcome = try await Self.authenticate(cluster, token: unscoped)
            #expect(unscopedOutcome == .refused(challenge: #"{"status":"insufficient_scope", "scope":"[kafka]"}"#))
        }
    }

    @Test("with an expected audience, a token naming another is refused; the endpoint's tokens name the expected one")
    func audience() async throws {
        try await withCluster(configure: {
            var sasl = Self.sasl(signedOnly: true)
            sasl.oauthBearer.expectedAudience = ["kafka-cluster"]
            $0.sasl = sasl
        }) { cluster in
            let other = cluster.issueOAuthToken(subject: "ingress", scope: ["kafka"], audience: ["billing-api"])
            let otherOutcome = try await Self.authenticate(cluster, token: other)
            #expect(otherOutcome == .refused(challenge: #"{"status":"invalid_token"}"#))
            #expect(cluster.authenticationFailures.contains { $0.contains("audience") })
            let topic = uniqueName("aud")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(Self.oidc(cluster))
            #expect(try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v")).offset == 0)
        }
    }

    @Test("a validator written in Swift decides instead of the built-in checks")
    func customValidator() async throws {
        let validator = OAuthBearerValidator { token in
            token == "opaque-123" ? .accepted(principal: "svc") : .invalidToken(reason: "not on the list")
        }
        try await withCluster(configure: { $0.sasl = Self.sasl(validator: validator) }) { cluster in
            #expect(try await Self.authenticate(cluster, token: "opaque-123") == .accepted)
            let jwt = cluster.issueOAuthToken(subject: "ingress", scope: ["kafka"])
            let jwtOutcome = try await Self.authenticate(cluster, token: jwt)
            #expect(jwtOutcome == .refused(challenge: #"{"status":"invalid_token"}"#))
            #expect(cluster.authenticationFailures.contains { $0.contains("not on the list") })
        }
    }

    enum Outcome: Equatable {
        case accepted
        case refused(challenge: String)
    }

    /// SaslHandshake and SaslAuthenticate (v1) with `token`; on refusal also the client's %x01,
    /// checking Kafka's error code, message, and that the broker closes the connection.
    static func authenticate(_ cluster: FakeKafkaCluster, token: String) async throws -> Outcome {
        let broker = cluster.brokers[0]
        let raw = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
        do {
            let outcome = try await exchange(raw, token: token)
            await raw.close()
            return outcome
        } catch {
            await raw.close()
            throw error
        }
    }

    private static func exchange(_ raw: RawKafkaClient, token: String) async throws -> Outcome {
        var handshake = try #require(try await raw.request(SaslHandshakeRequest(mechanism: "OAUTHBEARER"), apiKey: .saslHandshake, version: 1))
        #expect(try SaslHandshakeResponse(from: &handshake, version: 1).errorCode == 0)
        let first = Array("n,,\u{01}auth=Bearer \(token)\u{01}\u{01}".utf8)
        var body = try #require(try await raw.request(SaslAuthenticateRequest(authBytes: first), apiKey: .saslAuthenticate, version: 1, correlationId: 2))
        let answer = try SaslAuthenticateResponse(from: &body, version: 1)
        #expect(answer.errorCode == 0)
        if answer.authBytes.isEmpty {
            // Authenticated: an ordinary request is served now.
            #expect(try await raw.request(MetadataRequest(topics: []), apiKey: .metadata, version: 1, correlationId: 3) != nil)
            return .accepted
        }
        let challenge = String(decoding: answer.authBytes, as: UTF8.self)
        var final = try #require(try await raw.request(SaslAuthenticateRequest(authBytes: [1]), apiKey: .saslAuthenticate, version: 1, correlationId: 4))
        let failure = try SaslAuthenticateResponse(from: &final, version: 1)
        #expect(failure.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue)
        #expect(failure.errorMessage == challenge)
        #expect(await raw.nextFrame() == nil, "the broker closes the connection")
        return .refused(challenge: challenge)
    }

    static func base64URL(_ json: String) -> String {
        Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
