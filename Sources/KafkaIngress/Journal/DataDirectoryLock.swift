#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// An exclusive claim on a data directory for as long as one ingress has it open.
///
/// Nodes of one cluster share a journal inside one process (`KafkaIngress.setNodes`). Two
/// processes on one directory would each resume the other's open invocations and keep their own
/// view of subscriptions, so the second is refused instead. `flock` is released by the kernel
/// when the holder dies, so a crashed ingress never leaves the directory claimed.
final class DataDirectoryLock: Sendable {
    private let descriptor: Mutex<Int32?>

    init(directory: String) throws {
        let path = directory + "/ingress.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw JournalError(message: "the data directory \(directory) is in use by another ingress\(holder.isEmpty ? "" : " (pid \(holder))"); "
                + "give each ingress process its own, or run several nodes of one cluster in one process (--nodes)")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptor = Mutex(fd)
    }

    deinit { release() }

    func release() {
        guard let fd = descriptor.withLock({ fd in defer { fd = nil }; return fd }) else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }
}

public struct JournalError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
