import Foundation
import LiveResources
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import RestateProtocol
import Synchronization

/// Serves the recorder over HTTP/1.1: `GET /discover`, `POST /invoke/{service}/{handler}` (the
/// Restate service protocol), `/deployments/{name}/…` passed through to real deployments (see
/// `PassThrough`), and `GET /records` / `DELETE /records` for whoever observes, `GET /stats` for counts.
///
/// Plain SwiftNIO rather than a web framework: every invocation of a scenario or a benchmark
/// goes through here, and a framework's per-request machinery (an async sequence per
/// connection, a router, a task per request) cost more CPU than the ingress under test spent on
/// the same invocation (measured with perf). A request is answered on its connection's event
/// loop, in one write; handler latency is a scheduled task, not a sleeping one.
public struct RecorderServer: Sendable {
    public let recorder: InvocationRecorder
    /// Real deployments served under `/deployments/{name}`: name → base URL.
    public let deployments: [String: String]

    /// The largest invocation body accepted; larger ones get 413 and the connection is closed.
    static let maxBodyBytes = 64 << 20
    /// How long a stopping server lets requests in progress finish before closing their connections.
    static let drainTimeout: TimeAmount = .seconds(5)

    public init(recorder: InvocationRecorder, deployments: [String: String] = [:]) {
        self.recorder = recorder
        self.deployments = deployments.mapValues { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// Serves until the calling task is cancelled, then stops taking connections and lets the
    /// requests in progress finish; `onReady` gets the bound port.
    public func run(host: String, port: Int, logger: Logger = Logger(label: "recorder"),
                    onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let routes = RecorderRoutes(recorder: recorder, passThrough: PassThrough(deployments: deployments, recorder: recorder))
        let connections = OpenConnections()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RecorderHTTPHandler(routes: routes))
                    connections.add(channel)
                }
            }
            .bind(host: host, port: port)
            .get()
        let registration = LiveResources.opened("HTTP server", "recorder on \(host):\(server.localAddress?.port ?? port)")
        defer { registration.close() }
        logger.debug("recorder listening on \(server.localAddress?.description ?? "?")")
        await onReady(server.localAddress?.port ?? port)
        await withTaskCancellationHandler {
            try? await server.closeFuture.get()
        } onCancel: {
            server.close(promise: nil)
        }
        try? await server.close()
        await connections.drain(within: Self.drainTimeout)
    }
}

/// The accepted connections still open, so that a stopping server can wind them down.
private final class OpenConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = channels.withLock { $0.removeValue(forKey: id) } }
    }

    /// Asks every connection to close once its request in progress is answered (NIO's HTTP
    /// pipeline does this on a quiesce event), then closes those still open at the deadline.
    func drain(within timeout: TimeAmount) async {
        let open = channels.withLock { Array($0.values) }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        let deadline = NIODeadline.now() + timeout
        for channel in open {
            let closed = channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
            try? await channel.closeFuture.get()
            closed.cancel()
        }
    }
}

/// What the recorder answers, by method and path.
private struct RecorderRoutes: Sendable {
    let recorder: InvocationRecorder
    let passThrough: PassThrough
    let manifest: ByteBuffer

    init(recorder: InvocationRecorder, passThrough: PassThrough) {
        self.recorder = recorder
        self.passThrough = passThrough
        manifest = ByteBuffer(bytes: (try? JSONEncoder().encode(recorder.configuration.manifest)) ?? Data())
    }

    enum Answer {
        case now(HTTPResponseStatus, contentType: String?, ByteBuffer)
        /// An invocation, answered after its handler's latency.
        case invocation(InvocationRecorder.PendingInvocation)
        /// A request for a real deployment, answered with what it answers.
        case forward(url: String, invoked: (service: String, handler: String)?)
    }

