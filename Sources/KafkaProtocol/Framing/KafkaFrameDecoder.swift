import NIOCore

/// Splits a TCP stream into Kafka frames: a big-endian int32 size followed by that many bytes.
/// A negative size or one above `maxFrameSize` is an error for this connection only.
public struct KafkaFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    public struct FrameTooLarge: Error, CustomStringConvertible {
        public let size: Int32
        public let limit: Int
        public var description: String {
            size < 0 ? "negative frame size \(size)" : "frame of \(size) bytes exceeds the limit of \(limit) bytes"
        }
    }

    public let maxFrameSize: Int

    /// - Parameter maxFrameSize: Kafka's `socket.request.max.bytes` defaults to 100 MiB.
    public init(maxFrameSize: Int = 100 * 1024 * 1024) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(in: &buffer, maxFrameSize: maxFrameSize) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Takes one complete frame off the front of `buffer`, or returns nil when more bytes are needed.
    public static func nextFrame(in buffer: inout ByteBuffer, maxFrameSize: Int) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard size >= 0, Int(size) <= maxFrameSize else { throw FrameTooLarge(size: size, limit: maxFrameSize) }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }
}
