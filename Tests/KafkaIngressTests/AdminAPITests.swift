import FakeKafka
import Foundation
import HarnessTestSupport
import KafkaIngress
import NIOHTTP1
import Recorder
import Testing

/// The admin API over real HTTP: Restate's statuses and error texts, byte for byte.
@Suite("Admin API", .guarded)
struct AdminAPITests {
    static let services = [
        RecorderConfiguration.Service(name: "Counter", type: .virtualObject, handlers: [.init(name: "add")]),
        RecorderConfiguration.Service(name: "Log", type: .service, handlers: [.init(name: "record")]),
    ]

    @Test("create answers 201 with Location and the defaults; get, list with filters and delete")
    func lifecycle() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let created = try await f.request(.POST, "/subscriptions", json: [
                "source": "kafka://test/orders", "sink": "service://Counter/add",
                "options": ["auto.offset.reset": "earliest", "sasl.password": "hunter2", "sasl.username": "bob", "ssl.key.pem": "KEY",
                            "ssl.keystore.location": "/k.p12", "My.Secret.Thing": "s", "sasl.oauthbearer.client.id": "cid"],
            ])
            #expect(created.status == 201)
            let body = try created.json()
            let id = try #require(body["id"] as? String)
            #expect(id.range(of: "^sub_1[0-9a-zA-Z]{22}$", options: .regularExpression) != nil, "id \(id)")
            #expect(created.headers["location"] == "subscriptions/\(id)")
            #expect(body["options"] as? [String: String] == [
                "auto.offset.reset": "earliest", "client.id": "restate", "group.id": id,
                "sasl.password": "***", "sasl.username": "***", "ssl.key.pem": "***",
                // Restate's markers, matched anywhere in the lower-cased key; a client id is no secret.
                "ssl.keystore.location": "***", "My.Secret.Thing": "***", "sasl.oauthbearer.client.id": "cid",
            ])
            #expect(!created.body.contains("hunter2"))

            let other = try await f.subscribe("payments", to: "Log/record", options: ["group.id": "mine"])
            let fetched = try await f.request(.GET, "/subscriptions/\(id)")
            #expect(fetched.status == 200)
            #expect(try fetched.json()["sink"] as? String == "service://Counter/add")

            let all = try await f.request(.GET, "/subscriptions")
            #expect(try Self.ids(all) == [id, other])
            #expect(try Self.ids(try await f.request(.GET, "/subscriptions?sink=service://Log/record")) == [other])
            #expect(try Self.ids(try await f.request(.GET, "/subscriptions?source=kafka://test/orders")) == [id])
            #expect(try Self.ids(try await f.request(.GET, "/subscriptions?source=kafka://test/orders&sink=service://Log/record")) == [])
            let mine = try await f.request(.GET, "/subscriptions/\(other)")
            #expect((try mine.json()["options"] as? [String: String])?["group.id"] == "mine", "an explicit group.id is kept")

            let deleted = try await f.request(.DELETE, "/subscriptions/\(id)")
            #expect(deleted.status == 202)
            #expect(try Self.ids(try await f.request(.GET, "/subscriptions")) == [other])
        }
    }

    @Test("the API is also served under /v2, /v3 and /v4, as Restate serves it; /v1 is refused with Restate's text")
    func versionedPaths() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let created = try await f.request(.POST, "/v3/subscriptions", json: ["source": "kafka://test/orders", "sink": "service://Counter/add"])
            #expect(created.status == 201, "\(created.body)")
            let id = try #require((try created.json())["id"] as? String)
            for prefix in ["", "/v2", "/v4"] {
                let fetched = try await f.request(.GET, "\(prefix)/subscriptions/\(id)")
                #expect(fetched.status == 200 && fetched.body.contains(id), "\(prefix): \(fetched.status)")
            }
            #expect(try await f.request(.GET, "/v2/deployments").status == 200)
            #expect(try await f.request(.GET, "/v4/kafka-clusters").status == 200)
            let old = try await f.request(.GET, "/v1/subscriptions")
            #expect(old.status == 400)
            #expect(old.body == "Unsupported Admin API version V1. This server supports versions between V2 and V4.")
            #expect(try await f.request(.DELETE, "/v4/subscriptions/\(id)").status == 202)
            #expect(try await f.request(.GET, "/subscriptions/\(id)").status == 404)
        }
    }

    @Test("enable.auto.commit=false is stored as given but overridden: the consumer commits anyway, as Restate's does")
    func forcedAutoCommit() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let topic = uniqueName("forced")
            try f.cluster.createTopic(topic, partitions: 1)
            let id = try await f.subscribe(topic, to: "Log/record", options: ["enable.auto.commit": "false", "enable.auto.offset.store": "true"])
            let shown = try await f.request(.GET, "/subscriptions/\(id)")
            #expect((try shown.json()["options"] as? [String: String])?["enable.auto.commit"] == "false")
            try f.produce(topic, [(key: "a", value: "1"), (key: "b", value: "2")], partitions: 1)
            _ = try await f.waitForCompleted(2)
            try await eventually("the group committed both records") {
                f.cluster.committedOffsets(group: id)[TopicPartition(topic, 0)]?.offset == 2
            }
        }
    }

    @Test("every refusal has Restate's status and body", arguments: [
        ("kafkaa://test/orders", "service://Counter/add", 400,
         #"{"message":"[META0009] invalid source URI 'kafkaa://test/orders': must have a scheme segment, with supported schemes: [kafka].","restate_code":"META0009"}"#),
        ("test/orders", "service://Counter/add", 400,
         #"{"message":"[META0009] invalid source URI 'test/orders': must have a scheme segment, with supported schemes: [kafka].","restate_code":"META0009"}"#),
        ("kafka:///orders", "service://Counter/add", 400,
         #"{"message":"[META0009] invalid source URI 'kafka:///orders': source URI of Kafka type must have a authority segment containing the cluster name.","restate_code":"META0009"}"#),
        ("kafka://test/orders", "http://Counter/add", 400,
         #"{"message":"[META0009] invalid sink URI 'http://Counter/add': must have a scheme segment, with supported schemes: [service].","restate_code":"META0009"}"#),
        ("kafka://test/orders", "service:///add", 400,
         #"{"message":"[META0009] invalid sink URI 'service:///add': sink URI of service type must have a authority segment containing the service name.","restate_code":"META0009"}"#),
        ("kafka://test/orders", "service://Counter/nope", 400,
         #"{"message":"[META0009] invalid sink URI 'service://Counter/nope': cannot find service/handler specified in the sink URI.","restate_code":"META0009"}"#),
        ("kafka://test/orders", "service://Nobody/add", 400,
         #"{"message":"[META0009] invalid sink URI 'service://Nobody/add': cannot find service/handler specified in the sink URI.","restate_code":"META0009"}"#),
        ("kafka://elsewhere/orders", "service://Counter/add", 400,
         #"{"message":"Kafka cluster 'elsewhere' not found. Available clusters: [\"test\"]","restate_code":null}"#),
    ])
    func refusals(source: String, sink: String, status: Int, body: String) async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let result = try await f.request(.POST, "/subscriptions", json: ["source": source, "sink": sink])
            #expect(result.status == status)
            #expect(result.body == body)
            #expect(result.headers["content-type"] == "application/json")
            #expect(try Self.ids(try await f.request(.GET, "/subscriptions")) == [], "nothing was created")
        }
    }

    @Test("unknown and malformed ids: Restate's statuses and texts (axum's plain text for an id that does not parse)")
    func ids() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let missing = "sub_10000000000000000000000"
            let get = try await f.request(.GET, "/subscriptions/\(missing)")
            #expect(get.status == 404)
            #expect(get.body == #"{"message":"The requested subscription '\#(missing)' does not exist","restate_code":null}"#)
            let delete = try await f.request(.DELETE, "/subscriptions/\(missing)")
            #expect(delete.status == 404)
            #expect(delete.body == #"{"message":"not found in the schema registry: subscription with id '\#(missing)'","restate_code":null}"#)
            for (method, path, text) in [
                (HTTPMethod.GET, "/subscriptions/foo", "Invalid URL: Cannot parse `subscription` with value `foo`: bad format"),
                (.DELETE, "/subscriptions/sub_2abc", "Invalid URL: Cannot parse `subscription` with value `sub_2abc`: unrecognized codec version"),
                (.GET, "/subscriptions/sub_1abc", "Invalid URL: Cannot parse `subscription` with value `sub_1abc`: bad length"),
                (.GET, "/deployments/\(missing)", "Invalid URL: Cannot parse `deployment` with value `\(missing)`: id doesn't match the expected type"),
            ] {
                let result = try await f.request(method, path)
                #expect(result.status == 400, "\(path)")
                #expect(result.body == text)
                #expect(result.headers["content-type"] == "text/plain; charset=utf-8")
            }
        }
    }

    /// The refusals axum makes before Restate's handler runs, derived from axum 0.8.9 and
    /// serde_json (Restate 1.7.6's Cargo.lock): plain text, serde_json's message and position.
    @Test("request bodies: no JSON Content-Type is 415, bad JSON 400, the wrong shape 422, with axum's and serde_json's texts", arguments: [
        (nil, #"{"source":"kafka://test/t","sink":"service://Counter/add"}"#, 415, "Expected request with `Content-Type: application/json`"),
        ("text/plain", #"{"source":"kafka://test/t","sink":"service://Counter/add"}"#, 415, "Expected request with `Content-Type: application/json`"),
        ("application/json", "", 400, "Failed to parse the request body as JSON: EOF while parsing a value at line 1 column 0"),
        ("application/json", "{source:", 400, "Failed to parse the request body as JSON: key must be a string at line 1 column 2"),
        ("application/json", #"{"source":"kafka://test/t""#, 400, "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 26"),
        ("application/json", #"{"source":"kafka://test/t"} x"#, 400, "Failed to parse the request body as JSON: trailing characters at line 1 column 29"),
        ("application/json", "nope", 400, "Failed to parse the request body as JSON: expected ident at line 1 column 2"),
        ("application/json", #"{"source":"kafka://test/t"}"#, 422, "Failed to deserialize the JSON body into the target type: missing field `sink` at line 1 column 27"),
        ("application/json", #"{"source":123,"sink":"service://Counter/add"}"#, 422,
         "Failed to deserialize the JSON body into the target type: source: invalid type: integer `123`, expected a string at line 1 column 13"),
        ("application/json", #"{"source":"","sink":"service://Counter/add"}"#, 422,
         "Failed to deserialize the JSON body into the target type: source: empty string at line 1 column 12"),
        ("application/json", #"{"source":"kafka://test/t","sink":"service://Counter/add","options":{"n":1}}"#, 422,
         "Failed to deserialize the JSON body into the target type: options.n: invalid type: integer `1`, expected a string at line 1 column 74"),
        ("application/json", #"{"source":"kafka://test/t","source":"kafka://test/t","sink":"service://Counter/add"}"#, 422,
         "Failed to deserialize the JSON body into the target type: duplicate field `source` at line 1 column 35"),
    ] as [(String?, String, Int, String)])
    func bodies(contentType: String?, body: String, status: Int, text: String) async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let result = try await f.request(.POST, "/subscriptions", raw: body, contentType: contentType)
            #expect(result.status == status)
            #expect(result.body == text)
            #expect(result.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(try Self.ids(try await f.request(.GET, "/subscriptions")) == [], "nothing was created")
        }
    }

    @Test("a JSON Content-Type with parameters or a +json suffix is accepted")
    func contentTypes() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            for type in ["application/json; charset=utf-8", "application/vnd.restate+json"] {
                let result = try await f.request(.POST, "/subscriptions", raw: #"{"source":"kafka://test/t","sink":"service://Counter/add"}"#, contentType: type)
                #expect(result.status == 201, "\(type): \(result.body)")
            }
        }
    }

    @Test("deployments: discovery registers services; an unreachable endpoint is refused")
    func deployments() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let list = try await f.request(.GET, "/deployments")
            let deployments = try #require(try list.json()["deployments"] as? [[String: Any]])
            #expect(deployments.count == 1)
            #expect(deployments.first?["uri"] as? String == f.recorderURL)
            let names = (deployments.first?["services"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["Counter", "Log"])
            let id = try #require(deployments.first?["id"] as? String)
            #expect(try await f.request(.GET, "/deployments/\(id)").status == 200)
            let unknown = try await f.request(.GET, "/deployments/dp_10000000000000000000000")
            #expect(unknown.status == 404)
            #expect(unknown.body == #"{"message":"The requested deployment 'dp_10000000000000000000000' does not exist","restate_code":null}"#)

            let again = try await f.request(.POST, "/deployments", json: ["uri": f.recorderURL, "use_http_11": true])
            #expect(again.status == 200, "registering the same endpoint again answers 200, as Restate does")
            #expect(try again.json()["id"] as? String == id)

            let unreachable = try await f.request(.POST, "/deployments", json: ["uri": "http://127.0.0.1:1"])
            #expect(unreachable.status == 400)
            #expect(unreachable.body.contains("META0003"), "\(unreachable.body)")
            let relative = try await f.request(.POST, "/deployments", json: ["uri": "/services"])
            #expect(relative.status == 400)
            #expect(relative.body == #"{"message":"The request field 'uri' is invalid. Reason: The provided uri /services is not absolute, only absolute URIs can be used.","restate_code":null}"#)
            for shape in [#"{"uri":"not a uri"}"#, #"{"uri":5}"#, #"{"url":"http://x"}"#, "[]"] {
                let refused = try await f.request(.POST, "/deployments", raw: shape)
                #expect(refused.status == 422, "\(shape)")
                #expect(refused.body == "Failed to deserialize the JSON body into the target type: data did not match any variant of untagged enum RegisterDeploymentRequest")
            }
        }
    }

    @Test("the OpenAPI document is valid JSON and names every route")
    func openAPI() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let doc = try await f.request(.GET, "/openapi")
            #expect(doc.status == 200)
            let paths = try #require(try doc.json()["paths"] as? [String: Any])
            #expect(Set(paths.keys) == ["/subscriptions", "/subscriptions/{subscription}", "/deployments", "/deployments/{deployment}", "/invocations",
                                        "/invocations/{invocation_id}/resume", "/invocations/{invocation_id}/restart-as-new", "/invocations/{invocation_id}/cancel", "/kafka-clusters", "/kafka-clusters/{cluster_name}", "/metrics", "/health"])
        }
    }

    static func ids(_ result: AdminClient.Result) throws -> [String] {
        (try result.json()["subscriptions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
}
