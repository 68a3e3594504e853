import Crypto
import Foundation
import SwiftASN1
import X509

/// A throwaway certificate authority for TLS listeners: it signs the brokers' certificate and,
/// for mutual TLS, the client certificates the cluster accepts. Its key never leaves memory, so
/// only this process can issue certificates it trusts; clients get the CA certificate
/// (`certificatePEM`, librdkafka's `ssl.ca.location` or `ssl.ca.pem`) to trust the brokers.
public struct CertificateAuthority: Sendable {
    /// The CA certificate, PEM-encoded.
    public let certificatePEM: String
    let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// A certificate issued by the authority, with its private key (PKCS #8), both PEM-encoded.
    public struct IssuedCertificate: Sendable {
        public let certificatePEM: String
        public let privateKeyPEM: String
    }

    /// Generates a new authority (P-256), valid from an hour ago (clocks of clients differ a
    /// little) for `validity`.
    public init(commonName: String = "FakeKafka test CA", validity: TimeInterval = 7 * 24 * 3600) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("IngressHarness")
            CommonName(commonName)
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + validity, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        self.key = key
        self.certificate = certificate
        certificatePEM = try certificate.serializeAsPEM().pemString
    }

    /// A broker certificate valid for `hosts` (names or IP addresses).
    public func issueServerCertificate(hosts: [String]) throws -> IssuedCertificate {
        try issue(commonName: hosts.first ?? "localhost", hosts: hosts, usage: .serverAuth)
    }

    /// A client certificate for mutual TLS; `commonName` is the principal a Kafka broker would
    /// derive from it.
    public func issueClientCertificate(commonName: String = "fakekafka-client") throws -> IssuedCertificate {
        try issue(commonName: commonName, hosts: [], usage: .clientAuth)
    }

    private func issue(commonName: String, hosts: [String], usage: ExtendedKeyUsage.Usage) throws -> IssuedCertificate {
        let leafKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("IngressHarness")
            CommonName(commonName)
        }
        var names: [GeneralName] = []
        for host in Self.unique(hosts) {
            if let address = Self.ipAddressBytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: address[...])))
                // librdkafka (OpenSSL's X509_check_host) compares the broker's address with DNS
                // names only, even when it is a literal IP; Python's ssl module compares it
                // with IP addresses only. Both entries let either verify a broker at 127.0.0.1.
                names.append(.dnsName(host))
            } else {
                names.append(.dnsName(host))
            }
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: self.certificate.notValidAfter,
            issuer: self.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyAgreement: true))
                try ExtendedKeyUsage([usage])
                AuthorityKeyIdentifier(keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: .init(key))
        return IssuedCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: leafKey.pemRepresentation)
    }

    private static func unique(_ hosts: [String]) -> [String] {
        var seen = Set<String>()
        return hosts.filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
    }

    /// The 4 or 16 bytes of a literal IPv4 or IPv6 address; nil for a host name.
    static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
