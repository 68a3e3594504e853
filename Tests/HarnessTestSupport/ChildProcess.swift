import Foundation
import Synchronization

/// Foundation's `Process.run()` on Linux is not safe to call from several threads at once (it was
/// seen crashing in a memmove while tests launched processes in parallel), so every test launch
/// goes through this one lock.
private let launching = Mutex(())

public extension Process {
    /// `run()`, one launch at a time across the test process.
    func launchSerially() throws {
        try launching.withLock { _ in try run() }
    }
}
