import Foundation
import HTTPServing
import HTTPTypes
import Hummingbird
import NIOCore
import RestateProtocol

/// Restate's HTTP ingress (its port 8080), the part tests read results through: `POST
/// /Service/handler` and `POST /Object/key/handler` call a handler and answer with its output;
/// with `/send` appended (and an optional `?delay=`) they start it and answer 202 at once. An
/// `idempotency-key` header makes a repeated request attach to the first one's invocation;
/// `GET /restate/invocation/…/attach|output` reads an invocation's result by id or by that key.
/// Statuses, headers and error bodies are Restate 1.7's: a terminal failure answers with its
/// code and `{"code", "message", "source": "invocation"}`, an ingress error with
/// `"source": "ingress"` and the `x-restate-error-source` header saying which.
public struct RestateHTTPIngress: Sendable {
    let ingress: KafkaIngress

    /// The largest request body accepted.
    static let maxBodyBytes = 32 << 20

    public init(ingress: KafkaIngress) {
        self.ingress = ingress
    }

    /// Serves until the calling task is cancelled; `onReady` gets the bound port.
    public func run(host: String, port: Int, onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await HTTPServing.serve(router(), host: host, port: port, logger: ingress.logger, onReady: onReady)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let ingress = self.ingress
        router.get("/restate/workflow/:name/:key/attach") { _, context in
            try await Self.reply(ingress.workflowOutcome(service: context.parameters.get("name") ?? "", key: context.parameters.get("key") ?? "", wait: true))
        }
        router.get("/restate/workflow/:name/:key/output") { _, context in
            try await Self.reply(ingress.workflowOutcome(service: context.parameters.get("name") ?? "", key: context.parameters.get("key") ?? "", wait: false))
        }
        router.get("/restate/invocation/**") { request, _ in
            try await Self.invocationRead(path: request.uri.path, ingress: ingress)
        }
        addRestateAPIReads(to: router)
        router.post("/restate/awakeables/:id/:action") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = Array(buffer: try await request.body.collect(upTo: Self.maxBodyBytes))
            let result: CompletionResult
            switch context.parameters.get("action") {
            case "resolve": result = .value(body)
            // As Restate: the body is the failure's message, with code 500.
            case "reject": result = .failure(InvocationFailure(code: 500, message: String(decoding: body, as: UTF8.self)))
            default: return Self.ingressError(.notFound, "bad path, expected either /restate/awakeables/:id/resolve or /restate/awakeables/:id/reject")
            }
            guard try await ingress.completeAwakeable(id, result) else {
                return Self.ingressError(.badRequest, "bad awakeable id '\(id)'")
            }
            return Response(status: .accepted)
        }
        router.post("**") { request, _ in
            let body = try await request.body.collect(upTo: Self.maxBodyBytes)
            let headers = request.headers.compactMap { field -> (String, String)? in
                let name = field.name.canonicalName
                return Self.notForwarded.contains(name) ? nil : (name, field.value)
            }
            return try await Self.handle(path: request.uri.path, delay: request.uri.queryParameters.get("delay"),
                                         body: Array(buffer: body), headers: headers,
                                         idempotencyKey: request.headers[HTTPField.Name("idempotency-key")!], ingress: ingress)
        }
        return router
    }

    /// Hop-by-hop and framing headers stay with the HTTP request; the rest reach the handler.
    static let notForwarded: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade",
                                            "idempotency-key", "idempotency-expires"]

    /// `GET /restate/invocation/{id}/attach|output`, or by idempotency key
    /// `/restate/invocation/{service}[/{key}]/{handler}/{idempotency key}/attach|output`.
    static func invocationRead(path: String, ingress: KafkaIngress) async throws -> Response {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(3).map { String($0).removingPercentEncoding ?? String($0) }
        let action = segments.popLast()
        guard action == "attach" || action == "output" else {
            return ingressError(.badRequest, badInvocationPath)
        }
        let wait = action == "attach"
        switch segments.count {
        case 1:
            if let problem = InvocationID.decodeError(segments[0]) { return ingressError(.badRequest, "bad invocation id '\(segments[0])': \(problem)") }
            return reply(try await ingress.invocationOutcome(id: segments[0], wait: wait))
        case 3, 4:
            let service = segments[0]
            guard let keyed = await ingress.serviceIsKeyed(service) else { return reply(.serviceNotFound(service)) }
            guard keyed == (segments.count == 4) else { return reply(.badServicePath) }
            let id = ingress.idempotentInvocationID(service: service, handler: segments[segments.count - 2], key: keyed ? segments[1] : nil,
                                                     idempotencyKey: segments[segments.count - 1])
            return reply(try await ingress.invocationOutcome(id: id, wait: wait))
        default:
            return ingressError(.badRequest, badInvocationPath)
        }
    }

    static let badInvocationPath = "bad path, expected either /restate/invocation/:invocation_id/output or /restate/invocation/:invocation_id/attach"
        + " or /restate/invocation/:invocation_target/:idempotency_key/output or /restate/invocation/:invocation_target/:idempotency_key/attach"

    static func handle(path: String, delay: String?, body: [UInt8], headers: [(String, String)], idempotencyKey: String? = nil,
                       ingress: KafkaIngress) async throws -> Response {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { String($0).removingPercentEncoding ?? String($0) }
        let send = segments.last == "send"
        if send { segments.removeLast() }
        guard let service = segments.first, !service.isEmpty, segments.count == 2 || segments.count == 3 else {
            return ingressError(.notFound, "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler")
        }
        var delayMs: Int64?
        if let delay {
            guard send else { return ingressError(.badRequest, "delay is only supported with /send") }
            guard let parsed = parseDuration(delay) else { return ingressError(.badRequest, "bad delay query parameter '\(delay)', expected a duration such as 500ms or 10s") }
            delayMs = parsed
        }
        let request = IngressInvocationRequest(
            service: service, handler: segments[segments.count - 1], key: segments.count == 3 ? segments[1] : nil,
            body: body, headers: headers, send: send, delayMs: delayMs, idempotencyKey: idempotencyKey)
        return reply(try await ingress.invoke(request))
    }

    static func reply(_ reply: IngressInvocationReply) -> Response {
        switch reply {
        case .serviceNotFound(let name):
            return ingressError(.notFound, "service '\(name)' not found, make sure to register the service before calling it.")
        case .handlerNotFound(let service, let handler):
            return ingressError(.notFound, "the service '\(service)' exists, but the handler '\(handler)' was not found, check that the handler exists in the latest registered service version.")
        case .badServicePath:
            return ingressError(.notFound, "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler")
        case .invocationNotFound:
            return ingressError(.notFound, "invocation not found")
        case .notReady:
            return ingressError(HTTPResponse.Status(code: 470), "the invocation exists but has not completed yet")
        case .stopping:
            return ingressError(.serviceUnavailable, "the ingress is shutting down; the invocation stays journaled and ends after a restart")
        case .idempotencyKeyOnWorkflow:
            return ingressError(.badRequest, "cannot use the idempotency key with workflow handlers. The handler invocation will already be idempotent by the workflow key itself.")
        case .previouslyAccepted(let id):
            return json(.accepted, ["invocationId": id, "status": "PreviouslyAccepted"], headers: [:])
        case .accepted(let id, let executionTime):
            var answer: [String: String] = ["invocationId": id, "status": "Accepted"]
            if let executionTime { answer["executionTime"] = timestamp(executionTime) }
            return json(.accepted, answer, headers: [:])
        case .ended(let id, .value(let output)):
            var fields: HTTPFields = [HTTPField.Name("x-restate-id")!: id]
            if !output.isEmpty { fields[.contentType] = "application/json" }
            return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: output)))
        case .ended(let id, .failure(let failure)):
            let status = (400...599).contains(Int(failure.code)) ? HTTPResponse.Status(code: Int(failure.code)) : .internalServerError
            return errorResponse(status, code: Int(failure.code), failure.message, source: "invocation", headers: [HTTPField.Name("x-restate-id")!: id])
        }
    }

    static func ingressError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        errorResponse(status, code: status.code, message, source: "ingress", headers: [:])
    }

    private static func errorResponse(_ status: HTTPResponse.Status, code: Int, _ message: String, source: String, headers: HTTPFields) -> Response {
        var fields = headers
        fields[HTTPField.Name("x-restate-error-source")!] = source
        // Field order as Restate writes it: the error's own fields, then the source.
        let body = "{\"code\":\(code),\"message\":\(jsonString(message)),\"source\":\"\(source)\"}"
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(_ status: HTTPResponse.Status, _ object: [String: String], headers: HTTPFields) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(object)) ?? Data()
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func jsonString(_ text: String) -> String {
        var out: [UInt8] = []
        Journal.appendJSONString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3339 with milliseconds, as Restate prints an execution time.
    private static func timestamp(_ epochMs: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(epochMs) / 1000))
    }

    /// A duration as Restate's `delay` accepts it, in the common forms: `500ms`, `10s`, `2m`,
    /// `1h`, and combinations such as `1m30s`. Nil when it does not parse.
    static func parseDuration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var total: Int64 = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber }
            guard let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else { return nil }
            rest = rest.dropFirst(unitText.count).drop { $0 == " " }
            total += value * unit
        }
        return total
    }
}
