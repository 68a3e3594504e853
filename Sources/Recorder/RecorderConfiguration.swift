import Foundation
import RestateProtocol

/// What the recorder serves: services, their handler kinds, and how each handler behaves.
public struct RecorderConfiguration: Sendable, Equatable, Codable {
    public struct Service: Sendable, Equatable, Codable {
        public var name: String
        public var type: EndpointManifest.ServiceType
        public var handlers: [Handler]

        public init(name: String, type: EndpointManifest.ServiceType, handlers: [Handler]) {
            self.name = name
            self.type = type
            self.handlers = handlers
        }
    }

    public struct Handler: Sendable, Equatable, Codable {
        public var name: String
        /// nil: the default for the service type (exclusive for objects).
        public var type: EndpointManifest.HandlerType?
        public var behaviour: Behaviour

        public init(name: String, type: EndpointManifest.HandlerType? = nil, behaviour: Behaviour = Behaviour()) {
            self.name = name
            self.type = type
            self.behaviour = behaviour
        }

        enum CodingKeys: String, CodingKey { case name, type, behaviour }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            type = try c.decodeIfPresent(EndpointManifest.HandlerType.self, forKey: .type)
            behaviour = try c.decodeIfPresent(Behaviour.self, forKey: .behaviour) ?? Behaviour()
        }
    }

    /// How a handler answers.
    public struct Behaviour: Sendable, Equatable, Codable {
        /// Time spent in the handler before answering.
        public var latencyMs: Int
        /// The first N attempts of every invocation fail with a retryable error.
        public var failFirstAttempts: Int

        public init(latencyMs: Int = 0, failFirstAttempts: Int = 0) {
            self.latencyMs = latencyMs
            self.failFirstAttempts = failFirstAttempts
        }

        enum CodingKeys: String, CodingKey {
            case latencyMs = "latency_ms"
            case failFirstAttempts = "fail_first_attempts"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
            failFirstAttempts = try c.decodeIfPresent(Int.self, forKey: .failFirstAttempts) ?? 0
        }
    }

    public var services: [Service]

    public init(services: [Service]) {
        self.services = services
    }

    /// The discovery manifest announcing these services.
    public var manifest: EndpointManifest {
        EndpointManifest(services: services.map { s in
            EndpointManifest.Service(name: s.name, ty: s.type, handlers: s.handlers.map { h in
                EndpointManifest.Handler(name: h.name, ty: h.type ?? (s.type == .virtualObject ? .exclusive : nil))
            })
        })
    }

    func behaviour(_ service: String, _ handler: String) -> Behaviour? {
        services.first { $0.name == service }?.handlers.first { $0.name == handler }?.behaviour
    }

    /// Parses a `--service` flag: `NAME:KIND:HANDLER[,HANDLER…]`, where KIND is `service`,
    /// `object` or `workflow` and a handler may end in `@shared`, `@exclusive` or `@workflow`.
    /// Example: `Counter:object:add,get@shared`.
    public static func parseService(_ text: String, behaviour: Behaviour) throws -> Service {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[2].isEmpty else {
            throw RecorderConfigurationError("'\(text)': expected NAME:KIND:HANDLER[,HANDLER...], e.g. Counter:object:add,get@shared")
        }
        let kinds: [String: EndpointManifest.ServiceType] = ["service": .service, "object": .virtualObject, "virtual_object": .virtualObject, "workflow": .workflow]
        guard let kind = kinds[parts[1].lowercased()] else {
            throw RecorderConfigurationError("'\(text)': unknown kind '\(parts[1])'; use service, object or workflow")
        }
        let handlers = try parts[2].split(separator: ",").map { spec -> Handler in
            let pieces = spec.split(separator: "@").map(String.init)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw RecorderConfigurationError("'\(text)': bad handler '\(spec)'") }
            var type: EndpointManifest.HandlerType?
            if pieces.count == 2 {
                guard let t = EndpointManifest.HandlerType(rawValue: pieces[1].uppercased()) else {
                    throw RecorderConfigurationError("'\(text)': unknown handler kind '\(pieces[1])'; use shared, exclusive or workflow")
                }
                type = t
            }
            return Handler(name: pieces[0], type: type, behaviour: behaviour)
        }
        return Service(name: parts[0], type: kind, handlers: handlers)
    }

    /// Reads a JSON file: `{"services": [{"name", "type", "handlers": [{"name", "type"?, "behaviour"?}]}]}`.
    public static func load(file: String) throws -> RecorderConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw RecorderConfigurationError("\(file): cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(RecorderConfiguration.self, from: data)
        } catch {
            throw RecorderConfigurationError("\(file): \(error)")
        }
    }
}

public struct RecorderConfigurationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
