import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Scenarios

extension ScenarioExecution {
    /// Sends one request to the ingress's admin API and checks its answer: what an operator does
    /// mid-stream (patch a cluster, remove or re-register a deployment), and what they expect back.
    func perform(_ admin: AdminStep) async throws {
        let base = try await environment.ingress.adminURL()
        let path = try await resolve(admin.path, base: base)
        var body: String?
        if let text = admin.body { body = try await resolve(text, base: base) }
        var request = HTTPClientRequest(url: base + path)
        request.method = HTTPMethod(rawValue: admin.method)
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        let status = Int(response.status.code)
        let answer = "HTTP \(status)" + (text.isEmpty ? "" : ": \(text.prefix(500))")
        if let wanted = admin.status, status != wanted {
            throw ScenarioError("\(admin.method) \(path) answered \(answer); expected HTTP \(wanted)")
        }
        if admin.status == nil, !(200..<300).contains(status) {
            throw ScenarioError("\(admin.method) \(path) answered \(answer); expected a success (2xx)")
        }
        if let expected = admin.expectBody, let mismatch = Self.jsonMismatch(expected: expected, actual: text) {
            throw ScenarioError("\(admin.method) \(path) answered \(answer); \(mismatch)")
        }
    }

    /// Replaces `{recorder}`, `{subscription:NAME}` and `{deployment:NAME}` (the id of the
    /// deployment registered for the recorder, or for a declared one, looked up by its address).
    private func resolve(_ text: String, base: String) async throws -> String {
        var out = text.replacingOccurrences(of: "{recorder}", with: environment.recorderURL)
        for (name, id) in ids { out = out.replacingOccurrences(of: "{subscription:\(name)}", with: id) }
        while let open = out.range(of: "{deployment:"), let close = out[open.upperBound...].firstIndex(of: "}") {
            let name = String(out[open.upperBound..<close])
            out.replaceSubrange(open.lowerBound...close, with: try await deploymentID(name, base: base))
        }
        if let unknown = out.range(of: #"\{(subscription|deployment):[^}]*\}"#, options: .regularExpression) {
            throw ScenarioError("admin: \(out[unknown]) names nothing this scenario has")
        }
        return out
    }

    private func deploymentID(_ name: String, base: String) async throws -> String {
        let uri = name == "recorder" ? environment.recorderURL : "\(environment.recorderURL)/deployments/\(name)"
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/deployments"), timeout: .seconds(30))
        let body = Data((try await response.body.collect(upTo: 16 << 20)).readableBytesView)
        let answer = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        let list = answer?["deployments"] as? [[String: Any]] ?? []
        let uris = list.map { ($0["uri"] as? String) ?? "" }
        guard let index = uris.firstIndex(where: { $0.trimmingCharacters(in: CharacterSet(charactersIn: "/")) == uri }), let id = list[index]["id"] as? String else {
            throw ScenarioError("admin: no deployment at \(uri) is registered (GET /deployments lists \(uris.joined(separator: ", ")))")
        }
        return id
    }

    /// Why `actual` does not contain `expected`, if it does not: every key of an expected object
    /// with an equal value (recursively), arrays element by element, scalars equal.
    static func jsonMismatch(expected: String, actual: String) -> String? {
        let parse = { (text: String) in try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
        guard let e = parse(expected) else { return "the expected body is not JSON: \(expected)" }
        guard let a = parse(actual) else { return "the answer is not JSON" }
        func mismatch(_ e: Any, _ a: Any, _ path: String) -> String? {
            switch (e, a) {
            case (let e as [String: Any], let a as [String: Any]):
                for key in e.keys.sorted() {
                    guard let value = a[key] else { return "\(path)\(key) is missing" }
                    if let m = mismatch(e[key]!, value, "\(path)\(key).") { return m }
                }
                return nil
            case (let e as [Any], let a as [Any]):
                guard e.count == a.count else { return "\(path.isEmpty ? "the answer" : String(path.dropLast())) has \(a.count) element(s), expected \(e.count)" }
                for (i, (x, y)) in zip(e, a).enumerated() { if let m = mismatch(x, y, "\(path)\(i).") { return m } }
                return nil
            default:
                return (e as? NSObject)?.isEqual(a) == true ? nil
                    : "\(path.isEmpty ? "the answer" : String(path.dropLast())) is \(describe(a)), expected \(describe(e))"
            }
        }
        func describe(_ value: Any) -> String {
            (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
        }
        return mismatch(e, a, "")
    }
}
