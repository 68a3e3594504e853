/// Hides credentials in the options the admin API shows.
enum SecretRedaction {
    static let mask = "***"

    /// Whether a librdkafka property holds a credential (or where to fetch one).
    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.contains("password") || k.contains("secret")
            || k == "sasl.username" || k == "sasl.jaas.config"
            || k.hasPrefix("ssl.key.") || k == "ssl_key"
            || k == "sasl.oauthbearer.config" || k == "sasl.oauthbearer.token.endpoint.url"
            || k == "sasl.oauthbearer.client.id"
    }

    static func redact(_ options: [String: String]) -> [String: String] {
        options.reduce(into: [:]) { out, entry in
            out[entry.key] = isSecret(entry.key) ? mask : entry.value
        }
    }
}
