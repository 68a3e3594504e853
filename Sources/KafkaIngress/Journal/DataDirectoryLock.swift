#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// An exclusive claim on a data directory for as long as one ingress has it open.
///
/// Nodes of one cluster share a journal inside one process (`KafkaIngress.setNodes`); a process
/// that finds the directory claimed joins the claimant as a node instead (`IngressNode`), and
/// may claim it once the claimant is gone. `flock` is released by the kernel when the holder
/// dies, so a crashed ingress never leaves the directory claimed.
final class DataDirectoryLock: Sendable {
    private let descriptor: Mutex<Int32?>

    init(directory: String) throws {
        let path = directory + "/ingress.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            close(fd)
            throw DataDirectoryInUse(directory: directory, holder: holder)
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptor = Mutex(fd)
    }

    deinit { release() }

    /// Whether some process holds the directory now; a node asks when its holder stops
    /// answering, which also happens to a holder that is merely busy.
    static func isClaimed(_ directory: String) -> Bool {
        let fd = open(directory + "/ingress.lock", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(fd, LOCK_UN)
        return false
    }

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

/// Another ingress has the data directory open. In another process, join it as a node
/// (`IngressNode`); in this one, add nodes to it (`KafkaIngress.setNodes`).
public struct DataDirectoryInUse: Error, CustomStringConvertible {
    public var directory: String
    /// The claimant's process id, when it could be read.
    public var holder: Int32?

    public var description: String {
        "the data directory \(directory) is in use by another ingress\(holder.map { " (pid \($0))" } ?? ""); "
            + "another process joins it as a node (harness ingress on the same --data-dir), this one adds nodes with --nodes"
    }
}
