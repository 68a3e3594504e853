import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to one endpoint, one request at a time on each, for the
/// invocation hot path. AsyncHTTPClient spent more CPU per invocation than the rest of the
/// ingress together (it writes head and body separately and runs a general pool state machine,
/// measured with perf); this writes a request with a single flush and keeps the path short.
final class HTTP1ConnectionPool: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: ByteBuffer
    }

    private let host: String
    private let port: Int
    private let hostHeader: String
    private let group: any EventLoopGroup
    private let idle = Mutex<[any Channel]>([])

    init(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        hostHeader = "\(host):\(port)"
        self.group = group
    }

    /// POSTs `body` to `path`; the connection goes back to the pool unless it failed or the
    /// server asked to close it.
    func post(_ path: String, headers: [(String, String)], body: ByteBuffer, timeout: TimeAmount) async throws -> Response {
        let channel = try await checkOut()
        let promise = channel.eventLoop.makePromise(of: Response.self)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "host", value: hostHeader)
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let request = ResponseCollector.Request(head: head, body: body, promise: promise)
        channel.writeAndFlush(request, promise: nil)
        let timeoutTask = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTP1PoolError.timedOut(timeout))
            channel.close(promise: nil)
        }
        do {
            let response = try await promise.futureResult.get()
            timeoutTask.cancel()
            checkIn(channel)
            return response
        } catch {
            timeoutTask.cancel()
            channel.close(promise: nil)
            throw error
        }
    }

    func shutdown() async {
        let channels = idle.withLock { idle -> [any Channel] in
            defer { idle = [] }
            return idle
        }
        for channel in channels { try? await channel.close() }
    }

    private func checkOut() async throws -> any Channel {
        while let channel = idle.withLock({ $0.popLast() }) {
            if channel.isActive { return channel }
        }
        return try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: host, port: port)
            .get()
    }

    private func checkIn(_ channel: any Channel) {
        guard channel.isActive else { return }
        idle.withLock { $0.append(channel) }
    }
}

enum HTTP1PoolError: Error, CustomStringConvertible {
    case timedOut(TimeAmount)
    case closed

    var description: String {
        switch self {
        case .timedOut(let t): "no response within \(t.nanoseconds / 1_000_000) ms"
        case .closed: "the connection closed before the response was complete"
        }
    }
}

/// Writes one request (head, body, end: one flush) and completes its promise with the whole
/// response. Closes the connection when the server says `connection: close`.
private final class ResponseCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Request
    typealias OutboundOut = HTTPClientRequestPart

    struct Request: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var promise: EventLoopPromise<HTTP1ConnectionPool.Response>
    }

    private var pending: EventLoopPromise<HTTP1ConnectionPool.Response>?
    private var status = 0
    private var keepAlive = true
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending = request.promise
        status = 0
        body = nil
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            let response = HTTP1ConnectionPool.Response(status: status, body: body ?? ByteBuffer())
            let promise = pending
            pending = nil
            body = nil
            if !keepAlive { context.close(promise: nil) }
            promise?.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(HTTP1PoolError.closed)
        pending = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }
}
