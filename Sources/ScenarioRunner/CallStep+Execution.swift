import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Scenarios

extension ScenarioExecution {
    /// Sends the request until the ingress answers with the expected status and output, or the
    /// step's time is up; the error then quotes the last answer.
    func perform(_ call: CallStep) async throws {
        let base = try await environment.ingress.httpIngressURL()
        let (method, path, body) = Self.request(of: call)
        let timeout = Duration.milliseconds(call.timeoutMs)
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        let matched = try await Polling.until(timeout: timeout, every: .milliseconds(100)) {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            if let body {
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            // An attach waits for the result: give it what is left of the step's time.
            let remaining = max(deadline - ContinuousClock.now, .milliseconds(100))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(remaining.seconds * 1000)))
                let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
                last = "HTTP \(response.status.code)" + (text.isEmpty ? "" : ": \(text.prefix(500))")
                return Int(response.status.code) == call.status && (call.output.map { Self.sameJSON($0, text) } ?? true)
            } catch {
                last = "\(error)"
                return false
            }
        }
        guard matched else {
            let wanted = "HTTP \(call.status)" + (call.output.map { ": \($0)" } ?? "")
            throw ScenarioError("\(method) \(path) (\(call.summary)) did not answer \(wanted) within \(call.timeoutMs) ms; last answer: \(last)")
        }
    }

    /// Method, path (segments percent-encoded) and JSON body of the request.
    static func request(of call: CallStep) -> (HTTPMethod, String, String?) {
        func segment(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
        }
        let key = call.key.map { "/" + segment($0) } ?? ""
        switch call.request {
        case .invoke(let service, let handler, let input):
            return (.POST, "/\(segment(service))\(key)/\(segment(handler))", input)
        case .attachWorkflow(let name):
            return (.GET, "/restate/workflow/\(segment(name))\(key)/attach", nil)
        case .workflowOutput(let name):
            return (.GET, "/restate/workflow/\(segment(name))\(key)/output", nil)
        }
    }

    /// Equal as JSON values (so `6`, `6.0` and ` 6` agree, and key order does not matter), or
    /// as text when either side is not JSON.
    static func sameJSON(_ expected: String, _ actual: String) -> Bool {
        let parse = { (text: String) in try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? NSObject }
        guard let e = parse(expected), let a = parse(actual) else {
            return expected.trimmingCharacters(in: .whitespacesAndNewlines) == actual.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return e.isEqual(a)
    }
}
