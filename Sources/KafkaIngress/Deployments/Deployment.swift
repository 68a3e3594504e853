import Foundation
import RestateProtocol

/// A registered service endpoint and what its discovery manifest declared.
public struct Deployment: Sendable, Equatable, Codable {
    public var id: String
    public var uri: String
    /// Extra headers sent with every request to the endpoint (e.g. authentication).
    public var additionalHeaders: [String: String]
    public var services: [EndpointManifest.Service]
    /// The service protocol versions the endpoint announced, as Restate lists them (nil in
    /// journals written before they were kept).
    public var minProtocolVersion: Int?
    public var maxProtocolVersion: Int?
    /// The `x-restate-server` header of the discovery answer (the SDK and its version).
    public var sdkVersion: String?
    /// Epoch milliseconds of the registration (kept by an update, renewed by a forced
    /// re-registration, as Restate keeps `created_at`).
    public var createdAt: Int64?
    /// Each service's revision in this deployment: one more than the revision that served it
    /// before, as Restate counts them (nil in journals written before they were kept).
    public var revisions: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case id, uri, services
        case additionalHeaders = "additional_headers"
        case minProtocolVersion = "min_protocol_version"
        case maxProtocolVersion = "max_protocol_version"
        case sdkVersion = "sdk_version"
        case createdAt = "created_at"
        case revisions
    }

    /// The version its invocations use: the highest both sides speak (5 when unknown).
    var protocolVersion: Int {
        guard let minProtocolVersion, let maxProtocolVersion else { return serviceProtocolVersion }
        return EndpointManifest.negotiatedProtocolVersion(min: minProtocolVersion, max: maxProtocolVersion) ?? serviceProtocolVersion
    }

    /// The protocol versions it speaks, as the range Restate checks a pinned version against.
    var supportedProtocolVersions: ClosedRange<Int> {
        let low = minProtocolVersion ?? serviceProtocolVersion
        return low...max(low, maxProtocolVersion ?? serviceProtocolVersion)
    }

    /// Restate's test for "the same deployment" (`semantic_eq_http`): the same authority (host
    /// and port, case-insensitively) and the same path; the scheme, the query and the additional
    /// headers do not count (only the headers named in `admin.deployment-routing-headers` would,
    /// and that list is empty unless configured).
    func hasSameAddress(as uri: String) -> Bool {
        guard let mine = DeploymentAddress(self.uri), let theirs = DeploymentAddress(uri) else { return self.uri == uri }
        return mine == theirs
    }
}

/// A deployment URI reduced to what makes two registrations the same deployment.
struct DeploymentAddress: Equatable {
    var authority: String
    var path: String

    init?(_ uri: String) {
        guard let parts = URLComponents(string: uri), let host = parts.host else { return nil }
        // `http::Uri` keeps the authority as written (userinfo and port included) and compares it
        // without regard to case; an absolute URI's empty path reads as "/".
        var authority = parts.percentEncodedUser.map { "\($0)\(parts.percentEncodedPassword.map { ":\($0)" } ?? "")@" } ?? ""
        authority += parts.percentEncodedHost ?? host
        if let port = parts.port { authority += ":\(port)" }
        self.authority = authority.lowercased()
        path = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
    }
}

/// The services known from registered deployments. A service is served by the deployment with
/// its highest revision (Restate's active service revision), the newest registration of it.
struct ServiceCatalog: Sendable {
    private(set) var deployments: [Deployment] = []

    /// Adds a deployment, or replaces the one with its id. Deployments from journals that kept no
    /// revisions get them here, in registration order.
    mutating func register(_ deployment: Deployment) {
        var deployment = deployment
        if deployment.revisions == nil {
            deployment.revisions = Dictionary(uniqueKeysWithValues: deployment.services.map { ($0.name, (activeRevision(of: $0.name) ?? 0) + 1) })
        }
        if let index = deployments.firstIndex(where: { $0.id == deployment.id }) {
            deployments[index] = deployment
        } else {
            deployments.append(deployment)
        }
    }

    mutating func remove(_ id: String) {
        deployments.removeAll { $0.id == id }
    }

    func deployment(id: String) -> Deployment? {
        deployments.first { $0.id == id }
    }

    /// The newest deployment registered at this address (Restate picks the newest when several
    /// share one, which updates can bring about).
    func deployment(at uri: String) -> Deployment? {
        deployments.filter { $0.hasSameAddress(as: uri) }.max { ($0.createdAt ?? 0) < ($1.createdAt ?? 0) }
    }

    /// The revision of `service` that serves it now.
    func activeRevision(of service: String) -> Int? {
        lookup(service).flatMap { $0.0.revisions?[service] }
    }

    /// The deployment serving `service`, and the service's definition there.
    func lookup(_ service: String) -> (Deployment, EndpointManifest.Service)? {
        var best: (Deployment, EndpointManifest.Service, Int)?
        for deployment in deployments {
            guard let s = deployment.services.first(where: { $0.name == service }) else { continue }
            let revision = deployment.revisions?[service] ?? 0
            if best == nil || revision >= best!.2 { best = (deployment, s, revision) }
        }
        return best.map { ($0.0, $0.1) }
    }

    func handlerExists(_ service: String, _ handler: String) -> Bool {
        lookup(service)?.1.handlers.contains { $0.name == handler } ?? false
    }

    /// Whether calls of this handler on one key must run one at a time, in order.
    func isExclusive(_ service: String, _ handler: String) -> Bool {
        guard let (_, s) = lookup(service), let h = s.handlers.first(where: { $0.name == handler }) else { return false }
        return h.isExclusive(in: s)
    }

    /// How the handler gets its object's state: all of it, or (lazy state) only the preloaded
    /// keys, asking for the rest. The handler's settings win over the service's.
    func stateLoading(_ service: String, _ handler: String) -> (lazy: Bool, preload: Set<String>) {
        guard let (_, s) = lookup(service) else { return (false, []) }
        let h = s.handlers.first { $0.name == handler }
        let lazy = h?.enableLazyState ?? s.enableLazyState ?? false
        return (lazy, Set(h?.eagerStateKeysWhitelist ?? s.eagerStateKeysWhitelist ?? []))
    }

    /// The retry policy of the handler's invocations: `defaultPolicy` with what the service's
    /// manifest and the handler's set.
    func retryPolicy(_ service: String, _ handler: String, default defaultPolicy: RetryPolicy) -> RetryPolicy {
        guard let (_, s) = lookup(service) else { return defaultPolicy }
        return defaultPolicy.overridden(by: s, handler: s.handlers.first { $0.name == handler })
    }

    /// Whether the handler is a workflow's run handler: one run per workflow id (the key).
    func isWorkflowRun(_ service: String, _ handler: String) -> Bool {
        guard let (_, s) = lookup(service), s.ty == .workflow, let h = s.handlers.first(where: { $0.name == handler }) else { return false }
        return h.ty == .workflow
    }

    /// Whether the service is keyed (virtual object or workflow): its records need a key.
    func isKeyed(_ service: String) -> Bool {
        guard let (_, s) = lookup(service) else { return false }
        return s.ty != .service
    }
}
