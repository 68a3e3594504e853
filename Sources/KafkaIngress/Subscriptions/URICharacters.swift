/// The characters the http crate (Restate's URI parser) accepts, so our refusals match where
/// a URI or a URI authority (a Kafka cluster name) reads differently.
enum URICharacters {
    /// RFC 3986's unreserved, reserved and percent characters.
    static let uri = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%".unicodeScalars)
    /// An authority has no path, query or fragment.
    static let authority = uri.subtracting("/?#".unicodeScalars)
}
