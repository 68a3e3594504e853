import KafkaProtocol
import NIOCore
import NIOPosix

/// A bare Kafka connection for tests that must send exactly the bytes they choose: malformed
/// frames, unknown API keys, or a retried produce with the same sequence number.
final class RawKafkaClient: Sendable {
    private let channel: any Channel
    private let responses: AsyncStream<ByteBuffer?>

    static func connect(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> RawKafkaClient {
        let (stream, continuation) = AsyncStream<ByteBuffer?>.makeStream()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: host, port: port).get()
        return RawKafkaClient(channel: channel, responses: stream)
    }

    private init(channel: any Channel, responses: AsyncStream<ByteBuffer?>) {
        self.channel = channel
        self.responses = responses
    }

    /// Sends raw bytes as they are (no size prefix added).
    func sendRaw(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    /// A size-prefixed request frame with any header values, valid or not, and any body bytes.
    static func frame(apiKey: Int16, version: Int16, correlationId: Int32, flexible: Bool,
                      body: (inout ByteBuffer) -> Void = { _ in }) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeInteger(Int32(0))
        RequestHeader(apiKey: apiKey, apiVersion: version, correlationId: correlationId, clientId: "raw-test")
            .encode(into: &frame, flexible: flexible)
        body(&frame)
        frame.setInteger(Int32(frame.readableBytes - 4), at: 0)
        return frame
    }

    /// Sends a request with a v1/v2 header without waiting for the answer (pipelining).
    func send<M: KafkaMessage>(_ message: M, apiKey: ApiKey, version: Int16, correlationId: Int32 = 1) async throws {
        try await sendRaw(Self.frame(apiKey: apiKey.rawValue, version: version, correlationId: correlationId,
                                     flexible: apiKey.isFlexible(version: version)) { message.encode(into: &$0, version: version) })
    }

    /// Reads the next response: its correlation id and body (after the header).
    func receive(apiKey: ApiKey, version: Int16) async throws -> (correlationId: Int32, body: ByteBuffer)? {
        guard var response = await nextFrame() else { return nil }
        let header = try ResponseHeader(from: &response, flexible: ResponseHeader.isFlexible(apiKey: apiKey, version: version))
        return (header.correlationId, response)
    }

    /// Sends a request and returns the response body, checking the correlation id.
    func request<M: KafkaMessage>(_ message: M, apiKey: ApiKey, version: Int16, correlationId: Int32 = 1) async throws -> ByteBuffer? {
        try await send(message, apiKey: apiKey, version: version, correlationId: correlationId)
        guard let (id, body) = try await receive(apiKey: apiKey, version: version) else { return nil }
        precondition(id == correlationId, "correlation id \(id), expected \(correlationId)")
        return body
    }

    /// The next response frame, or nil when the broker closed the connection.
    func nextFrame() async -> ByteBuffer? {
        // One reader at a time (tests are sequential); each call resumes the same stream.
        var iterator = responses.makeAsyncIterator()
        return await iterator.next() ?? nil
    }

    func close() async {
        try? await channel.close()
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer?>.Continuation
        init(continuation: AsyncStream<ByteBuffer?>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { continuation.yield(nil); continuation.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
