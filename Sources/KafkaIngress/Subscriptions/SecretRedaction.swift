/// Hides credentials in the options the admin API shows, as Restate 1.7 does: a key is secret
/// when, lower-cased, it contains one of Restate's markers (so `ssl.keystore.password` and
/// `my.secret.thing` are hidden, `sasl.oauthbearer.client.id` is not).
enum SecretRedaction {
    static let mask = "***"

    static let markers = [
        "password", "secret", "passphrase", "sasl.username", "sasl.jaas.config", "sasl.oauthbearer.config",
        "token.endpoint.url", "ssl.key.location", "ssl.key.pem", "keystore.location", "truststore.location",
        "sasl.oauthbearer.assertion.private.key",
    ]

    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return markers.contains { k.contains($0) }
    }

    static func redact(_ options: [String: String]) -> [String: String] {
        options.reduce(into: [:]) { out, entry in
            out[entry.key] = isSecret(entry.key) ? mask : entry.value
        }
    }
}
