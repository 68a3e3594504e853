import Foundation

/// Runs `body` with a loopback port that stays reserved until it returns, for a server that must
/// be named in configuration before it starts (an ingress's `restate.toml` naming a broker that
/// a scenario starts later).
///
/// The port is held by a bound, non-listening socket with SO_REUSEADDR: the kernel then gives
/// it to no other port-0 bind and to no outgoing connection, while a listener that also sets
/// SO_REUSEADDR (FakeKafka's brokers do) can still bind it. Releasing a probed port and hoping
/// nobody takes it before the server binds is a race that parallel tests lose.
public func withReservedPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ChildProcessError("cannot reserve a port: socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw ChildProcessError("cannot reserve a port: bind: \(String(cString: strerror(errno)))") }
    return try await body(Int(UInt16(bigEndian: address.sin_port)))
}
