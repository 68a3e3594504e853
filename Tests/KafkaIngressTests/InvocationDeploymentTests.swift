import Foundation
import HarnessTestSupport
import KafkaIngress
import Testing

/// `PATCH /invocations/{id}/resume?deployment=…` and `/restart-as-new`, against two processes
/// serving the same Python SDK services as two deployments: each handler answers with the
/// process it ran in, so the answer tells which deployment an attempt reached.
@Suite("Resume and restart-as-new with a deployment", .guarded)
struct InvocationDeploymentTests {
    @Test("resume keeps the pinned deployment by default; `latest` or a deployment id move a paused invocation; refusals as Restate's")
    func resumeWithDeployment() async throws {
        try await withSDKEndpoint { first in
            try await withSDKEndpoint { second in
                try await IngressFixture.with(services: []) { f in
                    let a = try await Self.register(first, f)
                    try await HTTPIngressTests.withHTTPIngress(f) { http in
                        let x = try await Self.pausedWhere("x", f, http)
                        let y = try await Self.pausedWhere("y", f, http)
                        let b = try await Self.register(second, f)
                        #expect(a != b)

                        // Pinned to the first process, where it fails again and pauses again.
                        for query in ["", "?deployment=keep", "?deployment=Keep"] {
                            let kept = try await f.request(.PATCH, "/invocations/\(x)/resume\(query)")
                            #expect(kept.status == 200, "\(query): \(kept.body)")
                            try await eventually("x paused again on its pinned deployment") { try await Self.view(x, f)?.status == .paused }
                        }
                        let recorder = try #require(await f.ingress.deployments().first { $0.uri == f.recorderURL }?.id)
                        let refusals: [(String, Int, String)] = [
                            ("?deployment=dp_10000000000000000000000", 400, "The given deployment was not found when trying to resume the invocation '\(x)'."),
                            ("?deployment=nope", 400, "The query parameter 'deployment' is invalid. Reason: bad format"),
                            ("?deployment=\(recorder)", 400,
                             "The invocation '\(x)' is running on protocol version '6', while the chosen deployment '\(recorder)' supports the range 5..=5."),
                        ]
                        for (query, status, message) in refusals {
                            let refused = try await f.request(.PATCH, "/invocations/\(x)/resume\(query)")
                            #expect(refused.status == status && refused.body == #"{"message":"\#(message)","restate_code":null}"#, "\(query): \(refused.body)")
                        }
                        #expect(try await Self.view(x, f)?.status == .paused, "a refused resume leaves it paused")

                        let moved = try await f.request(.PATCH, "/invocations/\(x)/resume?deployment=\(b)")
                        #expect(moved.status == 200, "\(moved.body)")
                        let latest = try await f.request(.PATCH, "/invocations/\(y)/resume?deployment=latest")
                        #expect(latest.status == 200, "\(latest.body)")
                        for id in [x, y] {
                            try await eventually("\(id) finished on the second process") { try await Self.view(id, f)?.status == .completed }
                            guard case .object(let answer)? = try await Self.view(id, f)?.output else { Issue.record("no output"); continue }
                            #expect(answer["first"] != answer["now"], "the run journaled on the first process replays on the second: \(answer)")
                        }
                        let completed = try await f.request(.PATCH, "/invocations/\(x)/resume?deployment=latest")
                        #expect(completed.status == 409 && completed.body.contains("is completed, cannot be resumed."), "\(completed.body)")
                    }
                }
            }
        }
    }

