import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// JSON over HTTP to an admin API, through AsyncHTTPClient's process-wide client (which needs
/// no shutdown, so no test can forget one).
struct AdminClient: Sendable {
    let base: String
    var http: HTTPClient { .shared }

    struct Result {
        var status: Int
        var body: String
        var headers: [String: String]

        func json() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// `contentType` goes with a body (nil: none).
    func request(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, raw: String? = nil,
                 contentType: String? = "application/json", headers: [String: String] = [:]) async throws -> Result {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body = try json.map({ try JSONSerialization.data(withJSONObject: $0) }) ?? raw.map({ Data($0.utf8) }) {
            if let contentType { request.headers.add(name: "content-type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Result(status: Int(response.status.code), body: String(buffer: body),
                      headers: Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }))
    }

    func get(_ path: String) async throws -> Result { try await request(.GET, path) }
    func post(_ path: String, _ json: [String: Any]) async throws -> Result { try await request(.POST, path, json: json) }
}
