/// The admin API's request bodies, read as serde reads Restate's request types: fields in
/// document order, unknown ones ignored, a repeated one refused, missing ones reported after the
/// object, every message prefixed with the path of the value it is about.
struct CreateSubscriptionRequest {
    var source: String
    var sink: String
    var options: [String: String]?

    init(_ body: JSONRequestBody) throws(AxumRejection) {
        let fields = try StructReader(body.root, name: "CreateSubscriptionRequest", fieldCount: 3)
        var source: String?, sink: String?, options: [String: String]??
        for (key, keyEnd, value) in fields.members {
            switch key {
            case "source": source = try fields.once(source, key, keyEnd, value) { v throws(AxumRejection) in try StructReader.uri(v, path: key) }
            case "sink": sink = try fields.once(sink, key, keyEnd, value) { v throws(AxumRejection) in try StructReader.uri(v, path: key) }
            case "options": options = try fields.once(options, key, keyEnd, value) { v throws(AxumRejection) in try StructReader.optionalStringMap(v, path: key) }
            default: continue
            }
        }
        self.source = try fields.required(source, "source")
        self.sink = try fields.required(sink, "sink")
        self.options = options ?? nil
    }
}

struct CreateKafkaClusterRequest {
    var name: String
    var properties: [String: String]

    init(_ body: JSONRequestBody) throws(AxumRejection) {
        let fields = try StructReader(body.root, name: "CreateKafkaClusterRequest", fieldCount: 2)
        var name: String?, properties: [String: String]?
        for (key, keyEnd, value) in fields.members {
            switch key {
            case "name": name = try fields.once(name, key, keyEnd, value) { v throws(AxumRejection) in try StructReader.clusterName(v, path: key) }
            case "properties": properties = try fields.once(properties, key, keyEnd, value) { v throws(AxumRejection) in try StructReader.stringMap(v, path: key) }
            default: continue
            }
        }
        self.name = try fields.required(name, "name")
        self.properties = try fields.required(properties, "properties")
    }
}

struct UpdateKafkaClusterRequest {
    var properties: [String: String]

    init(_ body: JSONRequestBody) throws(AxumRejection) {
        let fields = try StructReader(body.root, name: "UpdateKafkaClusterRequest", fieldCount: 1)
        var properties: [String: String]?
        for (key, keyEnd, value) in fields.members where key == "properties" {
            properties = try fields.once(properties, key, keyEnd, value) { v throws(AxumRejection) in try StructReader.stringMap(v, path: key) }
        }
        self.properties = try fields.required(properties, "properties")
    }
}

/// Restate's is an untagged enum (an HTTP endpoint or a Lambda ARN), so any shape error gives
/// serde's one message for untagged enums, without a position.
struct RegisterDeploymentRequest {
    var uri: String
    var additionalHeaders: [String: String]?
    var useHTTP11: Bool?
    var force: Bool?

    static let mismatch = AxumRejection.data("data did not match any variant of untagged enum RegisterDeploymentRequest")

    init(_ body: JSONRequestBody) throws(AxumRejection) {
        guard case .object(let members) = body.root.value else { throw Self.mismatch }
        var uri: String?, headers: [String: String]?, http11: Bool?, force: Bool?
        var seen: Set<String> = []
        for (key, _, value) in members {
            guard seen.insert(key).inserted || !["uri", "additional_headers", "use_http_11", "force"].contains(key) else { throw Self.mismatch }
            switch (key, value.value) {
            case ("uri", .string(let s)) where StructReader.uriError(s) == nil: uri = s
            case ("additional_headers", .null), ("use_http_11", .null), ("force", .null): continue
            case ("additional_headers", .object(let pairs)):
                headers = [:]
                for (name, _, v) in pairs {
                    guard case .string(let s) = v.value else { throw Self.mismatch }
                    headers?[name] = s
                }
            case ("use_http_11", .bool(let b)): http11 = b
            case ("force", .bool(let b)): force = b
            case ("uri", _), ("additional_headers", _), ("use_http_11", _), ("force", _): throw Self.mismatch
            default: continue
            }
        }
        guard let uri else { throw Self.mismatch }
        self.uri = uri
        self.additionalHeaders = headers
        self.useHTTP11 = http11
        self.force = force
    }
}

/// Reads a JSON object as serde's derived `Deserialize` reads a struct.
struct StructReader {
    let members: [(key: String, keyEnd: JSONPosition, value: JSONNode)]
    private let end: JSONPosition

    init(_ node: JSONNode, name: String, fieldCount: Int) throws(AxumRejection) {
        switch node.value {
        case .object(let members):
            self.members = members
            end = node.end
        case .array(let elements):
            throw .data("invalid length \(elements.count), expected struct \(name) with \(fieldCount) elements \(node.end)")
        default:
            throw .data("invalid type: \(node.unexpected), expected struct \(name) \(node.typeErrorPosition)")
        }
    }

    /// A field's value, unless the field came before.
    func once<T>(_ previous: T?, _ key: String, _ keyEnd: JSONPosition, _ value: JSONNode,
                 _ read: (JSONNode) throws(AxumRejection) -> T) throws(AxumRejection) -> T {
        guard previous == nil else { throw .data("duplicate field `\(key)` \(keyEnd)") }
        return try read(value)
    }

    func required<T>(_ value: T?, _ key: String) throws(AxumRejection) -> T {
        guard let value else { throw .data("missing field `\(key)` \(end)") }
        return value
    }

    /// A string that `http::Uri` parses (Restate reads URIs with `DisplayFromStr`).
    static func uri(_ node: JSONNode, path: String) throws(AxumRejection) -> String {
        guard case .string(let s) = node.value else {
            throw .data("\(path): invalid type: \(node.unexpected), expected a string \(node.typeErrorPosition)")
        }
        if let problem = uriError(s) { throw .data("\(path): \(problem) \(node.end)") }
        return s
    }

    /// The http crate's refusals that a URI string can meet before Restate's own checks.
    static func uriError(_ s: String) -> String? {
        if s.isEmpty { return "empty string" }
        if s.unicodeScalars.contains(where: { !URICharacters.uri.contains($0) }) { return "invalid uri character" }
        return nil
    }

    /// A cluster name (`DeserializeFromStr` of an `http::uri::Authority`).
    static func clusterName(_ node: JSONNode, path: String) throws(AxumRejection) -> String {
        guard case .string(let s) = node.value else {
            throw .data("\(path): invalid type: \(node.unexpected), expected a string \(node.typeErrorPosition)")
        }
        if let problem = KafkaClusterRegistry.nameError(s) { throw .data("\(path): \(problem) \(node.end)") }
        return s
    }

    static func stringMap(_ node: JSONNode, path: String) throws(AxumRejection) -> [String: String] {
        if case .null = node.value { throw .data("\(path): invalid type: null, expected a map \(node.end)") }
        return try optionalStringMap(node, path: path) ?? [:]
    }

    static func optionalStringMap(_ node: JSONNode, path: String) throws(AxumRejection) -> [String: String]? {
        switch node.value {
        case .null:
            return nil
        case .object(let members):
            var map: [String: String] = [:]
            for (key, _, value) in members {
                guard case .string(let s) = value.value else {
                    throw .data("\(path).\(key): invalid type: \(value.unexpected), expected a string \(value.typeErrorPosition)")
                }
                map[key] = s
            }
            return map
        default:
            throw .data("\(path): invalid type: \(node.unexpected), expected a map \(node.typeErrorPosition)")
        }
    }
}
