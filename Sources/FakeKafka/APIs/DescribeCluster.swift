import KafkaProtocol
import NIOCore

/// DescribeCluster (key 60), v0–1: the brokers that are up, the controller (the first of them, as
/// Metadata reports it) and the cluster id. These are broker endpoints, so a v1 request for the
/// controllers' endpoints gets MISMATCHED_ENDPOINT_TYPE, as from a Kafka broker. Authorized
/// operations, when asked, are the cluster's every operation (no authorizer).
enum DescribeClusterAPI: APIHandler {
    static let apiKey = ApiKey.describeCluster

    private static let brokerEndpoints: Int8 = 1
    private static let controllerEndpoints: Int8 = 2

    static func handle(_ request: DescribeClusterRequest, context: RequestContext) -> EventLoopFuture<DescribeClusterResponse?> {
        switch request.endpointType {
        case brokerEndpoints: break
        case controllerEndpoints:
            return context.answer(DescribeClusterResponse(
                errorCode: KafkaErrorCode.mismatchedEndpointType.rawValue,
                errorMessage: "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
                endpointType: request.endpointType))
        default:
            return context.answer(DescribeClusterResponse(
                errorCode: KafkaErrorCode.unsupportedEndpointType.rawValue,
                errorMessage: "Unsupported endpoint type \(request.endpointType)", endpointType: request.endpointType))
        }
        let clusterId = context.core.configuration.clusterId
        let response = context.core.withState { state, _ in
            let up = state.brokers.filter(\.isUp)
            return DescribeClusterResponse(
                clusterId: clusterId, controllerId: up.first?.id ?? -1,
                brokers: up.map { .init(brokerId: $0.id, host: $0.host, port: Int32($0.port), rack: nil) },
                clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? AuthorizedOperations.cluster : Int32.min)
        }
        return context.answer(response)
    }

    static func errorResponse(to request: DescribeClusterRequest, code: KafkaErrorCode, version: Int16) -> DescribeClusterResponse {
        DescribeClusterResponse(errorCode: code.rawValue, errorMessage: code.name, endpointType: request.endpointType)
    }
}
