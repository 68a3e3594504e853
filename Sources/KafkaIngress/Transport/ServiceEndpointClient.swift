import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RestateProtocol
import Synchronization

/// Talks the Restate service protocol to deployments: discovery, and invocations in
/// request-response mode over HTTP/1.1 (what `use_http_11` asks of Restate).
final class ServiceEndpointClient: Sendable {
    private let http: HTTPClient
    private let timeout: TimeAmount
    /// How each deployment URI is reached, worked out once per URI rather than per invocation:
    /// plain HTTP through our own lean pool (see `HTTP1ConnectionPool`), anything else (https)
    /// through AsyncHTTPClient.
    private let routes = Mutex<[String: Route]>([:])

    private enum Route {
        /// The pool for the URI's host and port, and the URI's path ending in "/".
        case pooled(HTTP1ConnectionPool, basePath: String)
        case general
    }

    init(maxConnectionsPerHost: Int, timeout: TimeAmount = .seconds(60)) {
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerHost)
        configuration.decompression = .disabled
        // A refused connection is a failed attempt for our own retry policy to handle (and a
        // discovery error to report at once), not something to retry inside the client.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.timeout = timeout
    }

    func shutdown() async throws {
        let pools = routes.withLock { routes in
            routes.values.compactMap { route -> HTTP1ConnectionPool? in
                if case .pooled(let pool, _) = route { return pool }
                return nil
            }
        }
        for pool in pools { await pool.shutdown() }
        try await http.shutdown()
    }

    /// `GET {uri}/discover`: the manifest, and the SDK that answered (`x-restate-server`).
    func discover(_ uri: String, headers: [String: String]) async throws -> (manifest: EndpointManifest, sdkVersion: String?) {
        var request = HTTPClientRequest(url: Self.join(uri, "discover"))
        request.headers.add(name: "accept", value: EndpointManifest.acceptedContentTypes)
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(10))
        } catch {
            throw EndpointError.unreachable(uri, "\(error)")
        }
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            throw EndpointError.badDiscovery(uri, "HTTP \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        do {
            return (try JSONDecoder().decode(EndpointManifest.self, from: Data(body.readableBytesView)), response.headers.first(name: "x-restate-server"))
        } catch {
            throw EndpointError.badDiscovery(uri, "the manifest does not decode: \(error)")
        }
    }

    /// One attempt: `POST {uri}/invoke/{service}/{handler}` with the whole request, reading the
    /// whole response: decoded, and as sent (what the journal keeps of it is read from there).
    func invoke(_ uri: String, headers: [String: String], service: String, handler: String,
                _ invocation: InvocationRequest) async throws -> (response: InvocationResponse, body: [UInt8]) {
        let body = ByteBuffer(bytes: invocation.encoded())
        let contentType = serviceProtocolContentType(invocation.protocolVersion)
        let (status, responseBody): (Int, ByteBuffer)
        switch route(for: uri) {
        case .pooled(let pool, let basePath):
            var all = [("content-type", contentType), ("accept", contentType)]
            all += headers.map { ($0.key, $0.value) }
            let response = try await pool.post(basePath + "invoke/\(service)/\(handler)", headers: all, body: body, timeout: timeout)
            (status, responseBody) = (response.status, response.body)
        case .general:
            var request = HTTPClientRequest(url: Self.join(uri, "invoke/\(service)/\(handler)"))
            request.method = .POST
            request.headers.add(name: "content-type", value: contentType)
            request.headers.add(name: "accept", value: contentType)
            for (k, v) in headers { request.headers.add(name: k, value: v) }
            request.body = .bytes(body)
            let response = try await http.execute(request, timeout: timeout)
            (status, responseBody) = (Int(response.status.code), try await response.body.collect(upTo: 64 << 20))
        }
        guard status == 200 else {
            throw EndpointError.httpStatus(status, String(buffer: responseBody).prefix(300).description)
        }
        let bytes = Array(buffer: responseBody)
        return (try InvocationResponse(decoding: bytes), bytes)
    }

    private func route(for uri: String) -> Route {
        routes.withLock { routes in
            if let route = routes[uri] { return route }
            let route: Route
            if let components = URLComponents(string: uri), components.scheme == "http", let host = components.host, components.query == nil {
                let path = components.percentEncodedPath
                route = .pooled(HTTP1ConnectionPool(host: host, port: components.port ?? 80), basePath: path.hasSuffix("/") ? path : path + "/")
            } else {
                route = .general
            }
            routes[uri] = route
            return route
        }
    }

    private static func join(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? base + path : base + "/" + path
    }
}

/// A failure talking to a deployment.
enum EndpointError: Error, CustomStringConvertible {
    case unreachable(String, String)
    case badDiscovery(String, String)
    case httpStatus(Int, String)

    var description: String {
        switch self {
        case .unreachable(let uri, let why): "cannot reach the deployment at \(uri): \(why)"
        case .badDiscovery(let uri, let why): "discovery of \(uri) failed: \(why)"
        case .httpStatus(let code, let body): "the endpoint answered HTTP \(code)\(body.isEmpty ? "" : ": \(body)")"
        }
    }
}
