import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPServing
import Hummingbird
import LiveResources
import Logging
import NIOCore
import Synchronization

/// A span as an OTLP collector received it: decoded from the protobuf the exporter sent.
struct ReceivedSpan: Sendable, CustomStringConvertible {
    enum Value: Sendable, Hashable, CustomStringConvertible {
        case string(String), int(Int64), bool(Bool), other

        var description: String {
            switch self {
            case .string(let s): "\"\(s)\""
            case .int(let i): "\(i)"
            case .bool(let b): "\(b)"
            case .other: "(other)"
            }
        }
    }

    var traceID = ""
    var spanID = ""
    /// Empty for a root span.
    var parentSpanID = ""
    var name = ""
    var startNs: UInt64 = 0
    var endNs: UInt64 = 0
    var attributes: [String: Value] = [:]
    var events: [String] = []
    /// OTLP's status code: 0 unset, 1 ok, 2 error.
    var statusCode: UInt64 = 0
    var statusMessage = ""
    var resource: [String: Value] = [:]

    var description: String { "\(name) [\(traceID)/\(spanID) <- \(parentSpanID.isEmpty ? "root" : parentSpanID)] \(attributes)" }
}

/// An OTLP collector on a free loopback port, over HTTP (`POST /v1/traces`, protobuf) or gRPC
/// (`TraceService/Export`): keeps the spans, for tests of what the ingress exports.
final class OTLPReceiver: Sendable {
    enum Transport {
        case http, grpc
    }

    /// `http://127.0.0.1:PORT/v1/traces`, or `http://127.0.0.1:PORT` for gRPC.
    let url: String
    private let received = Mutex<(spans: [ReceivedSpan], requests: Int, authorizations: [String])>(([], 0, []))

    private init(url: String) {
        self.url = url
    }

    var spans: [ReceivedSpan] { received.withLock { $0.spans } }
    var requests: Int { received.withLock { $0.requests } }
    /// The `authorization` header of each export ("" when none).
    var authorizations: [String] { received.withLock { $0.authorizations } }

    /// Keeps what one export request carried.
    private func keep(_ request: [UInt8], authorization: String?) throws {
        let spans = try OTLPDecoding.spans(inExportRequest: request)
        received.withLock { received in
            received.spans += spans
            received.requests += 1
            received.authorizations.append(authorization ?? "")
        }
    }

    /// Runs `body` with a receiver listening, and stops it afterwards.
    static func with<T>(_ transport: Transport = .http, _ body: (OTLPReceiver) async throws -> T) async throws -> T {
        let box = Mutex<OTLPReceiver?>(nil)
        let server: Task<Void, Error>
        let url: String
        switch transport {
        case .http:
            let (task, port) = try await IngressFixture.serve { ready in
                let router = Router()
                router.post("/v1/traces") { request, _ -> Response in
                    let bytes = try await request.body.collect(upTo: 64 << 20)
                    guard let receiver = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
                    do {
                        try receiver.keep(Array(buffer: bytes), authorization: request.headers[.authorization])
                    } catch {
                        return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "\(error)")))
                    }
                    // An empty ExportTraceServiceResponse: everything accepted.
                    return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
                }
                var logger = Logger(label: "otlp-receiver")
                logger.logLevel = .warning
                try await HTTPServing.serve(router, host: "127.0.0.1", port: 0, logger: logger, onReady: ready)
            }
            (server, url) = (task, "http://127.0.0.1:\(port)/v1/traces")
        case .grpc:
            let listener = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
            let grpc = GRPCServer(transport: listener, services: [TraceService { request, metadata in
                guard let receiver = box.withLock({ $0 }) else { throw RPCError(code: .unavailable, message: "not ready") }
                try receiver.keep(request, authorization: Array(metadata[stringValues: "authorization"]).first)
            }])
            let registration = LiveResources.opened("gRPC server", "OTLP receiver")
            let task = Task {
                defer { registration.close() }
                try await withTaskCancellationHandler {
                    try await grpc.serve()
                } onCancel: {
                    grpc.beginGracefulShutdown()
                }
            }
            guard let port = try await listener.listeningAddress.ipv4?.port else {
                task.cancel()
                throw OTLPDecoding.Malformed(description: "the gRPC receiver has no IPv4 address")
            }
            (server, url) = (task, "http://127.0.0.1:\(port)")
        }
        let receiver = OTLPReceiver(url: url)
        box.withLock { $0 = receiver }
        return try await IngressFixture.stopping(server) { try await body(receiver) }
    }
}

