import Foundation
import HarnessTestSupport
import HTTPServing
import Hummingbird
@testable import KafkaIngress
import Logging
import NIOCore
import Testing

/// The invocation hot path's own HTTP/1.1 requests (encoded by hand, not by NIO's encoder), as a
/// real server parses them.
@Suite("HTTP/1.1 connection pool", .guarded)
struct HTTP1ConnectionPoolTests {
    @Test("a POST arrives with its path, host, headers and body as sent, twice through the pool")
    func postsAsSent() async throws {
        try await withEchoServer { port in
            let pool = HTTP1ConnectionPool(host: "127.0.0.1", port: port)
            for round in 1...2 {
                let body = ByteBuffer(bytes: [0, 1, 2, 0x0D, 0x0A, 255] + Array("round \(round)".utf8))
                let response = try await pool.post("/invoke/Svc/handler", headers: [("content-type", "application/vnd.restate.invocation.v5"),
                                                                                      ("x-custom", "a: b, c")],
                                                   body: body, timeout: .seconds(10))
                #expect(response.status == 200)
                let echoed = try JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))
                #expect(echoed["method"] == "POST")
                #expect(echoed["path"] == "/invoke/Svc/handler")
                #expect(echoed["host"] == "127.0.0.1:\(port)")
                #expect(echoed["content-type"] == "application/vnd.restate.invocation.v5")
                #expect(echoed["x-custom"] == "a: b, c")
                #expect(echoed["body"] == Data(body.readableBytesView).base64EncodedString())
            }
            await pool.shutdown()
        }
    }

    @Test("a header that would end its line early is refused before anything is sent")
    func refusesHeaderInjection() throws {
        for header in [("x-a", "b\r\nx-injected: 1"), ("x-a", "b\nc"), ("x a", "b"), ("x:a", "b"), ("", "b")] {
            #expect(throws: HTTP1PoolError.self, "\(header)") {
                _ = try HTTP1ConnectionPool.encodePost("/", host: "h:1", headers: [header], body: ByteBuffer())
            }
        }
        let encoded = try HTTP1ConnectionPool.encodePost("/p", host: "h:1", headers: [("a", "b")], body: ByteBuffer(string: "xy"))
        #expect(String(buffer: encoded) == "POST /p HTTP/1.1\r\nhost: h:1\r\ncontent-length: 2\r\na: b\r\n\r\nxy")
    }

    /// A Hummingbird server answering each POST with what it parsed, as JSON.
    private func withEchoServer(_ body: (Int) async throws -> Void) async throws {
        let (task, port) = try await IngressFixture.serve { ready in
            let router = Router()
            router.post("/invoke/:service/:handler") { request, _ -> Response in
                var echoed = ["method": request.method.rawValue, "path": request.uri.path]
                for field in request.headers { echoed[field.name.canonicalName] = field.value }
                echoed["host"] = request.head.authority
                echoed["body"] = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView).base64EncodedString()
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(data: try JSONEncoder().encode(echoed))))
            }
            var logger = Logger(label: "echo")
            logger.logLevel = .warning
            try await HTTPServing.serve(router, host: "127.0.0.1", port: 0, logger: logger, onReady: ready)
        }
        try await IngressFixture.stopping(task) { try await body(port) }
    }
}
