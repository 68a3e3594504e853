import CRdKafka

/// A librdkafka error with what we were doing when it happened.
public struct RdKafkaError: Error, Equatable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value: negative for local errors, Kafka's codes otherwise.
    public let code: Int32
    public let message: String
    public let context: String

    init(_ err: rd_kafka_resp_err_t, _ context: String) {
        code = err.rawValue
        message = String(cString: rd_kafka_err2str(err))
        self.context = context
    }

    init(message: String, context: String) {
        code = RD_KAFKA_RESP_ERR__FAIL.rawValue
        self.message = message
        self.context = context
    }

    /// librdkafka's symbolic name, e.g. `UNKNOWN_TOPIC_OR_PART` or `_TRANSPORT`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code))) }

    public var description: String { "\(context): \(message) (\(name), \(code))" }
}

/// A librdkafka handle (thread-safe per librdkafka's documentation) that Swift may share.
struct Handle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Builds a `rd_kafka_conf_t` from string properties, naming the property librdkafka rejects.
func makeConf(_ properties: [String: String]) throws -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errstr = [CChar](repeating: 0, count: 512)
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
        if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw RdKafkaError(message: errorString(errstr), context: "setting \(key)=\(value)")
        }
    }
    return conf
}

func makeClient(_ type: rd_kafka_type_t, _ conf: OpaquePointer, _ what: String) throws -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        throw RdKafkaError(message: errorString(errstr), context: "creating \(what)")
    }
    return rk
}

/// The librdkafka version linked in, e.g. "2.0.2".
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

/// The text librdkafka wrote into an error buffer.
func errorString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