/// OTLP's trace service over gRPC, taking the request as bytes (decoded like HTTP's).
private struct TraceService: RegistrableRPCService {
    let export: @Sendable ([UInt8], Metadata) throws -> Void

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: MethodDescriptor(fullyQualifiedService: "opentelemetry.proto.collector.trace.v1.TraceService", method: "Export"),
                               deserializer: RawMessage(), serializer: RawMessage()) { request, _ in
            for try await message in request.messages { try export(message, request.metadata) }
            // An empty ExportTraceServiceResponse: everything accepted.
            return StreamingServerResponse(single: ServerResponse(message: []))
        }
    }
}

private struct RawMessage: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }
}

/// Just enough of the protobuf wire format to read OTLP's ExportTraceServiceRequest.
enum OTLPDecoding {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    enum Field {
        case varint(UInt64), fixed(UInt64), bytes([UInt8])

        var bytes: [UInt8] {
            if case .bytes(let b) = self { return b }
            return []
        }

        var string: String { String(decoding: bytes, as: UTF8.self) }

        var integer: UInt64 {
            switch self {
            case .varint(let v), .fixed(let v): v
            case .bytes: 0
            }
        }
    }

    static func fields(_ data: [UInt8]) throws -> [(Int, Field)] {
        var out: [(Int, Field)] = []
        var i = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < data.count, shift < 64 else { throw Malformed(description: "truncated varint") }
                let byte = data[i]
                i += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        func fixed(_ n: Int) throws -> UInt64 {
            guard i + n <= data.count else { throw Malformed(description: "truncated fixed-width field") }
            defer { i += n }
            return data[i..<(i + n)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        while i < data.count {
            let key = try varint()
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: out.append((field, .varint(try varint())))
            case 1: out.append((field, .fixed(try fixed(8))))
            case 5: out.append((field, .fixed(try fixed(4))))
            case 2:
                let n = Int(try varint())
                guard i + n <= data.count else { throw Malformed(description: "field \(field) overruns the message") }
                out.append((field, .bytes(Array(data[i..<(i + n)]))))
                i += n
            default: throw Malformed(description: "wire type \(key & 7) of field \(field)")
            }
        }
        return out
    }

    static func spans(inExportRequest data: [UInt8]) throws -> [ReceivedSpan] {
        var spans: [ReceivedSpan] = []
        for (number, resourceSpans) in try fields(data) where number == 1 {
            var resource: [String: ReceivedSpan.Value] = [:]
            let parts = try fields(resourceSpans.bytes)
            for (n, r) in parts where n == 1 {
                for (a, kv) in try fields(r.bytes) where a == 1 { try attribute(kv.bytes, into: &resource) }
            }
            for (n, scopeSpans) in parts where n == 2 {
                for (s, span) in try fields(scopeSpans.bytes) where s == 2 {
                    var decoded = try self.span(span.bytes)
                    decoded.resource = resource
                    spans.append(decoded)
                }
            }
        }
        return spans
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    private static func span(_ data: [UInt8]) throws -> ReceivedSpan {
        var span = ReceivedSpan()
        for (number, field) in try fields(data) {
            switch number {
            case 1: span.traceID = hex(field.bytes)
            case 2: span.spanID = hex(field.bytes)
            case 4: span.parentSpanID = hex(field.bytes)
            case 5: span.name = field.string
            case 7: span.startNs = field.integer
            case 8: span.endNs = field.integer
            case 9: try attribute(field.bytes, into: &span.attributes)
            case 11:
                for (e, name) in try fields(field.bytes) where e == 2 { span.events.append(name.string) }
            case 15:
                for (s, value) in try fields(field.bytes) {
                    if s == 2 { span.statusMessage = value.string } else if s == 3 { span.statusCode = value.integer }
                }
            default: break
            }
        }
        return span
    }

    /// A KeyValue: key 1, AnyValue 2 (string 1, bool 2, int 3).
    private static func attribute(_ data: [UInt8], into attributes: inout [String: ReceivedSpan.Value]) throws {
        var key = ""
        var value = ReceivedSpan.Value.other
        for (number, field) in try fields(data) {
            if number == 1 { key = field.string }
            guard number == 2 else { continue }
            for (kind, v) in try fields(field.bytes) {
                switch kind {
                case 1: value = .string(v.string)
                case 2: value = .bool(v.integer != 0)
                case 3: value = .int(Int64(bitPattern: v.integer))
                default: value = .other
                }
            }
        }
        attributes[key] = value
    }
}
