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
    /// nil when absent: Restate then uses HTTP/2, this ingress HTTP/1.1 (its only one).
    var useHTTP11: Bool?
    var breaking: Bool
    var force: Bool?
    var dryRun: Bool

    static let mismatch = AxumRejection.data("data did not match any variant of untagged enum RegisterDeploymentRequest")

    init(_ body: JSONRequestBody) throws(AxumRejection) {
        guard case .object(let members) = body.root.value else { throw Self.mismatch }
        var uri: String?, headers: [String: String]?, http11: Bool?, breaking = false, force: Bool?, dryRun = false
        var seen: Set<String> = []
        for (key, _, value) in members {
            guard seen.insert(key).inserted || !Self.fields.contains(key) else { throw Self.mismatch }
            switch (key, value.value) {
            case ("uri", .string(let s)) where StructReader.uriError(s) == nil: uri = s
            // Only the `Option` fields take null; the others have defaults for when they are absent.
            case ("additional_headers", .null), ("force", .null): continue
            case ("additional_headers", _): headers = try Self.headers(value, mismatch: Self.mismatch)
            case ("metadata", _): _ = try Self.headers(value, mismatch: Self.mismatch)
            case ("use_http_11", .bool(let b)): http11 = b
            case ("breaking", .bool(let b)): breaking = b
            case ("force", .bool(let b)): force = b
            case ("dry_run", .bool(let b)): dryRun = b
            case ("uri", _), ("use_http_11", _), ("breaking", _), ("force", _), ("dry_run", _): throw Self.mismatch
            default: continue
            }
        }
        guard let uri else { throw Self.mismatch }
        self.uri = uri
        self.additionalHeaders = headers
        self.useHTTP11 = http11
        self.breaking = breaking
        self.force = force
        self.dryRun = dryRun
    }

    private static let fields: Set<String> = ["uri", "additional_headers", "metadata", "use_http_11", "breaking", "force", "dry_run"]

    /// A map of strings (headers, metadata), or the enum's mismatch.
    static func headers(_ node: JSONNode, mismatch: AxumRejection) throws(AxumRejection) -> [String: String] {
        guard case .object(let pairs) = node.value else { throw mismatch }
        var map: [String: String] = [:]
        for (name, _, v) in pairs {
            guard case .string(let s) = v.value else { throw mismatch }
            map[name] = s
        }
        return map
    }
}

/// `PATCH /deployments/{id}`: Restate's untagged enum tries the HTTP form, then the Lambda form.
/// The HTTP form needs the `uri` key (null allowed: its field is read through `DisplayFromStr`
/// without a default), so a body without it is read as the Lambda form, whose fields are all
/// optional: an object that fits neither form is the only refusal.
enum UpdateDeploymentRequest {
    case http(uri: String?, additionalHeaders: [String: String]?, useHTTP11: Bool?, overwrite: Bool, dryRun: Bool)
    case lambda(arn: String?, assumeRoleARN: String?, additionalHeaders: [String: String]?, overwrite: Bool, dryRun: Bool)

    static let mismatch = AxumRejection.data("data did not match any variant of untagged enum UpdateDeploymentRequest")

    init(_ body: JSONRequestBody) throws(AxumRejection) {
        guard case .object(let members) = body.root.value else { throw Self.mismatch }
        if let http = Self.http(members) {
            self = http
        } else if let lambda = Self.lambda(members) {
            self = lambda
        } else {
            throw Self.mismatch
        }
    }

    var overwrite: Bool {
        switch self {
        case .http(_, _, _, let overwrite, _), .lambda(_, _, _, let overwrite, _): overwrite
        }
    }

    var dryRun: Bool {
        switch self {
        case .http(_, _, _, _, let dryRun), .lambda(_, _, _, _, let dryRun): dryRun
        }
    }

    private static func http(_ members: [(key: String, keyEnd: JSONPosition, value: JSONNode)]) -> UpdateDeploymentRequest? {
        var uri: String??, headers: [String: String]??, http11: Bool??, overwrite: Bool?, dryRun: Bool?
        for (key, _, value) in members {
            switch (key, value.value) {
            case ("uri", _) where uri != nil, ("additional_headers", _) where headers != nil, ("use_http_11", _) where http11 != nil,
                 ("overwrite", _) where overwrite != nil, ("dry_run", _) where dryRun != nil:
                return nil
            case ("uri", .null): uri = .some(nil)
            case ("uri", .string(let s)) where StructReader.uriError(s) == nil: uri = s
            case ("additional_headers", .null): headers = .some(nil)
            case ("additional_headers", _):
                guard let map = try? RegisterDeploymentRequest.headers(value, mismatch: mismatch) else { return nil }
                headers = map
            case ("use_http_11", .null): http11 = .some(nil)
            case ("use_http_11", .bool(let b)): http11 = b
            case ("overwrite", .bool(let b)): overwrite = b
            case ("dry_run", .bool(let b)): dryRun = b
            case ("uri", _), ("use_http_11", _), ("overwrite", _), ("dry_run", _): return nil
            default: continue
            }
        }
        guard let uri else { return nil }
        return .http(uri: uri, additionalHeaders: headers ?? nil, useHTTP11: http11 ?? nil, overwrite: overwrite ?? false, dryRun: dryRun ?? false)
    }

    private static func lambda(_ members: [(key: String, keyEnd: JSONPosition, value: JSONNode)]) -> UpdateDeploymentRequest? {
        var arn: String??, role: String??, headers: [String: String]??, overwrite: Bool?, dryRun: Bool?
        for (key, _, value) in members {
            switch (key, value.value) {
            case ("arn", _) where arn != nil, ("assume_role_arn", _) where role != nil, ("additional_headers", _) where headers != nil,
                 ("overwrite", _) where overwrite != nil, ("dry_run", _) where dryRun != nil:
                return nil
            case ("arn", .null): arn = .some(nil)
            case ("arn", .string(let s)): arn = s
            case ("assume_role_arn", .null): role = .some(nil)
            case ("assume_role_arn", .string(let s)): role = s
            case ("additional_headers", .null): headers = .some(nil)
            case ("additional_headers", _):
                guard let map = try? RegisterDeploymentRequest.headers(value, mismatch: mismatch) else { return nil }
                headers = map
            case ("overwrite", .bool(let b)): overwrite = b
            case ("dry_run", .bool(let b)): dryRun = b
            case ("arn", _), ("assume_role_arn", _), ("overwrite", _), ("dry_run", _): return nil
            default: continue
            }
        }
        return .lambda(arn: arn ?? nil, assumeRoleARN: role ?? nil, additionalHeaders: headers ?? nil,
                       overwrite: overwrite ?? false, dryRun: dryRun ?? false)
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
