import AsyncHTTPClient
import HTTPServing
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Stands between the ingress and a deployment (the recorder), passing requests on and keeping
/// the `traceparent` header of every invocation request: what a handler's SDK would see. While
/// `failing`, it answers invocations with HTTP 500 instead (a failed attempt).
final class HeaderRecordingProxy: Sendable {
    let url: String
    private let state = Mutex<(traceParents: [String?], failing: Bool)>(([], false))

    private init(url: String) {
        self.url = url
    }

    /// The `traceparent` of each invocation request, in arrival order (nil: none was sent).
    var traceParents: [String?] { state.withLock { $0.traceParents } }

    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }

    /// Runs `body` with a proxy to `upstream` listening, and stops it afterwards.
    static func with<T>(upstream: String, _ body: (HeaderRecordingProxy) async throws -> T) async throws -> T {
        let box = Mutex<HeaderRecordingProxy?>(nil)
        @Sendable func forward(_ request: Request, path: String) async throws -> Response {
            guard let proxy = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            if path.hasPrefix("/invoke/") {
                let failing = proxy.state.withLock { state in
                    state.traceParents.append(request.headers[.init("traceparent")!])
                    return state.failing
                }
                if failing { return Response(status: .internalServerError) }
            }
            var outgoing = HTTPClientRequest(url: upstream + path)
            outgoing.method = .init(rawValue: request.method.rawValue)
            for field in request.headers where field.name != .contentLength && field.name != .transferEncoding {
                outgoing.headers.add(name: field.name.rawName, value: field.value)
            }
            outgoing.body = .bytes(try await request.body.collect(upTo: 64 << 20))
            let answer = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(30))
            let body = try await answer.body.collect(upTo: 64 << 20)
            var headers = HTTPFields()
            if let contentType = answer.headers.first(name: "content-type") { headers[.contentType] = contentType }
            return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: body))
        }
        let (task, port) = try await IngressFixture.serve { ready in
            let router = Router()
            router.get("/discover") { request, _ in try await forward(request, path: "/discover") }
            router.post("/invoke/:service/:handler") { request, _ in try await forward(request, path: request.uri.path) }
            var logger = Logger(label: "proxy")
            logger.logLevel = .warning
            try await HTTPServing.serve(router, host: "127.0.0.1", port: 0, logger: logger, onReady: ready)
        }
        let proxy = HeaderRecordingProxy(url: "http://127.0.0.1:\(port)")
        box.withLock { $0 = proxy }
        return try await IngressFixture.stopping(task) { try await body(proxy) }
    }
}
