import Foundation
import Hummingbird
import NIOCore
import HTTPServing

/// The admin REST API Restate exposes on port 9070, for subscriptions, deployments and (our
/// addition) invocations. Error bodies are `{"message": …, "restate_code": …}` like Restate's.
public struct AdminAPI: Sendable {
    let ingress: KafkaIngress

    public init(ingress: KafkaIngress) {
        self.ingress = ingress
    }

    /// Serves the API until the calling task is cancelled; `onReady` gets the bound port.
    public func run(host: String, port: Int, onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await HTTPServing.serve(router(), host: host, port: port, logger: ingress.logger, onReady: onReady)
    }

    /// Restate serves its API unprefixed and under `/v2`, `/v3` and `/v4` (the versions it
    /// supports), and refuses `/v1`.
    static let supportedVersions = 2...4

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        addRoutes(to: router, version: nil)
        for version in Self.supportedVersions { addRoutes(to: router.group(RouterPath("v\(version)")), version: version) }
        let unsupported = "Unsupported Admin API version V1. This server supports versions between V\(Self.supportedVersions.lowerBound) and V\(Self.supportedVersions.upperBound)."
        router.on("/v1/**", method: .get) { _, _ in Self.text(.badRequest, unsupported) }
        router.on("/v1/**", method: .post) { _, _ in Self.text(.badRequest, unsupported) }
        router.on("/v1/**", method: .patch) { _, _ in Self.text(.badRequest, unsupported) }
        router.on("/v1/**", method: .put) { _, _ in Self.text(.badRequest, unsupported) }
        router.on("/v1/**", method: .delete) { _, _ in Self.text(.badRequest, unsupported) }
        return router
    }

    private static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `version`: the API version the paths are under, nil for the unversioned ones.
    private func addRoutes(to router: some RouterMethods<BasicRequestContext>, version: Int?) {
        let ingress = self.ingress

        router.post("/subscriptions") { request, context in
            let body: CreateSubscriptionRequest
            do throws(AxumRejection) {
                body = try CreateSubscriptionRequest(try await Self.body(request))
            } catch {
                return error.response
            }
            do {
                let subscription = try await ingress.createSubscription(source: body.source, sink: body.sink, options: body.options ?? [:])
                return Self.json(.created, SubscriptionResponse(subscription), headers: [.location: "subscriptions/\(subscription.id)"])
            } catch let error as SubscriptionError {
                return AdminError(.badRequest, error.message, code: error.restateCode).response
            }
        }
        router.get("/subscriptions") { request, _ in
            let query = request.uri.queryParameters
            let list = await ingress.listSubscriptions(sink: query.get("sink"), source: query.get("source"))
            return Self.json(.ok, ["subscriptions": list.map(SubscriptionResponse.init)])
        }
        router.get("/subscriptions/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedPath(id, name: "subscription", type: "sub") { return rejection.response }
            guard let subscription = await ingress.subscription(id) else { return AdminError.subscriptionNotFound(id).response }
            return Self.json(.ok, SubscriptionResponse(subscription))
        }
        router.delete("/subscriptions/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedPath(id, name: "subscription", type: "sub") { return rejection.response }
            guard try await ingress.deleteSubscription(id) else {
                return AdminError(.notFound, "not found in the schema registry: subscription with id '\(id)'").response
            }
            return Response(status: .accepted)
        }

        addDeploymentRoutes(to: router, version: version)

        router.get("/invocations") { request, _ in
            let subscription = request.uri.queryParameters.get("subscription")
            return Self.json(.ok, ["invocations": try await ingress.invocations(subscription: subscription)])
        }
        addInvocationDeploymentRoutes(to: router)
        router.patch("/invocations/:id/cancel") { _, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedInvocationID(id) { return rejection }
            // As Restate: the cancellation is appended to the invocation's journal (202); the
            // handler sees it where it next awaits and fails with 409.
            switch try await ingress.cancelInvocation(id) {
            case .appended: return Response(status: .accepted)
            case .unknown: return AdminError(.notFound, "The requested invocation '\(id)' does not exist").response
            case .completed: return AdminError(.conflict, "The invocation '\(id)' was already completed.").response
            }
        }
        router.patch("/invocations/:id/:action") { _, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedInvocationID(id) { return rejection }
            let outcome: KafkaIngress.ControlOutcome
            switch context.parameters.get("action") {
            case "kill": outcome = try await ingress.killInvocation(id)
            case "pause": outcome = try await ingress.pauseInvocation(id)
            case "purge": outcome = try await ingress.purgeInvocation(id, journalOnly: false)
            case "purge-journal": outcome = try await ingress.purgeInvocation(id, journalOnly: true)
            default: return Response(status: .notFound)
            }
            // Restate's statuses and texts (`crates/admin/src/rest_api/invocations.rs`, `error.rs`).
            switch outcome {
            case .done: return Response(status: context.parameters.get("action") == "pause" ? .accepted : .ok)
            case .alreadyDone: return Response(status: .ok)
            case .unknown: return AdminError(.notFound, "The requested invocation '\(id)' does not exist").response
            case .completed where context.parameters.get("action") == "pause":
                return AdminError(.conflict, "The invocation '\(id)' is not running, cannot be paused.").response
            case .completed: return AdminError(.conflict, "The invocation '\(id)' was already completed.").response
            case .notCompleted: return AdminError(.conflict, "The invocation '\(id)' is not yet completed.").response
            }
        }
        addKafkaClusterRoutes(to: router)
        router.get("/openapi") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: AdminOpenAPI.document)))
        }
        router.get("/health") { _, _ in Response(status: .ok) }
        // Restate serves this on its node port (5122); this ingress has one server, the admin API's.
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: ingress.metrics.exposition())))
        }
    }

    // MARK: Helpers

    /// An invocation id that does not parse, refused as Restate's invocation endpoints refuse it.
    static func malformedInvocationID(_ id: String) -> Response? {
        InvocationID.decodeError(id).map { AdminError(.badRequest, "The request field 'invocation_id' is invalid. Reason: \($0)").response }
    }

    /// A path id that is not one, refused as axum refuses a `Path` it cannot parse.
    static func malformedPath(_ id: String, name: String, type: String) -> AxumRejection? {
        ResourceID.decodeError(id, type: type).map { problem in
            AxumRejection(status: .badRequest, text: "Invalid URL: Cannot parse `\(name)` with value `\(id)`: \(problem)")
        }
    }

    static func body(_ request: Request) async throws(AxumRejection) -> JSONRequestBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 1 << 20)
        } catch {
            throw AxumRejection(status: .contentTooLarge, text: "Failed to buffer the request body: length limit exceeded")
        }
        return try JSONRequestBody(contentType: request.headers[.contentType], bytes: Array(buffer.readableBytesView))
    }

    /// A body in Restate's field order.
    static func json(_ status: HTTPResponse.Status, _ value: OrderedJSON, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.bytes)))
    }

    static func json<T: Encodable>(_ status: HTTPResponse.Status, _ value: T, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// An admin API error: status and Restate's error body.
struct AdminError: Error {
    var status: HTTPResponse.Status
    var message: String
    var code: String?

    init(_ status: HTTPResponse.Status, _ message: String, code: String? = nil) {
        self.status = status
        self.message = message
        self.code = code
    }

    static func subscriptionNotFound(_ id: String) -> AdminError {
        AdminError(.notFound, "The requested subscription '\(id)' does not exist")
    }

    var response: Response {
        AdminAPI.json(status, ErrorBody(message: message, restateCode: code))
    }

    private struct ErrorBody: Encodable {
        var message: String
        var restateCode: String?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(restateCode, forKey: .restateCode)  // null when absent, as Restate writes it
        }

        enum CodingKeys: String, CodingKey {
            case message
            case restateCode = "restate_code"
        }
    }
}

/// A subscription as the API shows it: credentials masked.
struct SubscriptionResponse: Encodable {
    var id: String
    var source: String
    var sink: String
    var options: [String: String]

    init(_ s: Subscription) {
        id = s.id
        source = s.source
        sink = s.sink
        options = SecretRedaction.redact(s.options)
    }
}
