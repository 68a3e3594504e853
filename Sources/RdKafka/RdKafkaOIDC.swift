import AsyncHTTPClient
import CRdKafka
import Foundation
import NIOCore

/// `sasl.oauthbearer.method=oidc` for a librdkafka built without it (Debian's 2.0.2 has no
/// libcurl, so no `oidc` feature): the client-credentials request Restate's librdkafka makes
/// itself, made here from the token refresh callback, which runs on librdkafka's background
/// thread. The OIDC-only properties are taken out of the configuration before librdkafka sees it.
struct OIDCClientCredentials: Sendable {
    static let properties = ["sasl.oauthbearer.method", "sasl.oauthbearer.client.id", "sasl.oauthbearer.client.secret",
                             "sasl.oauthbearer.token.endpoint.url", "sasl.oauthbearer.scope", "sasl.oauthbearer.extensions"]

    let tokenEndpoint: String
    let clientID: String
    let clientSecret: String
    let scope: String?
    /// `sasl.oauthbearer.extensions`: `key=value` pairs, comma-separated, sent with the token.
    let extensions: [(String, String)]

    /// The OIDC settings in `properties`, removed from them, when `sasl.oauthbearer.method` is
    /// `oidc` and the linked librdkafka cannot fetch tokens itself; nil otherwise.
    static func take(from properties: inout [String: String]) throws -> OIDCClientCredentials? {
        guard properties["sasl.oauthbearer.method"]?.lowercased() == "oidc", !librdkafkaHasOIDC else { return nil }
        func required(_ key: String) throws -> String {
            guard let value = properties[key], !value.isEmpty else {
                throw RdKafkaError(message: "\(key) is required with sasl.oauthbearer.method=oidc", context: "configuring OAUTHBEARER",
                                   code: RD_KAFKA_RESP_ERR__INVALID_ARG)
            }
            return value
        }
        let credentials = OIDCClientCredentials(
            tokenEndpoint: try required("sasl.oauthbearer.token.endpoint.url"), clientID: try required("sasl.oauthbearer.client.id"),
            clientSecret: try required("sasl.oauthbearer.client.secret"), scope: properties["sasl.oauthbearer.scope"],
            extensions: (properties["sasl.oauthbearer.extensions"] ?? "").split(separator: ",").compactMap { pair in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]).trimmingCharacters(in: .whitespaces), String(kv[1])) : nil
            })
        for key in Self.properties { properties[key] = nil }
        return credentials
    }

    /// Whether the linked librdkafka fetches OIDC tokens itself (built with libcurl).
    static let librdkafkaHasOIDC: Bool = {
        let conf = rd_kafka_conf_new()!
        defer { rd_kafka_conf_destroy(conf) }
        var size = 0
        guard rd_kafka_conf_get(conf, "builtin.features", nil, &size) == RD_KAFKA_CONF_OK else { return false }
        var buffer = [CChar](repeating: 0, count: size)
        guard rd_kafka_conf_get(conf, "builtin.features", &buffer, &size) == RD_KAFKA_CONF_OK else { return false }
        return errorString(buffer).split(separator: ",").contains("oidc")
    }()

    struct Token {
        let value: String
        let lifetimeMs: Int64
        let principal: String
    }

    /// Asks the token endpoint for a token (RFC 6749 §4.4). Blocks: call it only off Swift's
    /// cooperative pool and NIO's event loops (librdkafka's background thread is neither).
    func fetchToken() throws -> Token {
        let failure = { (why: String) in
            RdKafkaError(message: why, context: "fetching an OAUTHBEARER token for client '\(clientID)' from \(tokenEndpoint)",
                         code: RD_KAFKA_RESP_ERR__AUTHENTICATION)
        }
        var form = "grant_type=client_credentials"
        if let scope, !scope.isEmpty { form += "&scope=\(Self.formEncode(scope))" }
        let basic = Data("\(Self.formEncode(clientID)):\(Self.formEncode(clientSecret))".utf8).base64EncodedString()
        let response: HTTPClient.Response
        do {
            let request = try HTTPClient.Request(
                url: tokenEndpoint, method: .POST,
                headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                body: .string(form))
            response = try HTTPClient.shared.execute(request: request, deadline: .now() + .seconds(10)).wait()
        } catch {
            throw failure("\(error)")
        }
        let body = response.body.map { String(buffer: $0) } ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        guard response.status == .ok else {
            let reason = [json?["error"] as? String, json?["error_description"] as? String].compactMap { $0 }.joined(separator: ": ")
            throw failure("HTTP \(response.status.code)\(reason.isEmpty ? "" : " \(reason)")")
        }
        guard let token = json?["access_token"] as? String else { throw failure("the response has no access_token") }
        // As librdkafka's own OIDC support does: the lifetime and principal come from the JWT.
        let claims = Self.claims(of: token)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let lifetimeMs: Int64 = if let exp = Self.int64(claims?["exp"]) {
            exp * 1000
        } else if let expiresIn = Self.int64(json?["expires_in"]) {
            now + expiresIn * 1000
        } else {
            throw failure("neither the token's exp claim nor the response's expires_in says when it expires")
        }
        return Token(value: token, lifetimeMs: lifetimeMs, principal: claims?["sub"] as? String ?? clientID)
    }

    private static func int64(_ value: Any?) -> Int64? {
        switch value {
        case let n as Int: Int64(n)
        case let n as Int64: n
        case let n as Double: Int64(n)
        case let n as NSNumber: n.int64Value
        default: nil
        }
    }

    private static func claims(of jwt: String) -> [String: Any]? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    private static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// librdkafka's token refresh callback, on its background thread: fetch, then hand librdkafka
/// the token, or the reason there is none (so connections fail with it instead of waiting).
func oidcTokenRefreshCallback(_ rk: OpaquePointer?, _ config: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let rk, let context = ClientContext.of(rk), let oidc = context.oidc else { return }
    do {
        let token = try oidc.fetchToken()
        let flat = oidc.extensions.flatMap { [$0.0, $0.1] }
        let cStrings = flat.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer<CChar>($0) }
        var errstr = [CChar](repeating: 0, count: 512)
        let err = pointers.withUnsafeMutableBufferPointer { ext in
            rd_kafka_oauthbearer_set_token(rk, token.value, token.lifetimeMs, token.principal, ext.baseAddress, ext.count, &errstr, errstr.count)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RdKafkaError(message: errorString(errstr), context: "setting the OAUTHBEARER token from \(oidc.tokenEndpoint)", code: err)
        }
        context.tokenFailure.withLock { $0 = nil }
    } catch {
        let reason = "\(error)"
        context.tokenFailure.withLock { $0 = reason }
        context.logger.warning("OAUTHBEARER: \(reason)")
        rd_kafka_oauthbearer_set_token_failure(rk, reason)
    }
}
