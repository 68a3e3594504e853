import Foundation
import Hummingbird

/// `/kafka-clusters`, as Restate 1.7 serves it: clusters registered at runtime, next to the
/// deprecated ones of `restate.toml` (listed with a note; not changeable here).
extension AdminAPI {
    func addKafkaClusterRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let ingress = self.ingress
        router.post("/kafka-clusters") { request, _ in
            let body: CreateKafkaClusterRequest
            do throws(AxumRejection) {
                body = try CreateKafkaClusterRequest(try await Self.body(request))
            } catch {
                return error.response
            }
            do {
                let created = try await ingress.createKafkaCluster(name: body.name, properties: body.properties)
                return Self.json(.created, KafkaClusterResponse(created), headers: [.location: "kafka-clusters/\(created.name)"])
            } catch let error as KafkaClusterError {
                return AdminError(error).response
            }
        }
        router.get("/kafka-clusters") { _, _ in
            Self.json(.ok, ["clusters": await ingress.kafkaClusters().map { KafkaClusterResponse($0) }])
        }
        router.get("/kafka-clusters/:name") { request, context in
            let name = Self.clusterName(context)
            guard let cluster = await ingress.kafkaClusters().first(where: { $0.name == name }) else {
                return AdminError(.notFound, "The requested Kafka cluster '\(name)' does not exist").response
            }
            var response = KafkaClusterResponse(cluster)
            response.subscriptions = []
            if request.uri.queryParameters.get("include_subscriptions") == "true" {
                response.subscriptions = await ingress.listSubscriptions().filter { $0.cluster == name }.map(SubscriptionResponse.init)
            }
            return Self.json(.ok, response)
        }
        router.patch("/kafka-clusters/:name") { request, context in
            let name = Self.clusterName(context)
            if let problem = KafkaClusterRegistry.nameError(name) {
                return AdminError(.badRequest, "The request field 'cluster_name' is invalid. Reason: \(problem)").response
            }
            let body: UpdateKafkaClusterRequest
            do throws(AxumRejection) {
                body = try UpdateKafkaClusterRequest(try await Self.body(request))
            } catch {
                return error.response
            }
            do {
                return Self.json(.ok, KafkaClusterResponse(try await ingress.updateKafkaCluster(name: name, properties: body.properties)))
            } catch let error as KafkaClusterError {
                return AdminError(error).response
            }
        }
        router.delete("/kafka-clusters/:name") { request, context in
            let name = Self.clusterName(context)
            if let problem = KafkaClusterRegistry.nameError(name) {
                return AdminError(.badRequest, "The request field 'cluster_name' is invalid. Reason: \(problem)").response
            }
            do {
                try await ingress.deleteKafkaCluster(name: name, force: request.uri.queryParameters.get("force") == "true")
                return Response(status: .accepted)
            } catch let error as KafkaClusterError {
                return AdminError(error).response
            }
        }
    }
}

extension AdminAPI {
    /// The path's cluster name, percent-decoded as axum's `Path` decodes it.
    static func clusterName(_ context: BasicRequestContext) -> String {
        let raw = context.parameters.get("name") ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}

extension AdminError {
    init(_ error: KafkaClusterError) {
        self.init(HTTPResponse.Status(code: error.status), error.description)
    }
}

/// A cluster as `/kafka-clusters` shows it: credentials masked, `subscriptions` only for one cluster.
struct KafkaClusterResponse: Encodable {
    struct Info: Encodable { var message: String }

    var name: String
    var properties: [String: String]
    var createdAt: String
    var info: [Info]?
    var subscriptions: [SubscriptionResponse]?

    init(_ cluster: KafkaClusterView) {
        name = cluster.name
        properties = SecretRedaction.redact(cluster.properties)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        createdAt = formatter.string(from: Date(timeIntervalSince1970: Double(cluster.createdAt) / 1000))
        info = cluster.info.isEmpty ? nil : cluster.info.map(Info.init)
    }

    enum CodingKeys: String, CodingKey {
        case name, properties, info, subscriptions
        case createdAt = "created_at"
    }
}
