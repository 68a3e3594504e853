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

    init(message: String, context: String, code: rd_kafka_resp_err_t = RD_KAFKA_RESP_ERR__FAIL) {
        self.code = code.rawValue
        self.message = message
        self.context = context
    }

    /// librdkafka's symbolic name, e.g. `UNKNOWN_TOPIC_OR_PART` or `_TRANSPORT`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code))) }

    public var description: String { "\(context): \(message) (\(name), \(code))" }
}

/// The librdkafka version linked in, e.g. "2.0.2".
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

/// The text librdkafka wrote into an error buffer.
func errorString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
