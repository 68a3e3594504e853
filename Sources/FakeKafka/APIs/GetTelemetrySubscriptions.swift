import KafkaProtocol
import NIOCore

/// GetTelemetrySubscriptions (key 71), v0 (KIP-714): what a Kafka broker without a client
/// metrics subscription answers. No metrics are requested, so clients never push any (and
/// PushTelemetry is not served). A client that sends the zero instance id is given one.
enum GetTelemetrySubscriptionsAPI: APIHandler {
    static let apiKey = ApiKey.getTelemetrySubscriptions

    static func handle(_ request: GetTelemetrySubscriptionsRequest, context: RequestContext) -> EventLoopFuture<GetTelemetrySubscriptionsResponse?> {
        let instanceId = request.clientInstanceId == .zero ? KafkaUUID.random() : request.clientInstanceId
        // Kafka's defaults for an empty subscription: a 5-minute push interval, 1 MiB per push,
        // and every compression it accepts (none, gzip, snappy, lz4, zstd).
        return context.answer(GetTelemetrySubscriptionsResponse(
            errorCode: 0, clientInstanceId: instanceId, subscriptionId: 0, acceptedCompressionTypes: [0, 1, 2, 3, 4],
            pushIntervalMs: 300_000, telemetryMaxBytes: 1_048_576, deltaTemporality: true, requestedMetrics: []))
    }

    static func errorResponse(to request: GetTelemetrySubscriptionsRequest, code: KafkaErrorCode, version: Int16) -> GetTelemetrySubscriptionsResponse {
        GetTelemetrySubscriptionsResponse(errorCode: code.rawValue)
    }
}
