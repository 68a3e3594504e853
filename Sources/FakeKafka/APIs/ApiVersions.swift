import KafkaProtocol
import NIOCore

/// ApiVersions (key 18), v0–3. The versions advertised here are what clients believe we speak:
/// the configured Kafka release's range for each API, clipped to what FakeKafka serves. (librdkafka
/// before 2.11 enables features only when a range contains specific versions: Kafka 3.9's ranges
/// start at 0, Kafka 4.0's do not, and such clients lose those features against a 4.0 broker, as
/// against Kafka.) A control may cap a range to test a client's downgrade path.
/// The response header is always v0, and a too-new request gets error 35 in v0 format.
enum ApiVersionsAPI: APIHandler {
    static let apiKey = ApiKey.apiVersions

    static func handle(_ request: ApiVersionsRequest, context: RequestContext) -> EventLoopFuture<ApiVersionsResponse?> {
        context.answer(ApiVersionsResponse(errorCode: 0, apiKeys: advertised(context.core)))
    }

    static func errorResponse(to request: ApiVersionsRequest, code: KafkaErrorCode, version: Int16) -> ApiVersionsResponse {
        ApiVersionsResponse(errorCode: code.rawValue)
    }

    static func advertised(_ core: ClusterCore) -> [ApiVersionsResponse.ApiVersion] {
        let caps = core.withState { state, _ in state.versionCaps }
        let release = core.configuration.kafkaVersion
        return ApiKey.allCases.compactMap { key in
            guard let range = release.advertised(key) else { return nil }
            let max = min(range.upperBound, caps[key] ?? .max)
            guard max >= range.lowerBound else { return nil }
            return .init(apiKey: key.rawValue, minVersion: range.lowerBound, maxVersion: max)
        }
    }

    static func unsupportedVersionFrame(header: RequestHeader, core: ClusterCore) -> ByteBuffer {
        let response = ApiVersionsResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue, apiKeys: advertised(core))
        return RequestRouter.encodeFrame(response, version: 0, correlationId: header.correlationId, flexibleHeader: false)
    }
}