    func answer(_ method: HTTPMethod, _ path: Substring, query: Substring?, body: ByteBuffer) -> Answer {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        switch (method, parts.count > 1 ? parts[1] : "") {
        case (_, "deployments"):
            guard let route = passThrough.route(parts, query: query) else {
                let known = passThrough.deployments.keys.sorted().joined(separator: ", ")
                return .now(.notFound, contentType: "text/plain", ByteBuffer(string: "no deployment at \(path); the recorder passes through to: \(known.isEmpty ? "none" : known)"))
            }
            return .forward(url: route.url, invoked: route.invoked)
        case (.GET, "discover") where parts.count == 2:
            return .now(.ok, contentType: EndpointManifest.contentType, manifest)
        case (.POST, "invoke") where parts.count == 4:
            let service = String(parts[2]).removingPercentEncoding ?? String(parts[2])
            let handler = String(parts[3]).removingPercentEncoding ?? String(parts[3])
            do {
                guard let pending = try recorder.begin(service: service, handler: handler, body: Array(buffer: body)) else {
                    return .now(.notFound, contentType: "text/plain", ByteBuffer(string: "no handler \(service)/\(handler)"))
                }
                return .invocation(pending)
            } catch {
                return .now(.badRequest, contentType: "text/plain", ByteBuffer(string: "malformed invocation of \(service)/\(handler): \(error)"))
            }
        case (.GET, "records") where parts.count == 2:
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = (try? encoder.encode(["records": recorder.records])) ?? Data()
            return .now(.ok, contentType: "application/json", ByteBuffer(bytes: data))
        case (.DELETE, "records") where parts.count == 2:
            recorder.reset()
            return .now(.noContent, contentType: nil, ByteBuffer())
        case (.GET, "stats") where parts.count == 2:
            let counts = recorder.counts
            let data = (try? JSONEncoder().encode(["attempts": counts.attempts, "completed": counts.completed])) ?? Data()
            return .now(.ok, contentType: "application/json", ByteBuffer(bytes: data))
        default:
            return .now(.notFound, contentType: "text/plain", ByteBuffer(string: "no route \(method) \(path)"))
        }
    }
}

/// One connection: collects a request, answers it. NIO's server pipeline holds back the next
/// request of a pipelining client until this one is answered, so there is one at a time.
private final class RecorderHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: RecorderRoutes
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(routes: RecorderRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.clear()
            tooLarge = false
        case .body(var part):
            guard !tooLarge else { return }
            if body.readableBytes + part.readableBytes > RecorderServer.maxBodyBytes {
                tooLarge = true
                body.clear()
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if tooLarge {
                let text = "request body over \(RecorderServer.maxBodyBytes) bytes"
                return respond(context, .payloadTooLarge, "text/plain", ByteBuffer(string: text), keepAlive: false)
            }
            let keepAlive = requestHead.isKeepAlive
            let uri = requestHead.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            switch routes.answer(requestHead.method, uri[0], query: uri.count > 1 ? uri[1] : nil, body: body) {
            case .now(let status, let contentType, let bytes):
                respond(context, status, contentType, bytes, keepAlive: keepAlive)
            case .forward(let url, let invoked):
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let promise = context.eventLoop.makePromise(of: PassThrough.Answer.self)
                promise.completeWithTask { [routes, body] in
                    await routes.passThrough.forward(requestHead.method, to: url, headers: requestHead.headers, body: body, invoked: invoked)
                }
                promise.futureResult.whenSuccess { answer in
                    let (handler, context) = loopBound.value
                    handler.respond(context, answer.status, headers: answer.headers, answer.body, keepAlive: keepAlive)
                }
            case .invocation(let pending) where pending.latencyMs <= 0:
                let response = routes.recorder.end(pending)
                respond(context, .ok, invocationContentType, ByteBuffer(bytes: response), keepAlive: keepAlive)
            case .invocation(let pending):
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(pending.latencyMs))) {
                    let (handler, context) = loopBound.value
                    let response = handler.routes.recorder.end(pending)
                    handler.respond(context, .ok, invocationContentType, ByteBuffer(bytes: response), keepAlive: keepAlive)
                }
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ contentType: String?, _ bytes: ByteBuffer, keepAlive: Bool) {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "content-type", value: contentType) }
        respond(context, status, headers: headers, bytes, keepAlive: keepAlive)
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, headers: HTTPHeaders, _ bytes: ByteBuffer, keepAlive: Bool) {
        guard context.channel.isActive else { return }
        var headers = headers
        headers.add(name: "content-length", value: String(bytes.readableBytes))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if bytes.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
