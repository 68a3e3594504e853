import Foundation

/// A subscription: records of a Kafka topic become invocations of one handler.
public struct Subscription: Sendable, Equatable, Codable {
    public var id: String
    /// `kafka://<cluster>/<topic>`
    public var source: String
    /// `service://<service>/<handler>`
    public var sink: String
    /// librdkafka properties for this subscription's consumer, with the defaults filled in.
    public var options: [String: String]

    public var cluster: String { SubscriptionURI(source)?.authority ?? "" }
    public var topic: String { SubscriptionURI(source)?.path ?? "" }
    public var service: String { SubscriptionURI(sink)?.authority ?? "" }
    public var handler: String { SubscriptionURI(sink)?.path ?? "" }
    /// The consumer group: the `group.id` option (defaulted to the subscription id).
    public var groupID: String { options["group.id"] ?? id }
}

/// The pieces of `scheme://authority/path` the ingress needs. Deliberately lenient, like the
/// URI parser Restate uses: no percent-decoding, the path is everything after the first '/'.
struct SubscriptionURI: Equatable {
    var scheme: String?
    var authority: String?
    var path: String

    init?(_ text: String) {
        guard !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "\n" }) else { return nil }
        guard let schemeEnd = text.range(of: "://") else {
            scheme = nil
            authority = nil
            path = text
            return
        }
        scheme = String(text[..<schemeEnd.lowerBound])
        let rest = text[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash].isEmpty ? nil : String(rest[..<slash])
            path = String(rest[rest.index(after: slash)...])
        } else {
            authority = rest.isEmpty ? nil : String(rest)
            path = ""
        }
    }
}

/// Why a subscription was refused. The texts follow Restate's so clients see the same messages.
public enum SubscriptionError: Error, Equatable, CustomStringConvertible {
    case sourceScheme(String)
    case sourceCluster(String)
    case sinkScheme(String)
    case sinkService(String)
    case sinkHandler(String)
    case unknownCluster(String, available: [String])
    case alreadyExists(String)

    /// Restate's error code for the schema errors (none for the cluster check, which Restate's
    /// ingress reports without one).
    public var restateCode: String? {
        if case .unknownCluster = self { return nil }
        return "META0009"
    }

    public var description: String {
        switch self {
        case .sourceScheme(let uri):
            "invalid source URI '\(uri)': must have a scheme segment, with supported schemes: [kafka]."
        case .sourceCluster(let uri):
            "invalid source URI '\(uri)': source URI of Kafka type must have a authority segment containing the cluster name."
        case .sinkScheme(let uri):
            "invalid sink URI '\(uri)': must have a scheme segment, with supported schemes: [service]."
        case .sinkService(let uri):
            "invalid sink URI '\(uri)': sink URI of service type must have a authority segment containing the service name."
        case .sinkHandler(let uri):
            "invalid sink URI '\(uri)': cannot find service/handler specified in the sink URI."
        case .unknownCluster(let name, let available):
            // Rust's Debug rendering of a Vec<String>.
            "Kafka cluster '\(name)' not found. Available clusters: [\(available.map { "\"\($0)\"" }.joined(separator: ", "))]"
        case .alreadyExists(let id):
            "subscription \(id) already exists"
        }
    }

    /// The admin API message: schema errors carry their code as a `[CODE] ` prefix.
    public var message: String {
        restateCode.map { "[\($0)] \(description)" } ?? description
    }
}

extension Subscription {
    /// Validates a create request the way Restate does (source, then sink, then the cluster) and
    /// stores the options as Restate 1.7 does: `group.id` always (the options', else the
    /// cluster's, else the subscription id), `client.id` = "restate" when neither the options nor
    /// the cluster set one. `auto.offset.reset` is left to librdkafka.
    static func make(
        id: String, source: String, sink: String, options: [String: String],
        configuration: IngressConfiguration, handlerExists: (String, String) -> Bool
    ) throws(SubscriptionError) -> Subscription {
        guard let src = SubscriptionURI(source), src.scheme == "kafka" else { throw .sourceScheme(source) }
        guard let cluster = src.authority else { throw .sourceCluster(source) }
        guard let dst = SubscriptionURI(sink), dst.scheme == "service" else { throw .sinkScheme(sink) }
        guard let service = dst.authority else { throw .sinkService(sink) }
        guard !dst.path.isEmpty, handlerExists(service, dst.path) else { throw .sinkHandler(sink) }
        guard let clusterConfig = configuration.cluster(named: cluster) else {
            throw .unknownCluster(cluster, available: configuration.kafkaClusters.map(\.name))
        }
        var options = options
        options["group.id"] = options["group.id"] ?? clusterConfig.properties["group.id"] ?? id
        if options["client.id"] == nil && clusterConfig.properties["client.id"] == nil { options["client.id"] = "restate" }
        return Subscription(id: id, source: source, sink: sink, options: options)
    }
}
