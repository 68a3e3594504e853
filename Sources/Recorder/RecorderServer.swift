import Foundation
import Hummingbird
import NIOCore
import HTTPServing
import Logging
import RestateProtocol

/// Serves the recorder over HTTP/1.1: `GET /discover`, `POST /invoke/{service}/{handler}` (the
/// Restate service protocol), and `GET /records` / `DELETE /records` for whoever observes, `GET /stats` for counts.
public struct RecorderServer: Sendable {
    public let recorder: InvocationRecorder

    public init(recorder: InvocationRecorder) {
        self.recorder = recorder
    }

    /// Serves until the calling task is cancelled; `onReady` gets the bound port.
    public func run(host: String, port: Int, logger: Logger = Logger(label: "recorder"),
                    onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await HTTPServing.serve(router(), host: host, port: port, logger: logger, onReady: onReady)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let recorder = self.recorder
        let manifest = recorder.configuration.manifest
        router.get("/discover") { _, _ in
            let data = (try? JSONEncoder().encode(manifest)) ?? Data()
            return Response(status: .ok, headers: [.contentType: EndpointManifest.contentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/invoke/:service/:handler") { request, context in
            let service = context.parameters.get("service") ?? ""
            let handler = context.parameters.get("handler") ?? ""
            let body = try await request.body.collect(upTo: 64 << 20)
            guard let response = try await recorder.invoke(service: service, handler: handler, body: Array(buffer: body)) else {
                return Response(status: .notFound, body: ResponseBody(byteBuffer: ByteBuffer(string: "no handler \(service)/\(handler)")))
            }
            return Response(status: .ok, headers: [.contentType: invocationContentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response)))
        }
        router.get("/records") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = (try? encoder.encode(["records": recorder.records])) ?? Data()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/stats") { _, _ in
            let counts = recorder.counts
            let stats = ["attempts": counts.attempts, "completed": counts.completed]
            let data = (try? JSONEncoder().encode(stats)) ?? Data()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.delete("/records") { _, _ in
            recorder.reset()
            return Response(status: .noContent)
        }
        return router
    }
}
