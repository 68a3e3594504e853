import Foundation
import HarnessTestSupport
import KafkaIngress
import Testing

/// Restate's HTTP ingress on the embedded ingress, against services written with the official
/// Python SDK: how Restate's own tests read results back.
@Suite("Restate's HTTP ingress", .guarded)
struct HTTPIngressTests {
    /// Serves the fixture's ingress over HTTP for `body`, which gets a client of it.
    static func withHTTPIngress<T>(_ f: IngressFixture, _ body: (AdminClient) async throws -> T) async throws -> T {
        let ingress = f.ingress
        let (server, port) = try await IngressFixture.serve { ready in
            try await RestateHTTPIngress(ingress: ingress).run(host: "127.0.0.1", port: 0, onReady: ready)
        }
        return try await IngressFixture.stopping(server) { try await body(AdminClient(base: "http://127.0.0.1:\(port)")) }
    }

    @Test("calls answer with the handler's output and its invocation id; Kafka-fed state is read back through a call")
    func calls() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let (topic, _) = try await f.subscribedTopic("counts", to: "Counter/add")
                    try f.produce(topic, [("carol", "1"), ("carol", "2"), ("carol", "3")], partitions: 1)
                    try await eventually("the three records were added") {
                        try await f.ingress.invocations().filter { $0.key == "carol" && $0.status == .completed }.count == 3
                    }
                    let listed = try await f.request(.GET, "/deployments")
                    let deployment = try #require((try listed.json()["deployments"] as? [[String: Any]])?.first { $0["uri"] as? String == sdk.absoluteString })
                    #expect(deployment["min_protocol_version"] as? Int == 5 && deployment["max_protocol_version"] as? Int == 7,
                            "the SDK's range, as Restate lists it; invocations use 6, the highest Restate 1.7 picks")
                    let read = try await http.request(.POST, "/Counter/carol/add", raw: "0")
                    #expect(read.status == 200 && read.body == "6", "\(read.status) \(read.body)")
                    #expect(read.headers["content-type"] == "application/json")
                    let id = try #require(read.headers["x-restate-id"])
                    #expect(id.hasPrefix("inv_1") && id.count == 38)
                    #expect(try await f.ingress.invocations().first { $0.id == id }?.output == .number(6))
                }
            }
        }
    }

    @Test("a terminal failure answers with its code and Restate's error body; unknown services and bad paths are the ingress's 404s")
    func errors() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let failed = try await http.request(.POST, "/Echo/fail", raw: "{}")
                    #expect(failed.status == 409)
                    #expect(failed.body == #"{"code":409,"message":"refused on purpose","source":"invocation"}"#)
                    #expect(failed.headers["x-restate-error-source"] == "invocation")
                    #expect(failed.headers["x-restate-id"]?.hasPrefix("inv_1") == true)

                    let unknown = try await http.request(.POST, "/Nope/handler", raw: "{}")
                    #expect(unknown.status == 404)
                    #expect(unknown.body == #"{"code":404,"message":"service 'Nope' not found, make sure to register the service before calling it.","source":"ingress"}"#)
                    #expect(unknown.headers["x-restate-error-source"] == "ingress")

                    let noHandler = try await http.request(.POST, "/Echo/nope", raw: "{}")
                    #expect(noHandler.status == 404 && noHandler.body.contains("the handler 'nope' was not found"))
                    let noKey = try await http.request(.POST, "/Counter/add", raw: "1")
                    #expect(noKey.status == 404 && noKey.body.contains("bad path"), "an object needs its key in the path")
                }
            }
        }
    }

    @Test("/send answers 202 with the invocation id at once; a delayed send starts no sooner than its delay")
    func send() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let before = Int64(Date().timeIntervalSince1970 * 1000)
                    let sent = try await http.request(.POST, "/Counter/dave/add/send?delay=500ms", raw: "2")
                    #expect(sent.status == 202, "\(sent.body)")
                    let answer = try sent.json()
                    #expect(answer["status"] as? String == "Accepted")
                    #expect(answer["executionTime"] is String)
                    let id = try #require(answer["invocationId"] as? String)
                    try await eventually("the sent invocation completed") {
                        try await f.ingress.invocations().first { $0.id == id }?.status == .completed
                    }
                    let done = try #require(try await f.ingress.invocations().first { $0.id == id })
                    #expect(done.output == .number(2) && done.key == "dave")
                    #expect((done.startedAt ?? 0) - before >= 500, "started \((done.startedAt ?? 0) - before) ms after the request")

                    let badDelay = try await http.request(.POST, "/Counter/dave/add/send?delay=soon", raw: "2")
                    #expect(badDelay.status == 400)
                }
            }
        }
    }

    @Test("a workflow fed from Kafka waits for its durable promise; shared handlers called over HTTP peek at it and resolve it once; attach and output read its result; it runs once per id")
    func workflowPromises() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let (topic, id) = try await f.subscribedTopic("approvals", to: "Approval/run")
                    try f.produce(topic, [(key: "w1", value: #"{"item":"order-7"}"#)], partitions: 1)
                    try await eventually("the run waits for its promise") {
                        try await f.ingress.invocations(subscription: id).first?.status == .suspended
                    }
                    let notReady = try await http.request(.GET, "/restate/workflow/Approval/w1/output")
                    #expect(notReady.status == 470 && notReady.body.contains("has not completed yet"), "\(notReady.status) \(notReady.body)")
                    async let attached = http.request(.GET, "/restate/workflow/Approval/w1/attach")
                    let early = try await http.request(.POST, "/Approval/w1/peek", raw: "")
                    #expect(early.status == 200 && early.body == #""None""#, "\(early.status) \(early.body)")
                    let decided = try await http.request(.POST, "/Approval/w1/decide", raw: #""approved""#)
                    #expect(decided.status == 200 && decided.body == #""decided""#, "\(decided.status) \(decided.body)")
                    try await eventually("the run completed with the promise's value") {
                        try await f.ingress.invocations(subscription: id).first?.status == .completed
                    }
                    #expect(try await f.ingress.invocations(subscription: id).first?.output == .string("order-7: approved"))
                    let attach = try await attached
                    #expect(attach.status == 200 && attach.body == #""order-7: approved""#, "\(attach.status) \(attach.body)")
                    let output = try await http.request(.GET, "/restate/workflow/Approval/w1/output")
                    #expect(output.status == 200 && output.body == attach.body)
                    #expect(try await http.request(.GET, "/restate/workflow/Approval/nobody/output").status == 404)
                    let rerun = try await http.request(.POST, "/Approval/w1/run", raw: #"{"item":"again"}"#)
                    #expect(rerun.status == 409 && rerun.body.contains("the workflow method was already invoked"), "\(rerun.status) \(rerun.body)")
                    let again = try await http.request(.POST, "/Approval/w1/decide", raw: #""rejected""#)
                    #expect(again.status == 409 && again.body.contains("promise was already completed"), "\(again.status) \(again.body)")
                    let late = try await http.request(.POST, "/Approval/w1/peek", raw: "")
                    #expect(late.body == #""approved""#)
                }
            }
        }
    }

    @Test("awakeables: completed over HTTP (resolve, reject with 500) or by another handler, each resumes the handler waiting for it")
    func awakeables() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let (topic, id) = try await f.subscribedTopic("awakeables", to: "Echo/await_awakeable")
                    let names = ["resolved", "rejected", "by-handler"].map { uniqueName($0) }
                    try f.produce(topic, names.map { (key: $0, value: #"{"name":"\#($0)"}"#) }, partitions: 1)
                    try await eventually("all three wait for their awakeables") {
                        try await f.ingress.invocations(subscription: id).filter { $0.status == .suspended }.count == 3
                    }
                    var ids: [String] = []
                    for name in names {
                        let answer = try await http.request(.POST, "/Echo/awakeable_of", raw: #""\#(name)""#)
                        ids.append(try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8), options: .fragmentsAllowed) as? String))
                    }
                    #expect(ids.allSatisfy { $0.hasPrefix("sign_1") }, "\(ids)")
                    let resolved = try await http.request(.POST, "/restate/awakeables/\(ids[0])/resolve", raw: #""hello""#)
                    #expect(resolved.status == 202, "\(resolved.status) \(resolved.body)")
                    #expect(try await http.request(.POST, "/restate/awakeables/\(ids[1])/reject", raw: "nope").status == 202)
                    let byHandler = try await http.request(.POST, "/Echo/resolve_awakeable", json: ["id": ids[2], "value": "from a handler"])
                    #expect(byHandler.status == 200, "\(byHandler.body)")
                    try await eventually("all three ended") {
                        try await f.ingress.invocations(subscription: id).allSatisfy { $0.status == .completed || $0.status == .failed }
                    }
                    // A Service has no object key: the record's key is in the kafka.key header.
                    let all = try await f.ingress.invocations(subscription: id)
                    func of(_ name: String) -> InvocationView? {
                        all.first { $0.headers["kafka.key"] == Data(name.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
                    }
                    #expect(of(names[0])?.output == .string("hello"))
                    #expect(of(names[1])?.status == .failed)
                    #expect(of(names[1])?.error?.contains("[500] nope") == true, "\(of(names[1])?.error ?? "")")
                    #expect(of(names[2])?.output == .string("from a handler"))
                    let bad = try await http.request(.POST, "/restate/awakeables/not-an-id/resolve", raw: "1")
                    #expect(bad.status == 400)
                }
            }
        }
    }

    @Test("named signals and cancellation (from another handler, or PATCH /invocations/{id}/cancel): the signalled invocation resumes with the value, the cancelled ones fail with 409")
    func signalsAndCancellation() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let (topic, id) = try await f.subscribedTopic("signals", to: "Echo/await_signal")
                    let names = [uniqueName("signalled"), uniqueName("cancelled")]
                    try f.produce(topic, names.map { (key: $0, value: #"{"name":"\#($0)"}"#) }, partitions: 1)
                    try await eventually("both wait for their signal") {
                        try await f.ingress.invocations(subscription: id).filter { $0.status == .suspended }.count == 2
                    }
                    var ids: [String] = []
                    for name in names {
                        let answer = try await http.request(.POST, "/Echo/invocation_of", raw: #""\#(name)""#)
                        ids.append(try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8), options: .fragmentsAllowed) as? String))
                    }
                    #expect(try await http.request(.POST, "/Echo/send_signal", json: ["id": ids[0], "value": "go!"]).status == 200)
                    #expect(try await http.request(.POST, "/Echo/cancel", json: ["id": ids[1]]).status == 200)
                    // The admin API's cancel does the same; on an invocation that ended it is Restate's 409.
                    let third = uniqueName("admin-cancelled")
                    try f.produce(topic, [(key: third, value: #"{"name":"\#(third)"}"#)], partitions: 1)
                    try await eventually("the third waits for its signal") {
                        let filed = try await http.request(.POST, "/Echo/invocation_of", raw: #""\#(third)""#).body
                        let waiting = try await f.ingress.invocations(subscription: id).filter { $0.status == .suspended }.count
                        return filed.count > 2 && waiting >= 1
                    }
                    let thirdID = try #require(try JSONSerialization.jsonObject(
                        with: Data(try await http.request(.POST, "/Echo/invocation_of", raw: #""\#(third)""#).body.utf8), options: .fragmentsAllowed) as? String)
                    #expect(try await f.request(.PATCH, "/invocations/\(thirdID)/cancel").status == 202)
                    ids.append(thirdID)
                    try await eventually("both ended") {
                        try await f.ingress.invocations(subscription: id).allSatisfy { $0.status == .completed || $0.status == .failed }
                    }
                    let all = try await f.ingress.invocations(subscription: id)
                    let signalled = try #require(all.first { $0.id == ids[0] })
                    let cancelled = try #require(all.first { $0.id == ids[1] })
                    let cancelledByAdmin = try #require(all.first { $0.id == ids[2] })
                    #expect(signalled.output == .string("go!"))
                    #expect(cancelled.status == .failed && cancelled.error?.hasPrefix("[409]") == true, "\(cancelled.error ?? "")")
                    #expect(cancelledByAdmin.status == .failed && cancelledByAdmin.error?.hasPrefix("[409]") == true, "\(cancelledByAdmin.error ?? "")")
                    let again = try await f.request(.PATCH, "/invocations/\(ids[2])/cancel")
                    #expect(again.status == 409 && again.body.contains("was already completed"), "\(again.status) \(again.body)")
                }
            }
        }
    }

    @Test("an idempotency key makes a repeated call or send attach to the first invocation (the handler runs once); attach and output read results by invocation id or by that key")
    func idempotencyAndAttach() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await Self.withHTTPIngress(f) { http in
                    let key = ["idempotency-key": "payment-42"]
                    let first = try await http.request(.POST, "/Counter/erin/add", raw: "5", headers: key)
                    let again = try await http.request(.POST, "/Counter/erin/add", raw: "5", headers: key)
                    #expect(first.status == 200 && first.body == "5", "\(first.status) \(first.body)")
                    #expect(again.status == 200 && again.body == "5", "the repeat answers the first result, not 10: \(again.body)")
                    let id = try #require(first.headers["x-restate-id"])
                    #expect(again.headers["x-restate-id"] == id)
                    let sentAgain = try await http.request(.POST, "/Counter/erin/add/send", raw: "5", headers: key)
                    let sentAgainAnswer = try sentAgain.json()
                    #expect(sentAgain.status == 202 && sentAgainAnswer["status"] as? String == "PreviouslyAccepted", "\(sentAgain.body)")
                    // Without the key (or with another) it is a new invocation.
                    let other = try await http.request(.POST, "/Counter/erin/add", raw: "5", headers: ["idempotency-key": "payment-43"])
                    #expect(other.body == "10")
                    #expect(try await f.ingress.invocations().filter { $0.key == "erin" }.count == 2)

                    for path in ["/restate/invocation/\(id)/attach", "/restate/invocation/\(id)/output", "/restate/invocation/Counter/erin/add/payment-42/output"] {
                        let read = try await http.request(.GET, path)
                        #expect(read.status == 200 && read.body == "5" && read.headers["x-restate-id"] == id, "\(path): \(read.status) \(read.body)")
                    }
                    // A sleeping invocation: output is 470 until it ends; attach waits for it.
                    let napping = try await http.request(.POST, "/Echo/nap/send", raw: #"{"ms": 400}"#)
                    let napID = try #require((try napping.json())["invocationId"] as? String)
                    let early = try await http.request(.GET, "/restate/invocation/\(napID)/output")
                    #expect(early.status == 470, "\(early.status) \(early.body)")
                    let attached = try await http.request(.GET, "/restate/invocation/\(napID)/attach")
                    #expect(attached.status == 200 && attached.body.contains("400"), "\(attached.status) \(attached.body)")

                    let neverRan = String(id.dropLast()) + (id.hasSuffix("a") ? "b" : "a")
                    let unknown = try await http.request(.GET, "/restate/invocation/\(neverRan)/output")
                    #expect(unknown.status == 404 && unknown.body.contains("invocation not found"), "\(unknown.status) \(unknown.body)")
                    let unknownKey = try await http.request(.GET, "/restate/invocation/Counter/erin/add/never-sent/attach")
                    #expect(unknownKey.status == 404)
                    let malformed = try await http.request(.GET, "/restate/invocation/inv_nope/output")
                    #expect(malformed.status == 400 && malformed.body.contains("bad invocation id 'inv_nope'"), "\(malformed.body)")
                    let badPath = try await http.request(.GET, "/restate/invocation/\(id)/result")
                    #expect(badPath.status == 400 && badPath.body.contains("bad path, expected either /restate/invocation/:invocation_id/output"))
                    let workflowKey = try await http.request(.POST, "/Approval/w9/run/send", raw: #"{"item":"x"}"#, headers: key)
                    #expect(workflowKey.status == 400 && workflowKey.body.contains("cannot use the idempotency key with workflow handlers"), "\(workflowKey.body)")
                }
            }
        }
    }
}
