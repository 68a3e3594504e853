import Foundation
import Hummingbird
import RestateProtocol

/// `/deployments`, as Restate 1.7 serves it (`crates/admin/src/rest_api/deployments.rs`). Some
/// answers depend on the API version of the path: `version` is 2, 3 or 4, nil when unversioned.
extension AdminAPI {
    func addDeploymentRoutes(to router: some RouterMethods<BasicRequestContext>, version: Int?) {
        let ingress = self.ingress
        // Restate answers as the newest API does when the path names no version.
        let modern = (version ?? 3) >= 3

        router.post("/deployments") { request, _ in
            let body: RegisterDeploymentRequest
            do throws(AxumRejection) {
                body = try RegisterDeploymentRequest(try await Self.body(request))
            } catch {
                return error.response
            }
            // `force` defaults to true only on API versions 1 and 2; it allows breaking changes too.
            let force = body.force ?? (version == 2)
            do {
                guard Self.isAbsolute(body.uri) else { throw Self.relativeURI(body.uri) }
                let (result, deployment) = try await ingress.registerDeployment(
                    uri: body.uri, additionalHeaders: body.additionalHeaders ?? [:], overwrite: force, allowBreaking: force || body.breaking,
                    dryRun: body.dryRun, http2Refused: { if body.useHTTP11 == false { throw Self.http2Refusal } })
                let status: HTTPResponse.Status
                switch result {
                case .created: status = .created
                case .overwritten: status = modern ? .ok : .created
                case .unchanged:
                    guard modern else { throw AdminError(.conflict, "Conflict: deployment \(deployment.id) already exists") }
                    status = .ok
                }
                return Self.json(status, DeploymentResponses.registered(deployment), headers: [.location: "deployments/\(deployment.id)"])
            } catch {
                return Self.deploymentError(error).response
            }
        }
        router.get("/deployments") { _, _ in
            Self.json(.ok, ["deployments": await ingress.deployments().map(DeploymentListEntry.init)])
        }
        router.get("/deployments/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedPath(id, name: "deployment", type: "dp") { return rejection.response }
            guard let deployment = await ingress.deployment(id: id) else { return Self.deploymentNotFound(id).response }
            return Self.json(.ok, DeploymentResponses.detailed(deployment))
        }
        router.delete("/deployments/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedPath(id, name: "deployment", type: "dp") { return rejection.response }
            // Restate removes deployments only by force; without, it answers 501 with no body.
            guard request.uri.queryParameters.get("force") == "true" else { return Response(status: .notImplemented) }
            guard try await ingress.removeDeployment(id) else {
                return AdminError(.notFound, "not found in the schema registry: deployment with id '\(id)'").response
            }
            return Response(status: .accepted)
        }
        // One handler for both: PUT is PATCH on API version 2 and refused (after the path and the
        // body are read) on the others.
        for method in [HTTPRequest.Method.patch, .put] {
            router.on("/deployments/:id", method: method) { request, context in
                let id = context.parameters.get("id") ?? ""
                if let rejection = Self.malformedPath(id, name: "deployment", type: "dp") { return rejection.response }
                let body: UpdateDeploymentRequest
                do throws(AxumRejection) {
                    body = try UpdateDeploymentRequest(try await Self.body(request))
                } catch {
                    return error.response
                }
                if method == .put && modern {
                    return AdminError(.methodNotAllowed, "PUT deployment is deprecated, use PATCH instead").response
                }
                do {
                    return Self.json(.ok, DeploymentResponses.detailed(try await Self.update(id, body, ingress)))
                } catch {
                    return Self.deploymentError(error).response
                }
            }
        }
    }

    /// The update's checks in Restate's order: nothing to change answers the deployment as it
    /// is; then the new URI, the deployment's existence, and the registry's own checks.
    private static func update(_ id: String, _ body: UpdateDeploymentRequest, _ ingress: KafkaIngress) async throws -> Deployment {
        switch body {
        case .http(nil, nil, nil, _, _), .lambda(nil, nil, nil, _, _):
            guard let deployment = await ingress.deployment(id: id) else { throw deploymentNotFound(id) }
            return deployment
        case .http(let uri, let headers, let http11, let overwrite, let dryRun):
            if let uri, !isAbsolute(uri) { throw relativeURI(uri) }
            guard await ingress.deployment(id: id) != nil else { throw deploymentNotFound(id) }
            if http11 == false { throw http2Refusal }
            return try await ingress.updateDeployment(id, uri: uri, additionalHeaders: headers, overwrite: overwrite, dryRun: dryRun)
        case .lambda(let arn, let role, let headers, let overwrite, let dryRun):
            guard arn == nil && role == nil else {
                // Our deployments are all HTTP ones, so a Lambda address can never apply.
                guard await ingress.deployment(id: id) != nil else {
                    throw AdminError(.notFound, "not found in the schema registry: \(id)")
                }
                throw AdminError(.badRequest, "cannot update the deployment, as the deployment type is http while the update options are for type lambda")
            }
            return try await ingress.updateDeployment(id, uri: nil, additionalHeaders: headers, overwrite: overwrite, dryRun: dryRun)
        }
    }

    /// `validate_uri`: a scheme and an authority.
    private static func isAbsolute(_ uri: String) -> Bool {
        guard let url = URL(string: uri), url.scheme != nil, url.host != nil else { return false }
        return true
    }

    private static func relativeURI(_ uri: String) -> AdminError {
        AdminError(.badRequest, "The request field 'uri' is invalid. Reason: The provided uri \(uri) is not absolute, only absolute URIs can be used.")
    }

    private static let http2Refusal = AdminError(.badRequest, "this ingress reaches deployments over HTTP/1.1 only; omit use_http_11 or set it to true")

    static func deploymentNotFound(_ id: String) -> AdminError {
        AdminError(.notFound, "The requested deployment '\(id)' does not exist")
    }

    private static func deploymentError(_ error: any Error) -> AdminError {
        switch error {
        case let error as AdminError: error
        case let error as KafkaIngress.DeploymentRefusal: AdminError(.init(code: error.status), error.message, code: error.code)
        case let error as EndpointError: AdminError(.badRequest, "[META0003] \(error)", code: "META0003")
        default: AdminError(.internalServerError, "Internal server error: \(error)")
        }
    }
}

/// A deployment in `GET /deployments`: our listing (see docs/restate-compatibility.md), without
/// what the journal keeps for itself (registration time, revisions).
struct DeploymentListEntry: Encodable {
    var id: String
    var uri: String
    var additionalHeaders: [String: String]
    var services: [EndpointManifest.Service]
    var minProtocolVersion: Int?
    var maxProtocolVersion: Int?
    var sdkVersion: String?

    init(_ deployment: Deployment) {
        id = deployment.id
        uri = deployment.uri
        additionalHeaders = deployment.additionalHeaders
        services = deployment.services
        minProtocolVersion = deployment.minProtocolVersion
        maxProtocolVersion = deployment.maxProtocolVersion
        sdkVersion = deployment.sdkVersion
    }

    enum CodingKeys: String, CodingKey {
        case id, uri, services
        case additionalHeaders = "additional_headers"
        case minProtocolVersion = "min_protocol_version"
        case maxProtocolVersion = "max_protocol_version"
        case sdkVersion = "sdk_version"
    }
}
