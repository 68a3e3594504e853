import Crypto
import Foundation

/// The server side of SCRAM (RFC 5802), as Kafka runs it: three messages, the client's proof
/// checked against the user's stored credential (salt, iterations, salted password), the
/// server's signature sent back so the client knows the server too. No channel binding
/// (`n,,` / `c=biws`).
struct SCRAMServer {
    enum Hash { case sha256, sha512 }

    static let iterations = 4096

    private let hash: Hash
    private let credential: @Sendable (String) -> SCRAMCredential?
    private enum State {
        case expectingClientFirst
        case expectingClientFinal(user: String, salted: [UInt8], clientFirstBare: String, serverFirst: String, nonce: String)
        case done
    }
    private var state = State.expectingClientFirst

    /// `credential` looks a user's credential up when the client names itself.
    init(hash: Hash, credential: @escaping @Sendable (String) -> SCRAMCredential?) {
        self.hash = hash
        self.credential = credential
    }

    enum Step {
        /// Send this to the client; more is expected (or, for the last, authentication succeeded).
        case challenge([UInt8])
        case succeeded(user: String, serverFinal: [UInt8])
        case failed
    }

    mutating func step(_ message: [UInt8]) -> Step {
        let text = String(decoding: message, as: UTF8.self)
        switch state {
        case .expectingClientFirst:
            // "n,,n=user,r=nonce": GS2 header without channel binding, then the bare message.
            guard text.hasPrefix("n,"), let bareStart = text.dropFirst(2).firstIndex(of: ",") else { return fail() }
            let bare = String(text[text.index(after: bareStart)...])
            let fields = Self.fields(bare)
            guard let user = fields["n"].map(Self.decodeName), let clientNonce = fields["r"], let stored = credential(user) else { return fail() }
            let nonce = clientNonce + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            let serverFirst = "r=\(nonce),s=\(Data(stored.salt).base64EncodedString()),i=\(stored.iterations)"
            state = .expectingClientFinal(user: user, salted: stored.saltedPassword, clientFirstBare: bare,
                                          serverFirst: serverFirst, nonce: nonce)
            return .challenge(Array(serverFirst.utf8))
        case .expectingClientFinal(let user, let salted, let clientFirstBare, let serverFirst, let nonce):
            guard let proofStart = text.range(of: ",p=") else { return fail() }
            let withoutProof = String(text[..<proofStart.lowerBound])
            let fields = Self.fields(text)
            // Kafka checks that the echoed nonce ends with the one it sent, not that it equals
            // it: librdkafka puts its own nonce before the (already combined) server nonce.
            guard fields["r"]?.hasSuffix(nonce) == true, fields["c"] == "biws", let proof = fields["p"].flatMap({ Data(base64Encoded: $0) }).map(Array.init) else { return fail() }
            let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
            let clientKey = hmac(salted, Array("Client Key".utf8))
            let storedKey = digest(clientKey)
            let clientSignature = hmac(storedKey, authMessage)
            guard proof.count == clientSignature.count, digest(zip(proof, clientSignature).map { $0 ^ $1 }) == storedKey else { return fail() }
            let serverSignature = hmac(hmac(salted, Array("Server Key".utf8)), authMessage)
            state = .done
            return .succeeded(user: user, serverFinal: Array("v=\(Data(serverSignature).base64EncodedString())".utf8))
        case .done:
            return fail()
        }
    }

    private mutating func fail() -> Step {
        state = .done
        return .failed
    }

    /// "a=1,b=2" → [a: 1, b: 2] (values may contain '=').
    private static func fields(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in text.split(separator: ",") where part.count >= 2 && part.dropFirst().first == "=" {
            out[String(part.prefix(1))] = String(part.dropFirst(2))
        }
        return out
    }

    /// SCRAM escapes ',' and '=' in names as =2C and =3D.
    private static func decodeName(_ name: String) -> String {
        name.replacingOccurrences(of: "=2C", with: ",").replacingOccurrences(of: "=3D", with: "=")
    }

    private func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] { Self.hmac(hash, key, message) }

    private static func hmac(_ hash: Hash, _ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        switch hash {
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        }
    }

    private func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch hash {
        case .sha256: Array(SHA256.hash(data: bytes))
        case .sha512: Array(SHA512.hash(data: bytes))
        }
    }

    /// PBKDF2 with this HMAC, one block (the hash's length), as SCRAM's Hi(): what a credential
    /// stores instead of the password.
    static func saltedPassword(_ hash: Hash, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        var u = hmac(hash, password, salt + [0, 0, 0, 1])
        var result = u
        for _ in 1..<max(1, iterations) {
            u = hmac(hash, password, u)
            for i in result.indices { result[i] ^= u[i] }
        }
        return result
    }
}
