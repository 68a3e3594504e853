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
    /// Plain-HTTP endpoints use our own lean pool (see `HTTP1ConnectionPool`); https goes
    /// through AsyncHTTPClient.
    private let pools = Mutex<[String: HTTP1ConnectionPool]>([:])

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
        for pool in pools.withLock({ Array($0.values) }) { await pool.shutdown() }
        try await http.shutdown()
    }

    /// `GET {uri}/discover`.
    func discover(_ uri: String, headers: [String: String]) async throws -> EndpointManifest {
        var request = HTTPClientRequest(url: Self.join(uri, "discover"))
        request.headers.add(name: "accept", value: EndpointManifest.contentType)
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
            return try JSONDecoder().decode(EndpointManifest.self, from: Data(body.readableBytesView))
        } catch {
            throw EndpointError.badDiscovery(uri, "the manifest does not decode: \(error)")
        }
    }

    /// One attempt: `POST {uri}/invoke/{service}/{handler}` with the whole request, reading the
    /// whole response.
    func invoke(_ uri: String, headers: [String: String], service: String, handler: String,
                _ invocation: InvocationRequest) async throws -> InvocationResponse {
        let url = Self.join(uri, "invoke/\(service)/\(handler)")
        let body = ByteBuffer(bytes: invocation.encoded())
        let (status, responseBody): (Int, ByteBuffer)
        if let (pool, path) = pool(for: url) {
            var all = [("content-type", invocationContentType), ("accept", invocationContentType)]
            all += headers.map { ($0.key, $0.value) }
            let response = try await pool.post(path, headers: all, body: body, timeout: timeout)
            (status, responseBody) = (response.status, response.body)
        } else {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: invocationContentType)
            request.headers.add(name: "accept", value: invocationContentType)
            for (k, v) in headers { request.headers.add(name: k, value: v) }
            request.body = .bytes(body)
            let response = try await http.execute(request, timeout: timeout)
            (status, responseBody) = (Int(response.status.code), try await response.body.collect(upTo: 64 << 20))
        }
        guard status == 200 else {
            throw EndpointError.httpStatus(status, String(buffer: responseBody).prefix(300).description)
        }
        return try InvocationResponse(decoding: Array(buffer: responseBody))
    }

    /// The pool for a plain-HTTP URL, and the request path; nil for anything else.
    private func pool(for url: String) -> (HTTP1ConnectionPool, String)? {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else { return nil }
        let port = components.port ?? 80
        let path = components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let key = "\(host):\(port)"
        let pool = pools.withLock { pools in
            if let pool = pools[key] { return pool }
            let pool = HTTP1ConnectionPool(host: host, port: port)
            pools[key] = pool
            return pool
        }
        return (pool, path)
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
