import Foundation
import KafkaProtocol
import Logging
import NIOCore
import NIOSSL

/// Serves one client connection: reads request frames, hands them to the router, and writes the
/// responses strictly in request order (clients match responses to requests by position as well
/// as by correlation id), even when a later request is answered first.
final class KafkaConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: ClusterCore
    private let broker: Int32
    /// Nil until registered, and for a connection refused because the broker has too many.
    private var connectionId: Int?
    private var clientHost = ""
    private var logger: Logger
    /// Completes when every earlier response has been written.
    private var tail: EventLoopFuture<Void>?
    private var registeredClientId = false
    /// This connection's SASL exchange, when the listener requires one.
    private var sasl: SASLAuthenticator?

    init(core: ClusterCore, broker: Int32) {
        self.core = core
        self.broker = broker
        self.logger = core.logger
        sasl = core.configuration.sasl.map {
            SASLAuthenticator(configuration: $0, issuer: core.oauthIssuer, scramCredential: { [core] user, mechanism in
                core.withState { state, _ in state.scramCredentials.credential(user: user, mechanism: mechanism) }
            })
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        clientHost = context.remoteAddress?.ipAddress ?? "unknown"
        logger[metadataKey: "broker"] = "\(broker)"
        let limit = core.configuration.maxConnectionsPerBroker
        guard let connectionId = core.connections.add(broker: broker, channel: context.channel, limit: limit) else {
            logger.warning("refusing connection from \(context.remoteAddress?.description ?? "?"): broker \(broker) already has \(limit) client connections (maxConnectionsPerBroker)")
            context.close(promise: nil)
            return
        }
        self.connectionId = connectionId
        logger[metadataKey: "connection"] = "\(connectionId)"
        logger.info("client connected from \(context.remoteAddress?.description ?? "?")")
        tail = context.eventLoop.makeSucceededVoidFuture()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connectionId {
            core.connections.remove(connectionId)
            logger.info("client disconnected")
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Frames already read when a refused connection is closed are not served.
        guard let connectionId else { return }
        var frame = unwrapInboundIn(data)
        core.configuration.requestTap?(broker, frame)
        let header: RequestHeader
        do {
            header = try RequestHeader(from: &frame) { key, version in
                ApiKey(rawValue: key).map { $0.isFlexible(version: version) } ?? false
            }
        } catch {
            return closeBadClient(context: context, "malformed request header: \(error)")
        }
        if !registeredClientId {
            registeredClientId = true
            core.connections.setClientId(header.clientId, for: connectionId)
        }
        let now = NIODeadline.now()
        let connection = connectionId
        let broker = self.broker
        let apiKey = ApiKey(rawValue: header.apiKey).flatMap { $0.versions.contains(header.apiVersion) ? $0 : nil }
        // One trip through the lock per request: log it, and take any request-wide fault for it.
        let fault = core.withState { state, _ -> Fault.Action? in
            state.requestLog.append(RequestLogEntry(
                sequence: state.requestLog.total, time: now, broker: broker, connection: connection, clientId: header.clientId,
                apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId))
            guard let apiKey, !state.faults.isEmpty else { return nil }
            return state.faults.take(apiKey, broker: broker, partition: nil)
        }
        logger.trace("request \(ApiKey(rawValue: header.apiKey)?.description ?? "\(header.apiKey)") v\(header.apiVersion) correlation \(header.correlationId) from \(header.clientId ?? "-")")
        if sasl != nil {
            if apiKey == .saslHandshake || apiKey == .saslAuthenticate {
                do {
                    let (answer, close) = try authenticate(apiKey!, header, &frame)
                    return enqueue(context.eventLoop.makeSucceededFuture(answer), context: context, closeAfter: close)
                } catch {
                    return closeBadClient(context: context, "\(apiKey!) v\(header.apiVersion): \(error)")
                }
            }
            guard sasl!.admits(header.apiKey) else {
                return closeBadClient(context: context, "\(apiKey.map { "\($0)" } ?? "ApiKey(\(header.apiKey))") before SASL authentication")
            }
        }
        let requestContext = RequestContext(core: core, broker: broker, header: header, eventLoop: context.eventLoop, clientHost: clientHost)
        let response: EventLoopFuture<ByteBuffer?>
        do {
            if header.apiKey == ApiKey.apiVersions.rawValue && !ApiKey.apiVersions.versions.contains(header.apiVersion) {
                // A client newer than us: answer in v0 with our ranges so it can retry (KIP-511).
                response = context.eventLoop.makeSucceededFuture(ApiVersionsAPI.unsupportedVersionFrame(header: header, core: core))
            } else {
                response = try RequestRouter.route(header: header, body: &frame, fault: fault, context: requestContext)
            }
        } catch {
            let api = ApiKey(rawValue: header.apiKey)?.description ?? "ApiKey(\(header.apiKey))"
            return closeBadClient(context: context, "\(api) v\(header.apiVersion) correlation \(header.correlationId): \(error)")
        }
        enqueue(response, context: context)
    }

    /// Writes the response after every earlier one; `closeAfter` ends the connection once it
    /// is out (a failed SASL exchange, as Kafka does).
    private func enqueue(_ response: EventLoopFuture<ByteBuffer?>, context: ChannelHandlerContext, closeAfter: Bool = false) {
        let channel = context.channel
        let previous = tail ?? context.eventLoop.makeSucceededVoidFuture()
        let logger = self.logger
        tail = previous.flatMap { response.hop(to: channel.eventLoop) }.flatMap { frame -> EventLoopFuture<Void> in
            guard let frame else { return channel.eventLoop.makeSucceededVoidFuture() }
            let written = channel.writeAndFlush(frame)
            return closeAfter ? written.flatMap { channel.close() } : written
        }.flatMapErrorThrowing { error in
            // A client that disconnects with a request in flight (librdkafka does on destroy) is
            // not the broker's failure.
            if let channelError = error as? ChannelError, channelError == .ioOnClosedChannel || channelError == .alreadyClosed {
                logger.debug("the client left before its answer was written")
            } else {
                logger.error("request failed: \(error)")
            }
            channel.close(promise: nil)
        }
    }

    /// Answers SaslHandshake and SaslAuthenticate from this connection's exchange.
    private func authenticate(_ apiKey: ApiKey, _ header: RequestHeader, _ body: inout ByteBuffer) throws -> (ByteBuffer, close: Bool) {
        let version = header.apiVersion
        let flexible = ResponseHeader.isFlexible(apiKey: apiKey, version: version)
        if apiKey == .saslHandshake {
            let (response, close) = sasl!.handshake(try SaslHandshakeRequest(from: &body, version: version))
            return (RequestRouter.encodeFrame(response, version: version, correlationId: header.correlationId, flexibleHeader: flexible), close)
        }
        let (response, close) = sasl!.authenticate(try SaslAuthenticateRequest(from: &body, version: version))
        if close, let message = response.errorMessage {
            let detail = sasl!.failureDetail ?? message
            logger.warning("SASL authentication failed: \(detail)")
            core.withState { state, _ in state.authenticationFailures.append(detail) }
        }
        return (RequestRouter.encodeFrame(response, version: version, correlationId: header.correlationId, flexibleHeader: flexible), close)
    }

    /// IdleStateHandler's event: nothing sent or received for `connectionIdleTimeout`.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all, let timeout = core.configuration.connectionIdleTimeout else {
            return context.fireUserInboundEventTriggered(event)
        }
        closeBadClient(context: context, "idle for \(timeout.nanoseconds / 1_000_000) ms without a byte either way (connectionIdleTimeout)")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.handshakeFailed(let reason) = error {
            // Kept for tests and scenario reports: a refused handshake otherwise shows only as a
            // client that never gets anywhere.
            let failure = "TLS handshake with \(clientHost) failed: \(reason.reasons)"
            core.withState { state, _ in state.tlsHandshakeFailures.append(failure) }
            return closeBadClient(context: context, failure)
        }
        // A client going away abruptly is ordinary (clients are destroyed mid-exchange); said
        // at debug level, in words rather than the system call's Swift name.
        if let io = error as? IOError, [ECONNRESET, EPIPE].contains(io.errnoCode) {
            logger.debug("client \(clientHost) reset the connection (\(String(cString: strerror(io.errnoCode))))")
            return context.close(promise: nil)
        }
        if case NIOSSLError.uncleanShutdown = error {
            logger.debug("client \(clientHost) closed its TLS connection without close_notify")
            return context.close(promise: nil)
        }
        closeBadClient(context: context, "\(error)")
    }

    /// Bad input ends this client's connection only; the broker keeps serving everyone else.
    private func closeBadClient(context: ChannelHandlerContext, _ reason: String) {
        logger.warning("closing connection: \(reason)")
        context.close(promise: nil)
    }
}
