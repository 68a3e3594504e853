import KafkaProtocol
import NIOCore

/// What a handler knows about the request it serves.
struct RequestContext {
    let core: ClusterCore
    let broker: Int32
    let header: RequestHeader
    let eventLoop: any EventLoop
    let clientHost: String

    var version: Int16 { header.apiVersion }
    var clientId: String { header.clientId ?? "" }

    /// A per-partition fault for this request's API, if one is set for `tp`.
    func partitionFault(_ apiKey: ApiKey, _ tp: TopicPartition, state: inout ClusterState) -> KafkaErrorCode? {
        if state.faults.isEmpty { return nil }
        if case .error(let code) = state.faults.take(apiKey, broker: broker, partition: tp) { return code }
        return nil
    }
}

/// One Kafka API served by the broker: decoding, behaviour, and the answer to give when a fault
/// says this request fails with an error code.
protocol APIHandler: SendableMetatype {
    associatedtype Request: KafkaMessage
    associatedtype Response: KafkaMessage
    static var apiKey: ApiKey { get }
    /// The answer, or nil when the request gets none (Produce with acks=0).
    static func handle(_ request: Request, context: RequestContext) -> EventLoopFuture<Response?>
    static func errorResponse(to request: Request, code: KafkaErrorCode, version: Int16) -> Response
}

extension RequestContext {
    func answer<R: Sendable>(_ response: R) -> EventLoopFuture<R?> { eventLoop.makeSucceededFuture(response) }
}
