import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RestateProtocol

/// The recorder in front of real deployments (services written with a Restate SDK): the ingress
/// is given `http://RECORDER/deployments/NAME` as the deployment's URL, and every request it
/// sends there (discovery, invocation attempts) is forwarded unchanged to the deployment, and the
/// answer sent back unchanged. On the way, each invocation attempt is recorded with its timing,
/// headers, input and outcome, so the scenario expectations judge real handlers as they judge
/// simulated ones.
struct PassThrough: Sendable {
    /// Deployment name → its base URL (no trailing slash).
    let deployments: [String: String]
    let recorder: InvocationRecorder

    /// How long one forwarded request may take: a request-response attempt lasts until the
    /// handler ends or suspends, and the ingress decides when to give up on it.
    static let timeout: TimeAmount = .minutes(10)
    /// Headers that describe one hop's connection, not the request.
    static let hopHeaders: Set<String> = ["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]

    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// The upstream URL for `/deployments/NAME/REST`, and the invoked handler when REST is
    /// `invoke/SERVICE/HANDLER`; nil when NAME is no deployment.
    func route(_ parts: [Substring], query: Substring?) -> (url: String, invoked: (service: String, handler: String)?)? {
        guard parts.count >= 3, let base = deployments[String(parts[2])] else { return nil }
        let rest = parts.dropFirst(3)
        var invoked: (String, String)?
        if rest.count == 3, rest.first == "invoke" {
            let service = String(rest[rest.startIndex + 1]), handler = String(rest[rest.startIndex + 2])
            invoked = (service.removingPercentEncoding ?? service, handler.removingPercentEncoding ?? handler)
        }
        return (base + "/" + rest.joined(separator: "/") + (query.map { "?\($0)" } ?? ""), invoked)
    }

    func forward(_ method: HTTPMethod, to url: String, headers: HTTPHeaders, body: ByteBuffer,
                 invoked: (service: String, handler: String)?) async -> Answer {
        let start = InvocationRecorder.nowMicros()
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers where !Self.hopHeaders.contains(name.lowercased()) { request.headers.add(name: name, value: value) }
        if body.readableBytes > 0 || method == .POST { request.body = .bytes(body) }
        let answer: Answer
        var failure: String?
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: Self.timeout)
            let bytes = try await response.body.collect(upTo: RecorderServer.maxBodyBytes)
            var kept = HTTPHeaders()
            for (name, value) in response.headers where !Self.hopHeaders.contains(name.lowercased()) { kept.add(name: name, value: value) }
            answer = Answer(status: response.status, headers: kept, body: bytes)
            if response.status != .ok {
                failure = "HTTP \(response.status.code) from the deployment: \(String(buffer: bytes).prefix(500))"
            }
        } catch {
            failure = "the deployment at \(url) did not answer: \(error)"
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain")
            answer = Answer(status: .badGateway, headers: headers, body: ByteBuffer(string: "recorder pass-through: \(failure!)"))
        }
        if url.hasSuffix("/discover"), answer.status == .ok,
           let manifest = try? JSONDecoder().decode(EndpointManifest.self, from: Data(answer.body.readableBytesView)) {
            recorder.noteDiscovered(manifest)
        }
        if let invoked {
            recorder.recordForwarded(service: invoked.service, handler: invoked.handler, request: Array(buffer: body),
                                     response: Array(buffer: answer.body), failure: failure,
                                     start: start, end: InvocationRecorder.nowMicros())
        }
        return answer
    }
}
