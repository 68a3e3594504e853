import Foundation
import HarnessTestSupport
import Testing
import RestateProtocol
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The protocol pieces against services written with the official Restate Python SDK (1.3.0),
/// served by hypercorn over HTTP/1.1.
@Suite("Interop with restate-sdk (Python)", .guarded, .serialized)
struct SDKInteropTests {
    @Test("discovery, asked for manifest versions 1 to 4 as Restate asks, lists the services, handler kinds, lazy state and retry policies")
    func discovery() async throws {
        try await withSDKEndpoint { base in
            let manifest = try await discover(base)
            #expect(manifest.protocolMode == "REQUEST_RESPONSE")
            #expect(manifest.supportsOurProtocol)
            let counter = try #require(manifest.services.first { $0.name == "Counter" })
            #expect(counter.ty == .virtualObject)
            #expect(counter.handlers.first { $0.name == "add" }?.isExclusive(in: counter) == true)
            let echo = try #require(manifest.services.first { $0.name == "Echo" })
            #expect(echo.ty == .service)
            #expect(echo.handlers.allSatisfy { !$0.isExclusive(in: echo) })
            // Only a v4 manifest carries these; the SDK refuses to describe Flaky as v3.
            let flaky = try #require(manifest.services.first { $0.name == "Flaky" })
            #expect(flaky.retryPolicyMaxAttempts == 2 && flaky.retryPolicyOnMaxAttempts == "KILL" && flaky.retryPolicyInitialInterval == 10)
            #expect(flaky.handlers.first { $0.name == "fails_longer" }?.retryPolicyMaxAttempts == 4)
            #expect(manifest.services.first { $0.name == "LazyCounter" }?.enableLazyState == true)
        }
    }

    @Test("a Counter object adds 1, 2, 3 to give 1, 3, 6, with its state carried between calls")
    func counter() async throws {
        try await withSDKEndpoint { base in
            var state: [[UInt8]: [UInt8]] = [:]
            var outputs: [String] = []
            for (i, n) in [1, 2, 3].enumerated() {
                let request = InvocationRequest(id: Array("inv-\(i)".utf8), debugId: "inv_\(i)", key: "alice", state: state, input: Array("\(n)".utf8))
                let response = try await invoke(base, "Counter", "add", request)
                guard case .value(let v) = response.outcome else { Issue.record("unexpected \(response.outcome)"); return }
                outputs.append(String(decoding: v, as: UTF8.self))
                #expect(response.ended)
                for mutation in response.stateMutations {
                    if case .set(let k, let v) = mutation { state[k] = v }
                }
            }
            #expect(outputs == ["1", "3", "6"])
            #expect(state[Array("count".utf8)].map { String(decoding: $0, as: UTF8.self) } == "6")

            let cleared = try await invoke(base, "Counter", "reset", InvocationRequest(id: [9], debugId: "inv_9", key: "alice", state: state, input: []))
            #expect(cleared.stateMutations == [.clear(key: Array("count".utf8))])
        }
    }

    @Test("protocol 6: the SDK takes a v6 request, and the random seed it carries is what ctx.random draws from")
    func protocolSix() async throws {
        try await withSDKEndpoint { base in
            #expect(try await discover(base).negotiatedProtocolVersion == 6, "the Python SDK speaks 5 to 7; Restate 1.7 picks 6")
            func roll(seed: UInt64) async throws -> String {
                var request = InvocationRequest(id: [5], debugId: "inv_5", input: Array("{}".utf8))
                request.protocolVersion = 6
                request.randomSeed = seed
                let response = try await invoke(base, "Echo", "dice", request)
                guard case .value(let v) = response.outcome else { throw EndpointError(message: "unexpected \(response.outcome)") }
                return String(decoding: v, as: UTF8.self)
            }
            let first = try await roll(seed: 42)
            #expect(try await roll(seed: 42) == first, "the same seed draws the same number")
            #expect(try await roll(seed: 43) != first, "the seed, not the invocation id, decides (same id, other seed)")
        }
    }

    @Test("headers and the input reach a Service handler exactly")
    func headers() async throws {
        try await withSDKEndpoint { base in
            let headers = [("kafka.offset", "41"), ("kafka.topic", "orders"), ("kafka.key", "YWxpY2U=")]
            let request = InvocationRequest(id: [7], debugId: "inv_7", headers: headers, input: Array("{\"n\":1}".utf8))
            let response = try await invoke(base, "Echo", "headers", request)
            guard case .value(let v) = response.outcome else { Issue.record("unexpected \(response.outcome)"); return }
            let json = try JSONSerialization.jsonObject(with: Data(v)) as? [String: Any]
            #expect(json?["headers"] as? [String: String] == Dictionary(uniqueKeysWithValues: headers))
            #expect((json?["value"] as? [String: Int]) == ["n": 1])
        }
    }

    @Test("a terminal error comes back as a failed output")
    func terminalError() async throws {
        try await withSDKEndpoint { base in
            let response = try await invoke(base, "Echo", "fail", InvocationRequest(id: [8], debugId: "inv_8", input: Array("{}".utf8)))
            #expect(response.outcome == .failure(InvocationFailure(code: 409, message: "refused on purpose")))
        }
    }

    // MARK: Helpers

    private func discover(_ base: URL) async throws -> EndpointManifest {
        var request = URLRequest(url: base.appendingPathComponent("discover"))
        request.setValue(EndpointManifest.acceptedContentTypes, forHTTPHeaderField: "accept")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        return try JSONDecoder().decode(EndpointManifest.self, from: data)
    }

    private func invoke(_ base: URL, _ service: String, _ handler: String, _ invocation: InvocationRequest) async throws -> InvocationResponse {
        var request = URLRequest(url: base.appendingPathComponent("invoke/\(service)/\(handler)"))
        request.httpMethod = "POST"
        request.setValue(serviceProtocolContentType(invocation.protocolVersion), forHTTPHeaderField: "content-type")
        request.httpBody = Data(invocation.encoded())
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? -1
        guard status == 200 else {
            throw EndpointError(message: "POST invoke/\(service)/\(handler): HTTP \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return try InvocationResponse(decoding: Array(data))
    }
}

struct EndpointError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
