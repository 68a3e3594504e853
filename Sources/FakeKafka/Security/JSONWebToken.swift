import Foundation

/// A compact JWS (`header.payload.signature`, each base64url), the shape OAUTHBEARER tokens have.
struct JSONWebToken {
    let header: [String: Any]
    let claims: [String: Any]
    /// `header.payload`, the bytes the signature covers.
    let signingInput: String
    let signature: [UInt8]

    enum ParseError: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self { case .malformed(let why): "malformed token: \(why)" }
        }
    }

    init(parsing token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw ParseError.malformed("\(parts.count) dot-separated parts instead of 3") }
        func object(_ part: Substring, _ name: String) throws -> [String: Any] {
            guard let bytes = Base64URL.decode(part),
                  let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw ParseError.malformed("the \(name) is not base64url-encoded JSON")
            }
            return object
        }
        header = try object(parts[0], "header")
        claims = try object(parts[1], "payload")
        guard let signature = Base64URL.decode(parts[2]) else { throw ParseError.malformed("the signature is not base64url") }
        self.signature = signature
        signingInput = "\(parts[0]).\(parts[1])"
    }

    var algorithm: String? { header["alg"] as? String }

    func string(_ claim: String) -> String? { claims[claim] as? String }

    func number(_ claim: String) -> Double? {
        switch claims[claim] {
        case let value as Int: Double(value)
        case let value as Double: value
        case let value as NSNumber: value.doubleValue
        default: nil
        }
    }

    /// `scope`: a space-separated string (RFC 8693) or, as some issuers write it, a list.
    var scope: [String] {
        if let text = claims["scope"] as? String { return text.split(separator: " ").map(String.init) }
        return claims["scope"] as? [String] ?? []
    }

    /// `aud`: one string or a list.
    var audience: [String] {
        if let one = claims["aud"] as? String { return [one] }
        return claims["aud"] as? [String] ?? []
    }

    /// Encodes a token from its header and claims; `sign` gets the signing input.
    static func encode(header: [String: Any], claims: [String: Any], sign: (String) throws -> [UInt8]) rethrows -> String {
        let input = "\(Base64URL.encode(json(header))).\(Base64URL.encode(json(claims)))"
        return "\(input).\(Base64URL.encode(try sign(input)))"
    }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }
}

/// base64url without padding (RFC 7515 §2).
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
