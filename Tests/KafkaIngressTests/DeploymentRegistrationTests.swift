import Foundation
import HarnessTestSupport
import NIOHTTP1
import KafkaIngress
import Recorder
import Testing

/// `POST /deployments` re-registration and `PATCH`/`PUT /deployments/{id}`, as Restate 1.7
/// answers them, against recorders served on loopback (a recorder started again on the same
/// port plays an endpoint whose services changed).
@Suite("Deployment registration and updates", .guarded)
struct DeploymentRegistrationTests {
    static let counterAndLog: [RecorderConfiguration.Service] = [
        .init(name: "Counter", type: .virtualObject, handlers: [.init(name: "add")]),
        .init(name: "Log", type: .service, handlers: [.init(name: "append")]),
    ]
    static let logOnly: [RecorderConfiguration.Service] = [.init(name: "Log", type: .service, handlers: [.init(name: "append")])]
    static let counterAsService: [RecorderConfiguration.Service] = [.init(name: "Counter", type: .service, handlers: [.init(name: "add")])]

    @Test("the same address is the same deployment: unchanged without discovery unless forced, force's default per API version, Restate's body")
    func reRegistration() async throws {
        try await IngressFixture.with(services: []) { f in
            let port = try await IngressFixture.withRecorder(Self.counterAndLog) { _, port in
                let uri = "http://127.0.0.1:\(port)"
                let first = try await f.request(.POST, "/deployments", json: ["uri": uri, "use_http_11": true])
                #expect(first.status == 201, "\(first.body)")
                let id = try #require(try first.json()["id"] as? String)
                #expect(first.headers["location"] == "deployments/\(id)")
                let services = #"[{"name":"Counter","ty":"VirtualObject","handlers":[{"name":"add","ty":"Exclusive"}],"deployment_id":"\#(id)","revision":1},"#
                    + #"{"name":"Log","ty":"Service","handlers":[{"name":"append"}],"deployment_id":"\#(id)","revision":1}]"#
                #expect(first.body == #"{"id":"\#(id)","services":\#(services),"min_protocol_version":5,"max_protocol_version":5}"#)

                // Authority and path decide; a trailing "/" and other headers do not.
                for (body, path) in [(["uri": uri + "/", "use_http_11": true], "/deployments"),
                                     (["uri": uri, "use_http_11": true, "additional_headers": ["x-other": "1"]], "/v3/deployments"),
                                     (["uri": uri, "use_http_11": true, "force": false], "/v4/deployments")] as [([String: Any], String)] {
                    let again = try await f.request(.POST, path, json: body)
                    #expect(again.status == 200 && again.body == first.body, "\(path) \(body): \(again.status) \(again.body)")
                }
                let conflict = try await f.request(.POST, "/v2/deployments", json: ["uri": uri, "use_http_11": true, "force": false])
                #expect(conflict.status == 409)
                #expect(conflict.body == #"{"message":"Conflict: deployment \#(id) already exists","restate_code":null}"#)
                return port
            }

            // The endpoint now serves Log only. Unforced, nothing asks it: the old services stay.
            try await Self.withRecorder(Self.logOnly, port: port) {
                let uri = "http://127.0.0.1:\(port)"
                let id = try #require(await f.ingress.deployments().first { $0.uri == uri }?.id)
                let unchanged = try await f.request(.POST, "/deployments", json: ["uri": uri, "use_http_11": true])
                #expect(unchanged.status == 200)
                #expect(try Self.serviceNames(unchanged) == ["Counter", "Log"])
                // API version 2 forces by default, and answers an overwrite with 201.
                let forced = try await f.request(.POST, "/v2/deployments", json: ["uri": uri, "use_http_11": true])
                #expect(forced.status == 201, "\(forced.body)")
                #expect(try forced.json()["id"] as? String == id)
                #expect(try Self.serviceNames(forced) == ["Log"])
                #expect(forced.body.contains(#""revision":2"#), "a forced registration is a new revision: \(forced.body)")
                #expect(await f.ingress.deployments().first { $0.id == id }?.services.map(\.name) == ["Log"])
                let refused = try await f.request(.POST, "/subscriptions", json: ["source": "kafka://test/t", "sink": "service://Counter/add"])
                #expect(refused.status == 400, "Counter left with the forced registration: \(refused.body)")
                let again = try await f.request(.POST, "/deployments", json: ["uri": uri, "use_http_11": true, "force": true])
                #expect(again.status == 200 && again.body.contains(#""revision":3"#), "\(again.status) \(again.body)")
            }
        }
    }

    @Test("a new deployment may not change a service's type unless breaking or forced (META0006); a dry run registers nothing")
    func serviceTypeChange() async throws {
        try await IngressFixture.with(services: Self.counterAndLog) { f in
            try await IngressFixture.withRecorder(Self.counterAsService) { _, port in
                let uri = "http://127.0.0.1:\(port)"
                let refused = try await f.request(.POST, "/deployments", json: ["uri": uri, "use_http_11": true])
                #expect(refused.status == 409)
                #expect(refused.body == #"{"message":"[META0006] detected a new service revision for 'Counter' changing the service type from previous revision. Service type cannot be changed across revisions.","restate_code":"META0006"}"#)
                let dryRun = try await f.request(.POST, "/deployments", json: ["uri": uri, "use_http_11": true, "breaking": true, "dry_run": true])
                #expect(dryRun.status == 201, "\(dryRun.body)")
                #expect(await f.ingress.deployments().count == 1, "a dry run registers nothing")
                let breaking = try await f.request(.POST, "/deployments", json: ["uri": uri, "use_http_11": true, "breaking": true])
                #expect(breaking.status == 201)
                #expect(breaking.body.contains(#""name":"Counter","ty":"Service""#) && breaking.body.contains(#""revision":2"#), "\(breaking.body)")
                for shape in [#"{"uri":"\#(uri)","breaking":null}"#, #"{"uri":"\#(uri)","use_http_11":null}"#, #"{"uri":"\#(uri)","metadata":null}"#] {
                    let mismatch = try await f.request(.POST, "/deployments", raw: shape)
                    #expect(mismatch.status == 422, "\(shape): \(mismatch.body)")
                }
            }
        }
    }

