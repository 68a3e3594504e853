import Foundation
import Hummingbird

/// Restate 1.7's newer ingress paths for an invocation's outcome by id, `/restate/attach/{id}`
/// and `/restate/output/{id}` (`crates/ingress-http/src/handler/path_parsing.rs`,
/// `parse_restate_api_verb`): the same answers as `/restate/invocation/{id}/attach|output`. The
/// path is judged before the method, so a malformed one is 400 whatever the method, and only then
/// is anything but GET 405.
extension RestateHTTPIngress {
    static let badRestateAPIPath = "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, "
        + "/restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id, or /restate/lookup"

    func addRestateAPIReads(to router: Router<BasicRequestContext>) {
        let ingress = self.ingress
        for verb in ["attach", "output"] {
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
                router.on("/restate/\(verb)/**", method: method) { request, _ in
                    let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(3)
                    guard segments.count == 1, let id = segments.first.map(String.init) else {
                        return Self.ingressError(.badRequest, Self.badRestateAPIPath)
                    }
                    if let problem = InvocationID.decodeError(id) { return Self.ingressError(.badRequest, "bad invocation id '\(id)': \(problem)") }
                    guard method == .get else { return Self.ingressError(.methodNotAllowed, "method not allowed") }
                    return Self.reply(try await ingress.invocationOutcome(id: id, wait: verb == "attach"))
                }
            }
        }
    }
}