    @Test("restart-as-new: a new id with the same partition key from the old input, on the latest deployment unless `keep`; from a journal prefix; refusals")
    func restartAsNew() async throws {
        try await withSDKEndpoint { first in
            try await withSDKEndpoint { second in
                try await IngressFixture.with(services: []) { f in
                    _ = try await Self.register(first, f)
                    try await HTTPIngressTests.withHTTPIngress(f) { http in
                        let done = try await Self.call(http, "/Pinned/process/send", #""p""#, f)
                        guard case .number(let firstProcess)? = try await Self.view(done, f)?.output else { Issue.record("no output"); return }
                        _ = try await Self.register(second, f)

                        var processes: [String: Double] = [:]
                        for query in ["", "?deployment=keep"] {
                            let restarted = try await f.request(.PATCH, "/invocations/\(done)/restart-as-new\(query)")
                            #expect(restarted.status == 200, "\(query): \(restarted.body)")
                            let newID = try #require(try restarted.json()["new_invocation_id"] as? String)
                            #expect(restarted.body == #"{"new_invocation_id":"\#(newID)"}"#)
                            #expect(newID != done && newID.count == 38 && newID.prefix(16) == done.prefix(16), "same partition key: \(newID) \(done)")
                            try await eventually("the restarted invocation completed") { try await Self.view(newID, f)?.status == .completed }
                            let view = try #require(try await Self.view(newID, f))
                            #expect(view.target == "Pinned/process" && view.subscription == "")
                            guard case .number(let process)? = view.output else { Issue.record("no output"); continue }
                            processes[query] = process
                        }
                        #expect(processes[""] != firstProcess, "the default is the latest deployment")
                        #expect(processes["?deployment=keep"] == firstProcess, "keep: the deployment the old one ran on")

                        // Echo/once runs two side effects. From entry 2 (the first run and its
                        // completion), the first replays and only the second runs again.
                        let once = try await Self.call(http, "/Echo/once/send", #"{"name":"r"}"#, f)
                        let fromPrefix = try await f.request(.PATCH, "/invocations/\(once)/restart-as-new?from=2&deployment=keep")
                        #expect(fromPrefix.status == 200, "\(fromPrefix.body)")
                        let prefixed = try #require(try fromPrefix.json()["new_invocation_id"] as? String)
                        try await eventually("restarted from the prefix") { try await Self.view(prefixed, f)?.status == .completed }
                        #expect(try await Self.view(prefixed, f)?.output == .object(["results": .array([.string("done r-1"), .string("done r-2")]),
                                                                                     "runs": .array([.number(1), .number(2)])]))
                        let fromStart = try await f.request(.PATCH, "/invocations/\(once)/restart-as-new?deployment=keep")
                        let again = try #require(try fromStart.json()["new_invocation_id"] as? String)
                        try await eventually("restarted from the start") { try await Self.view(again, f)?.status == .completed }
                        #expect(try await Self.view(again, f)?.output == .object(["results": .array([.string("done r-1"), .string("done r-2")]),
                                                                                  "runs": .array([.number(2), .number(3)])]))

                        // A copied one-way call was sent by the old invocation: it is not sent again.
                        let sender = try await Self.call(http, "/FanOut/send_then_run/send", #"{"key":"only-once"}"#, f)
                        let resent = try await f.request(.PATCH, "/invocations/\(sender)/restart-as-new?from=3&deployment=keep")
                        let copy = try #require(try resent.json()["new_invocation_id"] as? String, "\(resent.body)")
                        try await eventually("restarted after the send") { try await Self.view(copy, f)?.status == .completed }
                        #expect(await f.ingress.waitUntilIdle(timeout: .seconds(30)))
                        let adds = try await f.ingress.invocations().filter { $0.target == "Counter/add" && $0.key == "only-once" }
                        #expect(adds.count == 1, "the send in the copied prefix went once: \(adds.map(\.id))")

                        let paused = try await Self.pausedWhere("z", f, http)
                        let missing = "inv_1" + String(repeating: "0", count: 32) + "1"
                        let refusals: [(String, Int, String)] = [
                            ("\(once)/restart-as-new?from=99", 400,
                             #"{"message":"The prefix of the journal '\#(once)' up to 'from' (included) contains some Commands without respective Completions.","restate_code":null}"#),
                            ("\(once)/restart-as-new?from=x", 400, "Failed to deserialize query string: invalid digit found in string"),
                            ("\(once)/restart-as-new?from=4294967296", 400, "Failed to deserialize query string: number too large to fit in target type"),
                            ("\(paused)/restart-as-new", 409, #"{"message":"The invocation '\#(paused)' is still running.","restate_code":null}"#),
                            ("\(missing)/restart-as-new", 404, #"{"message":"The requested invocation '\#(missing)' does not exist","restate_code":null}"#),
                            ("\(once)/restart-as-new?deployment=dp_10000000000000000000000", 400,
                             #"{"message":"The given deployment was not found when trying to restart as new the invocation '\#(once)'.","restate_code":null}"#),
                        ]
                        for (path, status, body) in refusals {
                            let refused = try await f.request(.PATCH, "/invocations/\(path)")
                            #expect(refused.status == status && refused.body == body, "\(path): \(refused.status) \(refused.body)")
                        }
                        #expect(try await f.request(.PATCH, "/invocations/\(done)/purge-journal").status == 200)
                        let purged = try await f.request(.PATCH, "/invocations/\(done)/restart-as-new")
                        #expect(purged.status == 410 && purged.body.contains("the input is not available"), "\(purged.body)")
                    }
                }
            }
        }
    }

    static func register(_ sdk: URL, _ f: IngressFixture) async throws -> String {
        let registered = try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true])
        try #require(registered.status == 201, "\(registered.body)")
        return try #require(try registered.json()["id"] as? String)
    }

    static func view(_ id: String, _ f: IngressFixture) async throws -> InvocationView? {
        try await f.ingress.invocations().first { $0.id == id }
    }

    /// Sends a call through the HTTP ingress and waits for it to complete; returns its id.
    static func call(_ http: AdminClient, _ path: String, _ body: String, _ f: IngressFixture) async throws -> String {
        let sent = try await http.request(.POST, path, raw: body)
        try #require(sent.status == 202, "\(sent.body)")
        let id = try #require(try sent.json()["invocationId"] as? String)
        try await eventually("\(path) completed") { try await view(id, f)?.status == .completed }
        return id
    }

    /// A `Pinned/where` invocation, paused after its one attempt on the deployment it pinned.
    static func pausedWhere(_ name: String, _ f: IngressFixture, _ http: AdminClient) async throws -> String {
        let sent = try await http.request(.POST, "/Pinned/where/send", raw: "\"\(name)\"")
        try #require(sent.status == 202, "\(sent.body)")
        let id = try #require(try sent.json()["invocationId"] as? String)
        try await eventually("\(name) paused") { try await view(id, f)?.status == .paused }
        return id
    }
}
