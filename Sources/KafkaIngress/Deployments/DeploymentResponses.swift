import Foundation
import RestateProtocol

/// Restate's answers about deployments, written with their fields in Restate's order.
enum DeploymentResponses {
    /// `POST /deployments` (`RegisterDeploymentResponse`).
    static func registered(_ deployment: Deployment) -> OrderedJSON {
        var fields: [(String, OrderedJSON)] = [
            ("id", .string(deployment.id)),
            ("services", .array(services(of: deployment))),
            ("min_protocol_version", .int(deployment.supportedProtocolVersions.lowerBound)),
            ("max_protocol_version", .int(deployment.supportedProtocolVersions.upperBound)),
        ]
        if let sdk = deployment.sdkVersion { fields.append(("sdk_version", .string(sdk))) }
        return .object(fields)
    }

    /// `GET` and `PATCH /deployments/{id}` for an HTTP deployment (`DetailedDeploymentResponse::Http`).
    static func detailed(_ deployment: Deployment) -> OrderedJSON {
        var fields: [(String, OrderedJSON)] = [
            ("id", .string(deployment.id)),
            ("uri", .string(displayed(deployment.uri))),
            // Request-response over HTTP/1.1 is the only way this ingress reaches a deployment.
            ("protocol_type", .string("RequestResponse")),
            ("http_version", .string("HTTP/1.1")),
        ]
        if !deployment.additionalHeaders.isEmpty {
            // `http::HeaderName` keeps names in lower case; Restate's map has no order, ours is by name.
            let headers = Dictionary(deployment.additionalHeaders.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
            fields.append(("additional_headers", .object(headers.keys.sorted().map { ($0, .string(headers[$0]!)) })))
        }
        fields += [
            ("created_at", .string(timestamp(deployment.createdAt ?? 0))),
            ("min_protocol_version", .int(deployment.supportedProtocolVersions.lowerBound)),
            ("max_protocol_version", .int(deployment.supportedProtocolVersions.upperBound)),
        ]
        if let sdk = deployment.sdkVersion { fields.append(("sdk_version", .string(sdk))) }
        fields.append(("services", .array(services(of: deployment))))
        return .object(fields)
    }

    /// The services as Restate's `ServiceMetadata` shows them, limited to what this ingress
    /// knows: name, type, handlers (name, type), deployment id and revision.
    static func services(of deployment: Deployment) -> [OrderedJSON] {
        deployment.services.map { service in
            .object([
                ("name", .string(service.name)),
                ("ty", .string(typeName(service.ty))),
                ("handlers", .array(service.handlers.map { handler in
                    .object([("name", .string(handler.name))] + (handlerTypeName(handler, in: service).map { [("ty", .string($0))] } ?? []))
                })),
                ("deployment_id", .string(deployment.id)),
                ("revision", .int(deployment.revisions?[service.name] ?? 1)),
            ])
        }
    }

    /// A URI as `http::Uri` prints it: an absolute URI without a path gets "/".
    static func displayed(_ uri: String) -> String {
        guard let parts = URLComponents(string: uri), parts.host != nil, parts.percentEncodedPath.isEmpty else { return uri }
        var shown = parts
        shown.percentEncodedPath = "/"
        return shown.string ?? uri
    }

    /// Epoch milliseconds as `humantime` prints a timestamp: RFC 3339 in UTC, with a fraction
    /// only when there is one (three digits for whole milliseconds).
    static func timestamp(_ ms: Int64) -> String {
        let (seconds, fraction) = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000, ((ms % 1000) + 1000) % 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", date.year ?? 0, date.month ?? 0, date.day ?? 0,
                          date.hour ?? 0, date.minute ?? 0, date.second ?? 0)
        return fraction == 0 ? base + "Z" : base + String(format: ".%03dZ", Int(fraction))
    }

    /// Restate's `ServiceType` as serde writes it.
    static func typeName(_ ty: EndpointManifest.ServiceType) -> String {
        switch ty {
        case .service: "Service"
        case .virtualObject: "VirtualObject"
        case .workflow: "Workflow"
        }
    }

    /// Restate's `HandlerMetadataType`: none for a service's handlers; an object's default to
    /// exclusive, a workflow's to shared.
    static func handlerTypeName(_ handler: EndpointManifest.Handler, in service: EndpointManifest.Service) -> String? {
        switch (service.ty, handler.ty) {
        case (.service, _): nil
        case (_, .exclusive?), (.virtualObject, nil): "Exclusive"
        case (_, .shared?), (.workflow, nil): "Shared"
        case (_, .workflow?): "Workflow"
        }
    }
}
