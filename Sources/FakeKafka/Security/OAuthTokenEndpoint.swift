import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The cluster's OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials), what a client
/// with `sasl.oauthbearer.method=oidc` asks for its token: the client id and secret in HTTP basic
/// auth or as form fields, an optional `scope`. It also serves the signing key (JWKS) and an
/// OpenID discovery document pointing at both.
enum OAuthTokenEndpoint {
    static let tokenPath = "/oauth2/token"
    static let jwksPath = "/.well-known/jwks.json"
    static let discoveryPath = "/.well-known/openid-configuration"

    static func bind(core: ClusterCore, host: String) async throws -> any Channel {
        try await ServerBootstrap(group: core.eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(TokenEndpointHandler(core: core))
                }
            }
            .bind(host: host, port: 0)
            .get()
    }

    /// The answer to one request: status and JSON body.
    static func respond(method: HTTPMethod, path: String, headers: HTTPHeaders, body: [UInt8], core: ClusterCore,
                        baseURL: String) -> (HTTPResponseStatus, [String: Any]) {
        switch (method, path) {
        case (.GET, jwksPath):
            return (.ok, core.oauthIssuer.jwks)
        case (.GET, discoveryPath):
            return (.ok, ["issuer": core.oauthIssuer.issuer, "token_endpoint": baseURL + tokenPath, "jwks_uri": baseURL + jwksPath,
                          "grant_types_supported": ["client_credentials"], "id_token_signing_alg_values_supported": ["ES256"]])
        case (.POST, tokenPath):
            return token(headers: headers, form: formFields(body), core: core)
        case (_, tokenPath):
            return (.methodNotAllowed, ["error": "invalid_request", "error_description": "the token endpoint takes POST"])
        default:
            return (.notFound, ["error": "not_found", "error_description": "no \(path) here; the token endpoint is \(tokenPath)"])
        }
    }

    private static func token(headers: HTTPHeaders, form: [String: String], core: ClusterCore) -> (HTTPResponseStatus, [String: Any]) {
        guard form["grant_type"] == "client_credentials" else {
            return (.badRequest, ["error": "unsupported_grant_type",
                                  "error_description": "grant_type is \(form["grant_type"].map { "'\($0)'" } ?? "missing"); only client_credentials is served"])
        }
        var credentials = (form["client_id"], form["client_secret"])
        if let basic = headers.first(name: "authorization"), basic.lowercased().hasPrefix("basic "),
           let decoded = Data(base64Encoded: String(basic.dropFirst(6)).trimmingCharacters(in: .whitespaces)).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = decoded.firstIndex(of: ":") {
            // RFC 6749 §2.3.1: both parts are form-urlencoded inside the basic credentials.
            credentials = (percentDecode(String(decoded[..<colon])), percentDecode(String(decoded[decoded.index(after: colon)...])))
        }
        let sasl = core.configuration.sasl
        guard let clientID = credentials.0, let secret = credentials.1, sasl?.users[clientID] == secret else {
            let why = credentials.0.map { "client '\($0)': wrong or missing secret" } ?? "no client credentials (basic auth or client_id/client_secret)"
            core.withState { state, _ in state.tokenEndpointRefusals.append(why) }
            core.logger.warning("OAuth token endpoint refused \(why)")
            return (.unauthorized, ["error": "invalid_client", "error_description": "Client authentication failed: \(why)"])
        }
        let scope = form["scope"].map { $0.split(separator: " ").map(String.init) } ?? []
        let settings = sasl?.oauthBearer ?? OAuthBearerSettings()
        let token = core.oauthIssuer.issueToken(subject: clientID, scope: scope, audience: settings.expectedAudience, lifetime: settings.tokenLifetime)
        core.withState { state, _ in state.issuedTokens.append(clientID) }
        var answer: [String: Any] = ["access_token": token, "token_type": "Bearer", "expires_in": Int(settings.tokenLifetime.components.seconds)]
        if !scope.isEmpty { answer["scope"] = scope.joined(separator: " ") }
        return (.ok, answer)
    }

    static func formFields(_ body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[percentDecode(String(parts[0]))] = parts.count == 2 ? percentDecode(String(parts[1])) : ""
        }
        return fields
    }

    private static func percentDecode(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// One HTTP connection to the token endpoint: gathers each request, answers it in JSON.
private final class TokenEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: ClusterCore
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(core: ClusterCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            if body.count < 1 << 20 { body += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        case .end:
            guard let head else { return }
            let local = context.channel.localAddress
            let host = head.headers.first(name: "host") ?? "\(local?.ipAddress ?? "127.0.0.1"):\(local?.port ?? 0)"
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let (status, json) = OAuthTokenEndpoint.respond(method: head.method, path: path, headers: head.headers, body: body,
                                                            core: core, baseURL: "http://\(host)")
            let bytes = JSONWebToken.json(json)
            var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "\(bytes.count)"), ("cache-control", "no-store")])
            if status == .unauthorized { headers.add(name: "www-authenticate", value: #"Basic realm="fake-kafka""#) }
            // One request per connection: a client's idle pooled connection would otherwise
            // outlive the cluster (closing the listener leaves accepted connections open).
            headers.add(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            self.head = nil
        }
    }
}
