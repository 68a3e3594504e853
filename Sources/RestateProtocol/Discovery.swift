/// The discovery manifest an endpoint returns from `GET /discover`.
public struct EndpointManifest: Codable, Sendable, Equatable {
    public static let contentType = "application/vnd.restate.endpointmanifest.v3+json"
    /// What a runtime accepts when it discovers an endpoint, as Restate 1.7 asks: versions 1 to
    /// 4, so an SDK answers with its newest (v4 carries retry policies; an SDK refuses to send
    /// a service that has one as v3).
    public static let acceptedContentTypes = (1...4).map { "application/vnd.restate.endpointmanifest.v\($0)+json" }.joined(separator: ", ")

    public var protocolMode: String?
    public var minProtocolVersion: Int
    public var maxProtocolVersion: Int
    public var services: [Service]

    public struct Service: Codable, Sendable, Equatable {
        public var name: String
        public var ty: ServiceType
        public var handlers: [Handler]
        /// Send only the preloaded part of the state (`eagerStateKeysWhitelist`; none when
        /// absent): the handler asks for the rest (lazy state).
        public var enableLazyState: Bool?
        public var eagerStateKeysWhitelist: [String]?
        /// The service's retry policy (discovery v4), over the runtime's default.
        public var retryPolicyInitialInterval: Int?
        public var retryPolicyMaxInterval: Int?
        public var retryPolicyMaxAttempts: Int?
        public var retryPolicyExponentiationFactor: Double?
        /// `PAUSE` or `KILL`.
        public var retryPolicyOnMaxAttempts: String?

        public init(name: String, ty: ServiceType, handlers: [Handler]) {
            self.name = name
            self.ty = ty
            self.handlers = handlers
        }
    }

    public struct Handler: Codable, Sendable, Equatable {
        public var name: String
        /// Absent for Service handlers (SDKs omit it).
        public var ty: HandlerType?
        /// The handler's own lazy state settings, over the service's.
        public var enableLazyState: Bool?
        public var eagerStateKeysWhitelist: [String]?
        /// The handler's own retry policy settings, over the service's (milliseconds).
        public var retryPolicyInitialInterval: Int?
        public var retryPolicyMaxInterval: Int?
        public var retryPolicyMaxAttempts: Int?
        public var retryPolicyExponentiationFactor: Double?
        public var retryPolicyOnMaxAttempts: String?

        public init(name: String, ty: HandlerType?) {
            self.name = name
            self.ty = ty
        }
    }

    public enum ServiceType: String, Codable, Sendable {
        case service = "SERVICE"
        case virtualObject = "VIRTUAL_OBJECT"
        case workflow = "WORKFLOW"
    }

    public enum HandlerType: String, Codable, Sendable {
        case exclusive = "EXCLUSIVE"
        case shared = "SHARED"
        case workflow = "WORKFLOW"
    }

    public init(protocolMode: String? = "REQUEST_RESPONSE", minProtocolVersion: Int = serviceProtocolVersion,
                maxProtocolVersion: Int = serviceProtocolVersion, services: [Service]) {
        self.protocolMode = protocolMode
        self.minProtocolVersion = minProtocolVersion
        self.maxProtocolVersion = maxProtocolVersion
        self.services = services
    }

    /// Whether this endpoint can be called with a protocol version this package speaks.
    public var supportsOurProtocol: Bool { negotiatedProtocolVersion != nil }

    /// The version invocations of this endpoint use: the highest both sides speak.
    public var negotiatedProtocolVersion: Int? { Self.negotiatedProtocolVersion(min: minProtocolVersion, max: maxProtocolVersion) }

    /// The highest version of `min...max` this package speaks; nil when none is.
    public static func negotiatedProtocolVersion(min: Int, max: Int) -> Int? {
        let version = Swift.min(max, serviceProtocolVersions.upperBound)
        return version >= Swift.max(min, serviceProtocolVersions.lowerBound) ? version : nil
    }
}

extension EndpointManifest.Handler {
    /// Whether invocations of this handler on one key must run one at a time, in order: the
    /// exclusive handlers of virtual objects and the run handler of workflows.
    public func isExclusive(in service: EndpointManifest.Service) -> Bool {
        switch service.ty {
        case .service: false
        case .virtualObject: (ty ?? .exclusive) == .exclusive
        case .workflow: (ty ?? .shared) == .workflow
        }
    }
}