    @Test("PATCH /deployments/{id} moves a deployment in place: its invocations reach the new address; PUT is 405 but on /v2; refusals in Restate's order")
    func update() async throws {
        try await IngressFixture.with(services: Self.counterAndLog) { f in
            let id = try #require(await f.ingress.deployments().first?.id)
            let missing = "dp_10000000000000000000000"
            let checks: [(HTTPMethod, String, String, Int, String)] = [
                (.PATCH, "/deployments/\(missing)", "{}", 404, #"{"message":"The requested deployment '\#(missing)' does not exist","restate_code":null}"#),
                (.PATCH, "/deployments/\(missing)", #"{"uri":"/relative"}"#, 400,
                 #"{"message":"The request field 'uri' is invalid. Reason: The provided uri /relative is not absolute, only absolute URIs can be used.","restate_code":null}"#),
                (.PATCH, "/deployments/\(missing)", #"{"uri":"http://127.0.0.1:1"}"#, 404, #"{"message":"The requested deployment '\#(missing)' does not exist","restate_code":null}"#),
                (.PATCH, "/deployments/\(id)", #"{"uri":5,"arn":7}"#, 422,
                 "Failed to deserialize the JSON body into the target type: data did not match any variant of untagged enum UpdateDeploymentRequest"),
                (.PATCH, "/deployments/\(id)", #"{"arn":"arn:aws:lambda:eu-central-1:1:function:f:1"}"#, 400,
                 #"{"message":"cannot update the deployment, as the deployment type is http while the update options are for type lambda","restate_code":null}"#),
                (.PUT, "/deployments/\(id)", "{}", 405, #"{"message":"PUT deployment is deprecated, use PATCH instead","restate_code":null}"#),
                (.PUT, "/v3/deployments/\(id)", "{}", 405, #"{"message":"PUT deployment is deprecated, use PATCH instead","restate_code":null}"#),
                (.PUT, "/deployments/\(id)", "[]", 422,
                 "Failed to deserialize the JSON body into the target type: data did not match any variant of untagged enum UpdateDeploymentRequest"),
                (.PATCH, "/deployments/nope", "{}", 400, "Invalid URL: Cannot parse `deployment` with value `nope`: bad format"),
            ]
            for (method, path, body, status, expected) in checks {
                let answer = try await f.request(method, path, raw: body)
                #expect(answer.status == status && answer.body == expected, "\(method) \(path) \(body): \(answer.status) \(answer.body)")
            }
            let unchanged = try await f.request(.PATCH, "/deployments/\(id)", raw: "{}")
            #expect(unchanged.status == 200)
            let detail = try unchanged.json()
            #expect(detail["uri"] as? String == f.recorderURL + "/" && detail["protocol_type"] as? String == "RequestResponse"
                    && detail["http_version"] as? String == "HTTP/1.1" && (detail["created_at"] as? String)?.hasSuffix("Z") == true, "\(unchanged.body)")
            #expect(unchanged.body.hasPrefix(#"{"id":"\#(id)","uri":"#), "Restate's field order: \(unchanged.body)")

            try await IngressFixture.withRecorder(Self.counterAndLog) { moved, port in
                let uri = "http://127.0.0.1:\(port)"
                let patched = try await f.request(.PATCH, "/deployments/\(id)", json: ["uri": uri, "additional_headers": ["X-Token": "t"]])
                #expect(patched.status == 200, "\(patched.body)")
                let body = try patched.json()
                #expect(body["id"] as? String == id && body["uri"] as? String == uri + "/")
                #expect(body["additional_headers"] as? [String: String] == ["x-token": "t"])
                #expect(await f.ingress.deployments().map(\.id) == [id], "updated in place, no new deployment")

                let (topic, _) = try await f.subscribedTopic("moved", to: "Log/append")
                try f.produce(topic, [(nil, "1"), (nil, "2")], partitions: 1)
                try await eventually("the invocations reached the deployment's new address") {
                    moved.records.filter { $0.outcome == .completed }.count == 2
                }
                #expect(f.recorder.records.isEmpty, "nothing reached the old address")

                // On API version 2, PUT is PATCH; a body without `uri` is Restate's Lambda form,
                // which changes only the headers.
                let put = try await f.request(.PUT, "/v2/deployments/\(id)", raw: #"{"additional_headers":{"x-token":"u"}}"#)
                #expect(put.status == 200, "\(put.body)")
                #expect(await f.ingress.deployment(id: id)?.additionalHeaders == ["x-token": "u"])
                #expect(await f.ingress.deployment(id: id)?.uri == uri)
            }
        }
    }

    static func serviceNames(_ result: AdminClient.Result) throws -> [String] {
        (try result.json()["services"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.sorted()
    }

    /// A recorder of `services` on `port` (that of a recorder stopped before) for `body`.
    static func withRecorder<T>(_ services: [RecorderConfiguration.Service], port: Int, _ body: () async throws -> T) async throws -> T {
        let recorder = InvocationRecorder(configuration: RecorderConfiguration(services: services))
        let (task, _) = try await IngressFixture.serve { ready in
            try await RecorderServer(recorder: recorder).run(host: "127.0.0.1", port: port, onReady: ready)
        }
        return try await IngressFixture.stopping(task) { try await body() }
    }
}
