import Foundation
import TOMLKit

/// Restate's tracing options (top-level keys of `restate.toml`, `RESTATE_TRACING_*` variables):
/// where the spans of invocations go. Tracing is off unless an endpoint is set.
///
/// Restate 1.7 exports only its services spans (the runtime tracing layer is switched off in
/// that release), so `tracing-runtime-endpoint`, `tracing-json-path` and `tracing-filter` are
/// accepted and change nothing, there as here.
public struct TracingConfiguration: Sendable, Equatable {
    /// `tracing-endpoint`: for services and runtime traces alike.
    public var endpoint: String?
    /// `tracing-services-endpoint`: overrides `endpoint` for the spans of invocations.
    public var servicesEndpoint: String?
    /// `tracing-headers`: sent with every export (authentication, say).
    public var headers: [String: String]
    /// `cluster-name` and `node-name`, which make up the `service.instance.id` resource attribute.
    public var clusterName: String
    public var nodeName: String?

    public static let defaultClusterName = "localcluster"

    public init(endpoint: String? = nil, servicesEndpoint: String? = nil, headers: [String: String] = [:],
                clusterName: String = defaultClusterName, nodeName: String? = nil) {
        self.endpoint = endpoint
        self.servicesEndpoint = servicesEndpoint
        self.headers = headers
        self.clusterName = clusterName
        self.nodeName = nodeName
    }

    /// Where the spans of invocations go, when anywhere.
    public var effectiveEndpoint: String? { servicesEndpoint ?? endpoint }

    /// `cluster/node`, the node being the host's name unless `node-name` is set, as in Restate.
    var instanceID: String { "\(clusterName)/\(nodeName ?? ProcessInfo.processInfo.hostName)" }

    static let environmentVariables = [
        "RESTATE_TRACING_ENDPOINT": "tracing-endpoint",
        "RESTATE_TRACING_SERVICES_ENDPOINT": "tracing-services-endpoint",
        "RESTATE_TRACING_HEADERS": "tracing-headers",
        "RESTATE_CLUSTER_NAME": "cluster-name",
        "RESTATE_NODE_NAME": "node-name",
    ]

    /// Reads the tracing keys of a parsed `restate.toml` (or of one environment variable's
    /// assignment); keys absent from `table` keep their current values.
    mutating func read(_ table: TOMLTable, source: String, locator: KeyLocator) throws {
        func fail(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(source: source, line: locator.line(ofKey: key, cluster: nil), message: message)
        }
        func string(_ key: String) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let string = value.string else { throw fail(key, "`\(key)` must be a string, got \(value)") }
            return string
        }
        func endpoint(_ key: String) throws -> String? {
            guard let endpoint = try string(key) else { return nil }
            do {
                _ = try OTLPEndpoint(parsing: endpoint)
            } catch {
                throw fail(key, "`\(key)`: \(error.message)")
            }
            return endpoint
        }
        if let endpoint = try endpoint("tracing-endpoint") { self.endpoint = endpoint }
        if let endpoint = try endpoint("tracing-services-endpoint") { servicesEndpoint = endpoint }
        if let value = table["tracing-headers"] {
            guard let headerTable = value.table else {
                throw fail("tracing-headers", "`tracing-headers` must be a table of header names to strings, got \(value)")
            }
            var headers: [String: String] = [:]
            for name in headerTable.keys {
                guard let header = headerTable[name]?.string else {
                    throw fail("tracing-headers", "`tracing-headers.\(name)` must be a string, got \(headerTable[name].map { "\($0)" } ?? "")")
                }
                headers[name] = header
            }
            self.headers = headers
        }
        if let name = try string("cluster-name") { clusterName = name }
        if let name = try string("node-name") { nodeName = name }
    }

    /// Applies `restate-server`'s `--tracing-endpoint` and `--tracing-services-endpoint` (nil:
    /// not given), which win over the file and the environment.
    public mutating func override(endpoint: String?, servicesEndpoint: String?) throws {
        for (option, value) in [("--tracing-endpoint", endpoint), ("--tracing-services-endpoint", servicesEndpoint)] {
            guard let value else { continue }
            do {
                _ = try OTLPEndpoint(parsing: value)
            } catch {
                throw ConfigurationError(source: option, line: nil, message: error.message)
            }
        }
        if let endpoint { self.endpoint = endpoint }
        if let servicesEndpoint { self.servicesEndpoint = servicesEndpoint }
    }

    /// Applies the `RESTATE_…` variables, which win over the file as in Restate. Each holds a
    /// TOML value (a quoted string is taken as it is written; anything else as a bare string).
    mutating func applyEnvironment(_ environment: [String: String]) throws {
        for (variable, key) in Self.environmentVariables.sorted(by: { $0.key < $1.key }) {
            guard let value = environment[variable] else { continue }
            let assignment: String
            if key == "tracing-headers" || value.hasPrefix("\"") {
                assignment = "\(key) = \(value)\n"
            } else {
                // Restate takes an unquoted variable as a string; TOML needs it quoted.
                let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                assignment = "\(key) = \"\(escaped)\"\n"
            }
            let table: TOMLTable
            do {
                table = try TOMLTable(string: assignment)
            } catch {
                throw ConfigurationError(source: "$\(variable)", line: nil, message: "not a valid value for `\(key)`: \(value)")
            }
            try read(table, source: "$\(variable)", locator: KeyLocator(text: assignment, lineOffset: 0))
        }
    }
}

