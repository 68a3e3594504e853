import CRdKafka
import Dispatch
import LiveResources
import Logging
import Synchronization

/// A librdkafka handle (thread-safe per librdkafka's documentation) that Swift may share.
struct Handle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// What librdkafka's callbacks reach through the handle's opaque pointer: where its log lines go,
/// the consumer's rebalance and statistics handlers, and the handle's entry among the process's
/// open resources.
/// It lives until `rd_kafka_destroy` has returned, since librdkafka may log until then.
final class ClientContext: Sendable {
    let logger: Logger
    let onRebalance: (@Sendable (RdKafkaRebalance) -> Void)?
    let onStatistics: (@Sendable (String) -> Void)?
    let registration: Registration
    /// Where the token refresh callback gets OAUTHBEARER tokens, when this code fetches them.
    let oidc: OIDCClientCredentials?
    /// Why the last token could not be had, until one is: what an authentication error means.
    let tokenFailure = Mutex<String?>(nil)

    init(logger: Logger, onRebalance: (@Sendable (RdKafkaRebalance) -> Void)?, onStatistics: (@Sendable (String) -> Void)?,
         registration: Registration, oidc: OIDCClientCredentials?) {
        self.logger = logger
        self.oidc = oidc
        self.onRebalance = onRebalance
        self.onStatistics = onStatistics
        self.registration = registration
    }

    /// " (no OAUTHBEARER token: why)" while the token refresh is failing, for error contexts:
    /// a timed-out delivery then says why nothing could be sent.
    var tokenFailureNote: String? {
        tokenFailure.withLock { $0 }.map { " (no OAUTHBEARER token: \($0))" }
    }

    static func of(_ rk: OpaquePointer?) -> ClientContext? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// A `rd_kafka_conf_t` and what it needs that librdkafka does not do itself.
struct ClientConf {
    let pointer: OpaquePointer
    let oidc: OIDCClientCredentials?
}

/// Builds a `rd_kafka_conf_t` from string properties, naming the property librdkafka rejects.
func makeConf(_ properties: [String: String]) throws -> ClientConf {
    var properties = properties
    let oidc = try OIDCClientCredentials.take(from: &properties)
    let conf = rd_kafka_conf_new()!
    var errstr = [CChar](repeating: 0, count: 512)
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
        if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw RdKafkaError(message: errorString(errstr), context: "setting \(key)=\(value)")
        }
    }
    return ClientConf(pointer: conf, oidc: oidc)
}

/// A librdkafka client whose log lines go to `logger` (not to stderr, librdkafka's default) and
/// whose lifetime is recorded in `LiveResources` until `destroyClient` has finished.
func makeClient(_ type: rd_kafka_type_t, _ clientConf: ClientConf, _ what: String, logger: Logger,
                onRebalance: (@Sendable (RdKafkaRebalance) -> Void)? = nil,
                onStatistics: (@Sendable (String) -> Void)? = nil) throws -> (Handle, Unmanaged<ClientContext>) {
    let conf = clientConf.pointer
    let clientID = rdKafkaProperty(conf, "client.id") ?? "rdkafka"
    var logger = logger
    logger[metadataKey: "rdkafka"] = "\(clientID) \(what)"
    let context = Unmanaged.passRetained(ClientContext(
        logger: logger, onRebalance: onRebalance, onStatistics: onStatistics,
        registration: LiveResources.opened("librdkafka \(what)", "'\(clientID)'"), oidc: clientConf.oidc))
    rd_kafka_conf_set_opaque(conf, context.toOpaque())
    rd_kafka_conf_set_log_cb(conf, logCallback)
    if onRebalance != nil { rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback) }
    if onStatistics != nil { rd_kafka_conf_set_stats_cb(conf, statisticsCallback) }
    if clientConf.oidc != nil {
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, oidcTokenRefreshCallback)
        rd_kafka_conf_enable_sasl_queue(conf, 1)
    }
    var errstr = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        context.takeRetainedValue().registration.close()
        throw RdKafkaError(message: errorString(errstr), context: "creating \(what)")
    }
    // The refresh callback blocks on an HTTP request: it runs on librdkafka's background
    // thread, not inside whichever poll call happens to serve the main queue (a consumer's poll
    // would otherwise stall, and a client nobody polls would never get its first token).
    if clientConf.oidc != nil, let error = rd_kafka_sasl_background_callbacks_enable(rk) {
        let message = String(cString: rd_kafka_error_string(error))
        rd_kafka_error_destroy(error)
        rd_kafka_destroy(rk)
        context.takeRetainedValue().registration.close()
        throw RdKafkaError(message: message, context: "serving OAUTHBEARER token refreshes in the background for \(what)")
    }
    return (Handle(pointer: rk), context)
}

/// Destroys the client on `queue` once the work already queued there is done (so no blocking
/// call still uses the handle), off whatever thread dropped the last reference: destroying can
/// block while librdkafka closes its connections and joins its threads.
func destroyClient(_ handle: Handle, _ context: Unmanaged<ClientContext>, on queue: DispatchQueue = .global(), flags: Int32 = 0,
                   before: @escaping @Sendable () -> Void = {}) {
    queue.async {
        before()
        rd_kafka_destroy_flags(handle.pointer, flags)
        context.takeRetainedValue().registration.close()
    }
}

private func rdKafkaProperty(_ conf: OpaquePointer, _ name: String) -> String? {
    var size = 0
    guard rd_kafka_conf_get(conf, name, nil, &size) == RD_KAFKA_CONF_OK, size > 1 else { return nil }
    var buffer = [CChar](repeating: 0, count: size)
    guard rd_kafka_conf_get(conf, name, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
    return errorString(buffer)
}

/// librdkafka's log callback: syslog levels to swift-log's. librdkafka still filters by its own
/// `log_level` property first.
private func logCallback(_ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?) {
    guard let context = ClientContext.of(rk), let message else { return }
    let swiftLevel: Logger.Level = switch level {
    case ...3: .error
    case 4: .warning
    case 5: .notice
    case 6: .info
    default: .debug
    }
    let facility = facility.map { String(cString: $0) } ?? "-"
    context.logger.log(level: swiftLevel, "\(facility): \(String(cString: message))")
}

/// librdkafka's statistics callback (every `statistics.interval.ms`, served by poll): the JSON
/// document to Swift. Returning 0 leaves freeing it to librdkafka.
private func statisticsCallback(_ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let json, let handler = ClientContext.of(rk)?.onStatistics else { return 0 }
    handler(String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self))
    return 0
}

/// librdkafka's rebalance callback: tell Swift, then apply the change, eagerly or incrementally
/// according to the group's protocol.
private func rebalanceCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let handler = ClientContext.of(rk)?.onRebalance else { return }
    let list = partitions.flatMap { try? [PartitionOffset]($0, context: "rebalance") } ?? []
    // NULL once the consumer is out of its group (a revoke while closing after the coordinator
    // went away): nothing is incremental then.
    let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
    if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        handler(.assigned(list))
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(rk, partitions)
        }
    } else {
        handler(.revoked(list))
        // Only stored offsets are committed; no offset stored yet is not an error.
        _ = rd_kafka_commit(rk, nil, 0)
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(rk, nil)
        }
    }
}
