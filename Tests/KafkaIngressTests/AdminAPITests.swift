import Foundation
import HarnessTestSupport
import KafkaIngress
import Recorder
import Testing

/// The admin API over real HTTP: every error case of DESIGN.md §3, byte for byte.
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
                "options": ["auto.offset.reset": "earliest", "sasl.password": "hunter2", "sasl.username": "bob", "ssl.key.pem": "KEY"],
            ])
            #expect(created.status == 201)
            let body = try created.json()
            let id = try #require(body["id"] as? String)
            #expect(id.range(of: "^sub_1[0-9a-zA-Z]{22}$", options: .regularExpression) != nil, "id \(id)")
            #expect(created.headers["location"] == "subscriptions/\(id)")
            #expect(body["options"] as? [String: String] == [
                "auto.offset.reset": "earliest", "client.id": "restate", "group.id": id,
                "sasl.password": "***", "sasl.username": "***", "ssl.key.pem": "***",
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

    @Test("unknown ids are 404; malformed bodies are 400 naming the problem")
    func notFoundAndBadBodies() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let missing = "sub_10000000000000000000000"
            let get = try await f.request(.GET, "/subscriptions/\(missing)")
            #expect(get.status == 404)
            #expect(get.body == #"{"message":"The requested subscription '\#(missing)' does not exist","restate_code":null}"#)
            let delete = try await f.request(.DELETE, "/subscriptions/\(missing)")
            #expect(delete.status == 404)
            #expect(delete.body == get.body)

            let noSink = try await f.request(.POST, "/subscriptions", json: ["source": "kafka://test/orders"])
            #expect(noSink.status == 400)
            #expect(noSink.body.contains("missing field `sink`"), "\(noSink.body)")
            let notJSON = try await f.request(.POST, "/subscriptions", raw: "{source:")
            #expect(notJSON.status == 400)
            let badOptions = try await f.request(.POST, "/subscriptions", json: ["source": "kafka://test/orders", "sink": "service://Counter/add", "options": ["n": 1]])
            #expect(badOptions.status == 400)
            #expect(badOptions.body.contains("options.n"), "\(badOptions.body)")
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
            #expect(try await f.request(.GET, "/deployments/dp_nope").status == 404)

            let unreachable = try await f.request(.POST, "/deployments", json: ["uri": "http://127.0.0.1:1"])
            #expect(unreachable.status == 400)
            #expect(unreachable.body.contains("META0003"), "\(unreachable.body)")
            let relative = try await f.request(.POST, "/deployments", json: ["uri": "not a uri"])
            #expect(relative.status == 400)
        }
    }

    @Test("the OpenAPI document is valid JSON and names every route")
    func openAPI() async throws {
        try await IngressFixture.with(services: Self.services) { f in
            let doc = try await f.request(.GET, "/openapi")
            #expect(doc.status == 200)
            let paths = try #require(try doc.json()["paths"] as? [String: Any])
            #expect(Set(paths.keys) == ["/subscriptions", "/subscriptions/{subscription}", "/deployments", "/deployments/{deployment}", "/invocations", "/health"])
        }
    }

    static func ids(_ result: AdminClient.Result) throws -> [String] {
        (try result.json()["subscriptions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
}
