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

    enum CodingKeys: String, CodingKey {
        case id, uri, services
        case additionalHeaders = "additional_headers"
        case minProtocolVersion = "min_protocol_version"
        case maxProtocolVersion = "max_protocol_version"
    }

    /// The version its invocations use: the highest both sides speak (5 when unknown).
    var protocolVersion: Int {
        guard let minProtocolVersion, let maxProtocolVersion else { return serviceProtocolVersion }
        return EndpointManifest.negotiatedProtocolVersion(min: minProtocolVersion, max: maxProtocolVersion) ?? serviceProtocolVersion
    }
}

/// The services known from registered deployments; the newest registration of a service wins.
struct ServiceCatalog: Sendable {
    private(set) var deployments: [Deployment] = []

    mutating func register(_ deployment: Deployment) {
        deployments.removeAll { $0.id == deployment.id || $0.uri == deployment.uri }
        deployments.append(deployment)
    }

    mutating func remove(_ id: String) {
        deployments.removeAll { $0.id == id }
    }

    /// The deployment serving `service`, and the service's definition there.
    func lookup(_ service: String) -> (Deployment, EndpointManifest.Service)? {
        for deployment in deployments.reversed() {
            if let s = deployment.services.first(where: { $0.name == service }) { return (deployment, s) }
        }
        return nil
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
