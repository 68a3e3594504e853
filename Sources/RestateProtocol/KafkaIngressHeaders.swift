/// The headers Restate's Kafka ingress gives every invocation it makes from a record: the
/// ingress writes them, the harness's assertions read them.
public enum KafkaIngressHeader {
    public static let offset = "kafka.offset"
    public static let topic = "kafka.topic"
    public static let partition = "kafka.partition"
    /// Only when the record has a timestamp (epoch milliseconds).
    public static let timestamp = "kafka.timestamp"
    /// Only when the record has a key: its bytes in URL-safe base64, padding kept.
    public static let key = "kafka.key"
    public static let subscriptionID = "restate.subscription.id"
}
