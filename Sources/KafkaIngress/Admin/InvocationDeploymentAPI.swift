import Foundation
import Hummingbird

/// `PATCH /invocations/{id}/resume` and `/restart-as-new`, with the `deployment` (and `from`)
/// query parameters, as Restate 1.7 answers them (`crates/admin/src/rest_api/invocations.rs`,
/// `error.rs`). The query is read first (axum's `Query` extractor), then the invocation id,
/// then the deployment id.
extension AdminAPI {
    func addInvocationDeploymentRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let ingress = self.ingress
        router.patch("/invocations/:id/resume") { request, context in
            let id = context.parameters.get("id") ?? ""
            if let rejection = Self.malformedInvocationID(id) { return rejection }
            let choice: KafkaIngress.DeploymentChoice
            switch Self.deploymentChoice(request.uri.queryParameters.get("deployment"), default: .keep) {
            case .success(let chosen): choice = chosen
            case .failure(let refusal): return refusal.response
            }
            // As Restate: resuming a running or backing-off invocation retries it now; a
            // completed one cannot be resumed, nor one waiting behind its key.
            switch try await ingress.resumeInvocation(id, deployment: choice) {
            case .success(.resumed): return Response(status: .ok)
            case .success(.unknown): return Self.invocationNotFound(id).response
            case .success(.completed): return AdminError(.conflict, "The invocation '\(id)' is completed, cannot be resumed.").response
            case .success(.inboxed): return AdminError(.tooEarly, "The invocation '\(id)' is either inboxed or scheduled, cannot be resumed.").response
            case .failure(let refusal): return Self.response(refusal, id, operation: "resume")
            }
        }
        router.patch("/invocations/:id/restart-as-new") { request, context in
            let id = context.parameters.get("id") ?? ""
            let query = request.uri.queryParameters
            var from = 0
            if let text = query.get("from") {
                switch Self.entryIndex(text) {
                case .success(let index): from = index
                case .failure(let rejection): return rejection.response
                }
            }
            if let rejection = Self.malformedInvocationID(id) { return rejection }
            let choice: KafkaIngress.DeploymentChoice
            switch Self.deploymentChoice(query.get("deployment"), default: .latest) {
            case .success(let chosen): choice = chosen
            case .failure(let refusal): return refusal.response
            }
            switch try await ingress.restartAsNew(id, from: from, deployment: choice) {
            case .restarted(let newID): return Self.json(.ok, ["new_invocation_id": newID])
            case .unknown: return Self.invocationNotFound(id).response
            case .stillRunning: return AdminError(.conflict, "The invocation '\(id)' is still running.").response
            case .notStarted: return AdminError(.tooEarly, "The invocation '\(id)' cannot be restarted because it's not running yet.").response
            case .unsupported:
                return AdminError(.unprocessableContent, "Restarting the invocation '\(id)' is not supported. Restarting workflows is not supported, and restarting invocations created using the old service protocol.").response
            case .missingInput:
                return AdminError(.gone, "The invocation '\(id)' cannot be restarted because the input is not available. This indicates that the journal was already purged, or not retained at all.").response
            case .indexOutOfRange:
                return AdminError(.badRequest, "The given index is out of range of currently stored journal for invocation '\(id)'.").response
            case .prefixIncomplete:
                return AdminError(.badRequest, "The prefix of the journal '\(id)' up to 'from' (included) contains some Commands without respective Completions.").response
            case .refused(let refusal): return Self.response(refusal, id, operation: "restart as new")
            }
        }
    }

    static func invocationNotFound(_ id: String) -> AdminError {
        AdminError(.notFound, "The requested invocation '\(id)' does not exist")
    }

    /// `keep` and `latest` (either case of the first letter), else a deployment id; absent: `absent`.
    private static func deploymentChoice(_ text: String?, default absent: KafkaIngress.DeploymentChoice) -> Result<KafkaIngress.DeploymentChoice, AdminError> {
        switch text {
        case nil: return .success(absent)
        case "keep"?, "Keep"?: return .success(.keep)
        case "latest"?, "Latest"?: return .success(.latest)
        case let id?:
            if let problem = ResourceID.decodeError(id, type: "dp") {
                return .failure(AdminError(.badRequest, "The query parameter 'deployment' is invalid. Reason: \(problem)"))
            }
            return .success(.id(id))
        }
    }

    /// `from` as Rust parses a `u32` (an optional "+", then digits); its refusal is axum's, in text.
    private static func entryIndex(_ text: String) -> Result<Int, AxumRejection> {
        let digits = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        let reason: String
        if text.isEmpty {
            reason = "cannot parse integer from empty string"
        } else if digits.isEmpty || !digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            reason = "invalid digit found in string"
        } else if let value = UInt32(digits) {
            return .success(Int(value))
        } else {
            reason = "number too large to fit in target type"
        }
        return .failure(AxumRejection(status: .badRequest, text: "Failed to deserialize query string: \(reason)"))
    }

    private static func response(_ refusal: KafkaIngress.DeploymentChoiceRefusal, _ id: String, operation: String) -> Response {
        switch refusal {
        case .cannotChange:
            return AdminError(.conflict, "The invocation '\(id)' is still running or the deployment id is not pinned yet, deployment id cannot be changed.").response
        case .notFound:
            return AdminError(.badRequest, "The given deployment was not found when trying to \(operation) the invocation '\(id)'.").response
        case .incompatible(let version, let deployment, let supported):
            return AdminError(.badRequest, "The invocation '\(id)' is running on protocol version '\(version)', while the chosen deployment '\(deployment)' supports the range \(supported.lowerBound)..=\(supported.upperBound).").response
        }
    }
}
