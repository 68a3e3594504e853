import KafkaProtocol
import Logging
import NIOCore

/// Why a connection is closed instead of answered.
struct CloseConnection: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Decodes a request body, applies the request-wide fault taken for it, and calls the API's handler.
enum RequestRouter {
    /// The encoded response frame (size prefix, header, body), or nil when none is sent.
    static func route(header: RequestHeader, body: inout ByteBuffer, fault: Fault.Action?, context: RequestContext) throws -> EventLoopFuture<ByteBuffer?> {
        guard let apiKey = ApiKey(rawValue: header.apiKey) else {
            throw CloseConnection(reason: "unknown API key \(header.apiKey)")
        }
        switch apiKey {
        case .produce: return try serve(ProduceAPI.self, &body, fault, context)
        case .fetch: return try serve(FetchAPI.self, &body, fault, context)
        case .listOffsets: return try serve(ListOffsetsAPI.self, &body, fault, context)
        case .metadata: return try serve(MetadataAPI.self, &body, fault, context)
        case .offsetCommit: return try serve(OffsetCommitAPI.self, &body, fault, context)
        case .offsetFetch: return try serve(OffsetFetchAPI.self, &body, fault, context)
        case .findCoordinator: return try serve(FindCoordinatorAPI.self, &body, fault, context)
        case .joinGroup: return try serve(JoinGroupAPI.self, &body, fault, context)
        case .heartbeat: return try serve(HeartbeatAPI.self, &body, fault, context)
        case .leaveGroup: return try serve(LeaveGroupAPI.self, &body, fault, context)
        case .syncGroup: return try serve(SyncGroupAPI.self, &body, fault, context)
        case .describeGroups: return try serve(DescribeGroupsAPI.self, &body, fault, context)
        case .listGroups: return try serve(ListGroupsAPI.self, &body, fault, context)
        case .apiVersions: return try serve(ApiVersionsAPI.self, &body, fault, context)
        case .createTopics: return try serve(CreateTopicsAPI.self, &body, fault, context)
        case .deleteTopics: return try serve(DeleteTopicsAPI.self, &body, fault, context)
        case .initProducerId: return try serve(InitProducerIdAPI.self, &body, fault, context)
        case .createPartitions: return try serve(CreatePartitionsAPI.self, &body, fault, context)
        case .deleteGroups: return try serve(DeleteGroupsAPI.self, &body, fault, context)
        case .addPartitionsToTxn: return try serve(AddPartitionsToTxnAPI.self, &body, fault, context)
        case .addOffsetsToTxn: return try serve(AddOffsetsToTxnAPI.self, &body, fault, context)
        case .endTxn: return try serve(EndTxnAPI.self, &body, fault, context)
        case .txnOffsetCommit: return try serve(TxnOffsetCommitAPI.self, &body, fault, context)
        case .saslHandshake, .saslAuthenticate:
            // Each connection's SASL state lives in its handler, which answers these itself;
            // on a PLAINTEXT listener there is no exchange to take part in.
            throw CloseConnection(reason: "\(apiKey) on a listener without SASL")
        case .offsetForLeaderEpoch: return try serve(OffsetForLeaderEpochAPI.self, &body, fault, context)
        case .describeConfigs: return try serve(DescribeConfigsAPI.self, &body, fault, context)
        case .alterConfigs: return try serve(AlterConfigsAPI.self, &body, fault, context)
        case .incrementalAlterConfigs: return try serve(IncrementalAlterConfigsAPI.self, &body, fault, context)
        case .describeCluster: return try serve(DescribeClusterAPI.self, &body, fault, context)
        case .deleteRecords: return try serve(DeleteRecordsAPI.self, &body, fault, context)
        case .offsetDelete: return try serve(OffsetDeleteAPI.self, &body, fault, context)
        case .describeAcls: return try serve(DescribeAclsAPI.self, &body, fault, context)
        case .createAcls: return try serve(CreateAclsAPI.self, &body, fault, context)
        case .deleteAcls: return try serve(DeleteAclsAPI.self, &body, fault, context)
        case .describeTopicPartitions: return try serve(DescribeTopicPartitionsAPI.self, &body, fault, context)
        case .getTelemetrySubscriptions: return try serve(GetTelemetrySubscriptionsAPI.self, &body, fault, context)
        case .describeUserScramCredentials: return try serve(DescribeUserScramCredentialsAPI.self, &body, fault, context)
        case .alterUserScramCredentials: return try serve(AlterUserScramCredentialsAPI.self, &body, fault, context)
        case .consumerGroupHeartbeat: return try serve(ConsumerGroupHeartbeatAPI.self, &body, fault, context)
        case .consumerGroupDescribe: return try serve(ConsumerGroupDescribeAPI.self, &body, fault, context)
        }
    }

    private static func serve<H: APIHandler>(_: H.Type, _ body: inout ByteBuffer, _ fault: Fault.Action?, _ context: RequestContext) throws -> EventLoopFuture<ByteBuffer?> {
        let version = context.version
        guard H.Request.versions.contains(version) else {
            throw CloseConnection(reason: "\(H.apiKey) v\(version) is not supported (serving \(H.Request.versions))")
        }
        let request = try H.Request(from: &body, version: version)
        let response: EventLoopFuture<H.Response?>
        switch fault {
        case .error(let code)?:
            response = context.answer(H.errorResponse(to: request, code: code, version: version))
        case .delay(let amount)?:
            response = context.eventLoop.scheduleTask(in: amount) {}.futureResult.flatMap { H.handle(request, context: context) }
        case .disconnect?:
            throw CloseConnection(reason: "fault: disconnect on \(H.apiKey)")
        case .dropResponse?:
            response = H.handle(request, context: context).flatMapThrowing { _ in
                throw CloseConnection(reason: "fault: response to \(H.apiKey) dropped")
            }
        case nil:
            response = H.handle(request, context: context)
        }
        let correlationId = context.header.correlationId
        let flexibleHeader = ResponseHeader.isFlexible(apiKey: H.apiKey, version: version)
        return response.map { response in
            response.map { encodeFrame($0, version: version, correlationId: correlationId, flexibleHeader: flexibleHeader) }
        }
    }

    static func encodeFrame<M: KafkaMessage>(_ message: M, version: Int16, correlationId: Int32, flexibleHeader: Bool) -> ByteBuffer {
        var buf = ByteBuffer()
        buf.reserveCapacity(256)
        buf.writeInteger(Int32(0))
        ResponseHeader(correlationId: correlationId).encode(into: &buf, flexible: flexibleHeader)
        message.encode(into: &buf, version: version)
        buf.setInteger(Int32(buf.readableBytes - 4), at: buf.readerIndex)
        return buf
    }
}