/// An OTLP endpoint as Restate reads `tracing-endpoint`: the scheme picks the transport.
/// `http://` and `https://` (and `grpc://`) mean OTLP over gRPC, which collectors take on port
/// 4317; `otlp+http://` (or `otlp+proto+http://`) means protobuf over HTTP, `otlp+json+http://`
/// JSON over HTTP, which collectors take on 4318, at the URL given as it is (with its path,
/// usually `/v1/traces`).
struct OTLPEndpoint: Equatable {
    enum Transport: Equatable {
        case grpc, httpProtobuf, httpJSON
    }

    struct Invalid: Error {
        let message: String
    }

    /// The URL the exporter sends to, with a plain `http`/`https` scheme.
    var url: String
    var transport: Transport

    init(parsing endpoint: String) throws(Invalid) {
        guard let colon = endpoint.range(of: "://"), !endpoint[..<colon.lowerBound].isEmpty,
              URLComponents(string: endpoint)?.host?.isEmpty == false else {
            throw Invalid(message: "'\(endpoint)' is not a URL with a scheme and a host, such as http://localhost:4317")
        }
        let scheme = endpoint[..<colon.lowerBound].lowercased()
        let plain: String
        switch scheme.split(separator: "+").map(String.init).sorted() {
        case ["http"], ["grpc"], ["grpc", "otlp"]: (plain, transport) = ("http", .grpc)
        case ["https"]: (plain, transport) = ("https", .grpc)
        case ["http", "otlp"], ["http", "otlp", "proto"]: (plain, transport) = ("http", .httpProtobuf)
        case ["https", "otlp"], ["https", "otlp", "proto"]: (plain, transport) = ("https", .httpProtobuf)
        case ["http", "json", "otlp"]: (plain, transport) = ("http", .httpJSON)
        case ["https", "json", "otlp"]: (plain, transport) = ("https", .httpJSON)
        default:
            throw Invalid(message: "'\(endpoint)' has the scheme '\(scheme)', which names no OTLP transport: use http:// or https:// (gRPC), otlp+http:// or otlp+https:// (protobuf over HTTP), or otlp+json+http:// (JSON over HTTP)")
        }
        url = plain + endpoint[colon.lowerBound...]
        // gRPC clients want a port; Restate's defaults to the scheme's.
        if transport == .grpc, let parsed = URLComponents(string: url), parsed.port == nil, let host = parsed.host {
            url = "\(plain)://\(host):\(plain == "https" ? 443 : 80)"
        }
    }
}
