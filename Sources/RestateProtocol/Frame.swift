/// The service protocol's message types (the u16 at the start of each frame).
public enum MessageType: UInt16, Sendable {
    case start = 0x0000
    case suspension = 0x0001
    case error = 0x0002
    case end = 0x0003
    case commandAck = 0x0004
    case proposeRunCompletion = 0x0005
    case inputCommand = 0x0400
    case outputCommand = 0x0401
    case getLazyStateCommand = 0x0402
    case setStateCommand = 0x0403
    case clearStateCommand = 0x0404
    case clearAllStateCommand = 0x0405
    case getLazyStateKeysCommand = 0x0406
    case getEagerStateCommand = 0x0407
    case getEagerStateKeysCommand = 0x0408
    case getPromiseCommand = 0x0409
    case peekPromiseCommand = 0x040A
    case completePromiseCommand = 0x040B
    case sleepCommand = 0x040C
    case callCommand = 0x040D
    case oneWayCallCommand = 0x040E
    case sendSignalCommand = 0x0410
    case runCommand = 0x0411
    case attachInvocationCommand = 0x0412
    case getInvocationOutputCommand = 0x0413
    case completeAwakeableCommand = 0x0414
    case signalNotification = 0xFBFF
    case getLazyStateCompletionNotification = 0x8002
    case getLazyStateKeysCompletionNotification = 0x8006
    case getPromiseCompletionNotification = 0x8009
    case peekPromiseCompletionNotification = 0x800A
    case completePromiseCompletionNotification = 0x800B
    case sleepCompletionNotification = 0x800C
    case callCompletionNotification = 0x800D
    case callInvocationIdCompletionNotification = 0x800E
    case runCompletionNotification = 0x8011
    case attachInvocationCompletionNotification = 0x8012
    case getInvocationOutputCompletionNotification = 0x8013

    /// The protocol's name for a message type, for errors that say what a handler used.
    public static func name(of type: UInt16) -> String {
        let names: [UInt16: String] = [
            0x0000: "StartMessage", 0x0001: "SuspensionMessage", 0x0002: "ErrorMessage", 0x0003: "EndMessage",
            0x0004: "CommandAckMessage", 0x0005: "ProposeRunCompletionMessage", 0x0006: "AwaitingOnMessage",
            0x0400: "InputCommand", 0x0401: "OutputCommand", 0x0402: "GetLazyStateCommand", 0x0403: "SetStateCommand",
            0x0404: "ClearStateCommand", 0x0405: "ClearAllStateCommand", 0x0406: "GetLazyStateKeysCommand",
            0x0407: "GetEagerStateCommand", 0x0408: "GetEagerStateKeysCommand", 0x0409: "GetPromiseCommand",
            0x040A: "PeekPromiseCommand", 0x040B: "CompletePromiseCommand", 0x040C: "SleepCommand", 0x040D: "CallCommand",
            0x040E: "OneWayCallCommand", 0x0410: "SendSignalCommand", 0x0411: "RunCommand", 0x0412: "AttachInvocationCommand",
            0x0413: "GetInvocationOutputCommand", 0x0414: "CompleteAwakeableCommand",
        ]
        return names[type] ?? "message type 0x" + String(type, radix: 16, uppercase: true)
    }
}

/// One frame: an 8-byte header (u16 type, u16 flags, u32 body length, big-endian) and a protobuf body.
public struct Frame: Sendable, Equatable {
    public var type: UInt16
    public var flags: UInt16
    public var body: [UInt8]

    public init(type: UInt16, flags: UInt16 = 0, body: [UInt8]) {
        self.type = type
        self.flags = flags
        self.body = body
    }

    public init(_ type: MessageType, body: [UInt8]) {
        self.init(type: type.rawValue, body: body)
    }

    public func encoded() -> [UInt8] {
        let n = UInt32(body.count)
        return [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF),
                UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + body
    }

    /// Splits a whole response body into frames; a partial trailing frame is an error.
    public static func decodeAll(_ data: [UInt8]) throws -> [Frame] {
        var frames: [Frame] = []
        var i = 0
        while i < data.count {
            guard i + 8 <= data.count else { throw RestateProtocolError("truncated frame header at byte \(i)") }
            let type = UInt16(data[i]) << 8 | UInt16(data[i + 1])
            let flags = UInt16(data[i + 2]) << 8 | UInt16(data[i + 3])
            let n = Int(UInt32(data[i + 4]) << 24 | UInt32(data[i + 5]) << 16 | UInt32(data[i + 6]) << 8 | UInt32(data[i + 7]))
            guard i + 8 + n <= data.count else { throw RestateProtocolError("frame of type 0x\(String(type, radix: 16)) at byte \(i) declares \(n) bytes, \(data.count - i - 8) remain") }
            frames.append(Frame(type: type, flags: flags, body: Array(data[(i + 8)..<(i + 8 + n)])))
            i += 8 + n
        }
        return frames
    }
}
