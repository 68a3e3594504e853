import Foundation
import RestateProtocol

/// Registering and updating deployments as Restate's schema registry does
/// (`crates/types/src/schema/registry/mod.rs`, `metadata/updater/mod.rs`).
extension KafkaIngress {
    /// What a registration did (Restate's `AddDeploymentResult`).
    public enum RegistrationResult: Sendable, Equatable {
        case created, unchanged, overwritten
    }

    /// A registration or update the schema refuses: Restate's status, message and error code.
    struct DeploymentRefusal: Error {
        var status: Int
        var message: String
        var code: String?
    }

    /// Runs discovery against `uri` and registers the services it declares, replacing what an
    /// earlier registration at the same address declared (a forced registration): what scenario
    /// runs and `harness ingress` users expect when they register the recorder again.
    public func registerDeployment(uri: String, additionalHeaders: [String: String] = [:]) async throws -> Deployment {
        try await registerDeployment(uri: uri, additionalHeaders: additionalHeaders, overwrite: true, allowBreaking: true).deployment
    }

    /// Restate's registration. A deployment at the same address (see `hasSameAddress`) is the
    /// same one: without `overwrite` it is answered unchanged, before any discovery; with it, its
    /// services are replaced (keeping its id; services it no longer declares leave it). Each
    /// service's revision is one more than the one serving it before, and a service may change
    /// its type only when `allowBreaking`. A dry run discovers and answers without registering.
    func registerDeployment(uri: String, additionalHeaders: [String: String], overwrite: Bool, allowBreaking: Bool,
                            dryRun: Bool = false, http2Refused: (() throws -> Void)? = nil) async throws -> (result: RegistrationResult, deployment: Deployment) {
        if !overwrite, let existing = catalog.state.withLock({ $0.deployment(at: uri) }) { return (.unchanged, existing) }
        try http2Refused?()
        let (manifest, sdkVersion) = try await client.discover(uri, headers: additionalHeaders)
        try Self.checkProtocol(manifest, uri)
        let catalog = self.catalog.state.withLock { $0 }
        var result = RegistrationResult.created
        var id = ResourceID.make(prefix: "dp")
        if let existing = catalog.deployment(at: uri) {
            guard overwrite else { return (.unchanged, existing) }
            for service in existing.services where !manifest.services.contains(where: { $0.name == service.name }) {
                logger.warning("Going to remove service \(service.name) due to a forced deployment update", metadata: ["deployment": "\(existing.id)"])
            }
            (result, id) = (.overwritten, existing.id)
        }
        var revisions: [String: Int] = [:]
        for service in manifest.services {
            if let (active, previous) = catalog.lookup(service.name), previous.ty != service.ty {
                guard allowBreaking else {
                    throw DeploymentRefusal(status: 409, message: "[META0006] detected a new service revision for '\(service.name)' changing the service type from previous revision. Service type cannot be changed across revisions.", code: "META0006")
                }
                logger.warning("Going to change service type for \(service.name) due to an update; this may lose data", metadata: ["deployment": "\(active.id)"])
            }
            revisions[service.name] = (catalog.activeRevision(of: service.name) ?? 0) + 1
        }
        let deployment = Deployment(id: id, uri: uri, additionalHeaders: additionalHeaders, services: manifest.services,
                                    minProtocolVersion: manifest.minProtocolVersion, maxProtocolVersion: manifest.maxProtocolVersion,
                                    sdkVersion: sdkVersion, createdAt: Journal.nowMs(), revisions: revisions)
        guard !dryRun else { return (result, deployment) }
        try await journal.save(deployment)
        self.catalog.state.withLock { $0.register(deployment) }
        logger.info("deployment \(deployment.id) at \(uri): \(manifest.services.map(\.name))")
        return (result, deployment)
    }

    /// Restate's update (`PATCH /deployments/{id}`): discovery runs again at the new address
    /// (or the old one) with the new headers (or the old ones), and the endpoint must announce
    /// the same protocol versions. Without `overwrite` only the address, headers and SDK
    /// version change; with it, the services are replaced too (each keeping its revision here).
    func updateDeployment(_ id: String, uri: String?, additionalHeaders: [String: String]?, overwrite: Bool,
                          dryRun: Bool) async throws -> Deployment {
        guard let existing = catalog.state.withLock({ $0.deployment(id: id) }) else {
            throw DeploymentRefusal(status: 404, message: "not found in the schema registry: \(id)", code: nil)
        }
        let address = uri ?? existing.uri
        let headers = additionalHeaders ?? existing.additionalHeaders
        let (manifest, sdkVersion) = try await client.discover(address, headers: headers)
        if let min = existing.minProtocolVersion, let max = existing.maxProtocolVersion,
           (min, max) != (manifest.minProtocolVersion, manifest.maxProtocolVersion) {
            throw DeploymentRefusal(status: 400, message: "[META0016] an update deployment operation must provide an endpoint with the same services and handlers. The update tried to change the supported protocol versions from \(min)..=\(max) to \(manifest.minProtocolVersion)..=\(manifest.maxProtocolVersion)", code: "META0016")
        }
        try Self.checkProtocol(manifest, address)
        var updated = existing
        updated.uri = address
        updated.additionalHeaders = headers
        updated.sdkVersion = sdkVersion
        if overwrite {
            for service in existing.services where !manifest.services.contains(where: { $0.name == service.name }) {
                logger.warning("Going to remove service \(service.name) due to a forced deployment update", metadata: ["deployment": "\(id)"])
            }
            updated.services = manifest.services
            updated.revisions = Dictionary(uniqueKeysWithValues: manifest.services.map { ($0.name, existing.revisions?[$0.name] ?? 1) })
        }
        guard !dryRun else { return updated }
        try await journal.save(updated)
        catalog.state.withLock { $0.register(updated) }
        logger.info("deployment \(id) updated: \(address)")
        return updated
    }

    public func deployment(id: String) -> Deployment? {
        catalog.state.withLock { $0.deployment(id: id) }
    }

    private static func checkProtocol(_ manifest: EndpointManifest, _ uri: String) throws {
        guard manifest.supportsOurProtocol else {
            throw EndpointError.badDiscovery(uri, "the endpoint speaks service protocol versions \(manifest.minProtocolVersion)...\(manifest.maxProtocolVersion); this ingress speaks \(serviceProtocolVersions.lowerBound)...\(serviceProtocolVersions.upperBound)")
        }
    }
}
