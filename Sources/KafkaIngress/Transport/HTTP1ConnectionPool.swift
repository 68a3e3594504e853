import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to one endpoint, one request at a time on each, for the
/// invocation hot path. AsyncHTTPClient spent more CPU per invocation than the rest of the
/// ingress together (it writes head and body separately and runs a general pool state machine,
/// measured with perf); this writes a request as one buffer with a single flush and keeps the
/// path short. NIO's request encoder and header validator were 6% of the ingress's CPU (issue
/// 25's profile), so requests are encoded here; responses still go through NIO's decoder.
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
        let encoded = try Self.encodePost(path, host: hostHeader, headers: headers, body: body)
        let channel = try await checkOut()
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let request = ResponseCollector.Request(bytes: encoded, promise: promise)
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

    /// The whole request, head and body, as it goes on the wire. A name or value that could end
    /// a header line early (CR, LF, NUL; or a name with a colon or a space) is refused, as NIO's
    /// validator did: headers come from deployment registrations.
    static func encodePost(_ path: String, host: String, headers: [(String, String)], body: ByteBuffer) throws -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(256 + body.readableBytes)
        out.writeString("POST ")
        out.writeString(path)
        out.writeString(" HTTP/1.1\r\nhost: ")
        out.writeString(host)
        out.writeString("\r\ncontent-length: ")
        out.writeString(String(body.readableBytes))
        out.writeString("\r\n")
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: ":") && $0 < 0x7F }),
                  value.utf8.allSatisfy({ $0 != 0x0D && $0 != 0x0A && $0 != 0 }) else {
                throw HTTP1PoolError.invalidHeader(name)
            }
            out.writeString(name)
            out.writeString(": ")
            out.writeString(value)
            out.writeString("\r\n")
        }
        out.writeString("\r\n")
        var body = body
        out.writeBuffer(&body)
        return out
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
                    // Nearest the socket: writes the encoded request. Then NIO's response decoder,
                    // which must see each request's head (to know a response to HEAD has no body).
                    let writer = EncodedRequestWriter()
                    try channel.pipeline.syncOperations.addHandler(writer)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(writer: writer))
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
    case invalidHeader(String)

    var description: String {
        switch self {
        case .invalidHeader(let name): "the header \(name.debugDescription) cannot be sent: its name or value would break the HTTP/1.1 request"
        case .timedOut(let t): "no response within \(t.nanoseconds / 1_000_000) ms"
        case .closed: "the connection closed before the response was complete"
        }
    }
}

/// Writes one encoded request (one buffer, one flush) and completes its promise with the whole
/// response. Closes the connection when the server says `connection: close`.
private final class ResponseCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Request
    typealias OutboundOut = HTTPClientRequestPart

    struct Request: Sendable {
        var bytes: ByteBuffer
        var promise: EventLoopPromise<HTTP1ConnectionPool.Response>
    }

    /// Every request is a POST: what the response decoder is told, in place of the head.
    private static let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    private let writer: EncodedRequestWriter
    private var pending: EventLoopPromise<HTTP1ConnectionPool.Response>?
    private var status = 0
    private var keepAlive = true
    private var body: ByteBuffer?

    init(writer: EncodedRequestWriter) {
        self.writer = writer
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending = request.promise
        status = 0
        body = nil
        // The head passes the decoder (which notes the method) and the writer swaps it for the bytes.
        writer.next = request.bytes
        context.write(wrapOutboundOut(.head(Self.head)), promise: promise)
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

/// Puts an encoded request on the wire in place of the head that announced it (see
/// `ResponseCollector.write`); the channel's event loop is the only one touching `next`.
private final class EncodedRequestWriter: ChannelOutboundHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    var next: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head = unwrapOutboundIn(data), let bytes = next else {
            preconditionFailure("only ResponseCollector writes on a pooled connection, one encoded request per head")
        }
        next = nil
        context.write(wrapOutboundOut(bytes), promise: promise)
    }
}
