import Foundation
import HarnessTestSupport
import KafkaIngress
import NIOHTTP1
import Testing

/// Restate 1.7's `/restate/attach/{id}` and `/restate/output/{id}` on the embedded ingress,
/// against a Python SDK handler that sleeps durably.
@Suite("Restate's /restate/attach and /restate/output", .guarded)
struct RestateAPIReadTests {
    @Test("output is 470 until the invocation ends, attach waits for it; the path is judged before the method")
    func attachAndOutput() async throws {
        try await withSDKEndpoint { sdk in
            try await IngressFixture.with(services: []) { f in
                #expect(try await f.request(.POST, "/deployments", json: ["uri": sdk.absoluteString, "use_http_11": true]).status == 201)
                try await HTTPIngressTests.withHTTPIngress(f) { http in
                    let napping = try await http.request(.POST, "/Echo/nap/send", raw: #"{"ms": 400}"#)
                    let id = try #require((try napping.json())["invocationId"] as? String)
                    let early = try await http.request(.GET, "/restate/output/\(id)")
                    #expect(early.status == 470 && early.body == #"{"code":470,"message":"the invocation exists but has not completed yet","source":"ingress"}"#,
                            "\(early.status) \(early.body)")
                    let attached = try await http.request(.GET, "/restate/attach/\(id)")
                    #expect(attached.status == 200 && attached.body == #"{"ms": 400}"# && attached.headers["x-restate-id"] == id, "\(attached.status) \(attached.body)")
                    let output = try await http.request(.GET, "/restate/output/\(id)")
                    #expect(output.status == 200 && output.body == attached.body)

                    let unknown = "inv_1" + String(repeating: "0", count: 32) + "1"
                    let answers: [(HTTPMethod, String, Int, String)] = [
                        (.GET, "/restate/attach/\(unknown)", 404, #"{"code":404,"message":"invocation not found","source":"ingress"}"#),
                        (.POST, "/restate/attach/\(id)", 405, #"{"code":405,"message":"method not allowed","source":"ingress"}"#),
                        (.POST, "/restate/output/inv_nope", 400, #"{"code":400,"message":"bad invocation id 'inv_nope': unrecognized codec version","source":"ingress"}"#),
                        (.GET, "/restate/output/\(id)/extra", 400,
                         #"{"code":400,"message":"\#(RestateHTTPIngressPaths.badRestateAPIPath)","source":"ingress"}"#),
                    ]
                    for (method, path, status, body) in answers {
                        let answer = try await http.request(method, path)
                        #expect(answer.status == status && answer.body == body && answer.headers["x-restate-error-source"] == "ingress",
                                "\(method) \(path): \(answer.status) \(answer.body)")
                    }
                }
            }
        }
    }
}

/// Restate's text for a path under `/restate/` that fits none of its forms.
enum RestateHTTPIngressPaths {
    static let badRestateAPIPath = "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, "
        + "/restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id, or /restate/lookup"
}
