import CChildSpawn
import Foundation
import LiveResources
import Synchronization

/// A child process, started the one way this project starts processes (tests, and the scenario
/// runner's SDK deployments).
///
/// The child leads a process group of its own and is killed by the kernel if this process
/// dies (see `child_spawn`), so a crashed run leaves no process behind holding its output pipe.
/// Its stdout and stderr go to a pipe read here, never to this process's own output: the lines
/// go to `ChildProcess.outputLines` of the starting task (a test's captured output, shown only
/// if that test fails) and are kept for `waitForOutput` and error messages.
///
/// Prefer `withChildProcess`, which stops the child however the body ends.
public final class ChildProcess: Sendable {
    /// Where the lines of children started in this task go, besides being kept (the test
    /// support points it at the running test's held-back output).
    @TaskLocal public static var outputLines: (@Sendable (String) -> Void)?

    public let pid: pid_t
    /// The command line, for messages.
    public let command: String
    private let output: ChildOutput
    private let status = Mutex<Int32?>(nil)
    private let registration: Registration

    private init(pid: pid_t, command: String, output: ChildOutput) {
        self.pid = pid
        self.command = command
        self.output = output
        registration = LiveResources.opened("child process", "\(pid) (\(command))")
    }

    /// Starts `executable` (a path, or a name looked up in PATH) with `arguments`.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                             directory: String? = nil) async throws -> ChildProcess {
        let path = try resolve(executable)
        let command = ([executable] + arguments).joined(separator: " ")
        var fds: [Int32] = [0, 0]
        guard child_output_pipe(&fds) == 0 else { throw ChildProcessError("cannot start \(command): pipe: \(String(cString: strerror(errno)))") }
        let environment = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let spawned = await ChildLauncher.shared.spawn(path: path, arguments: [executable] + arguments, environment: environment,
                                                       directory: directory, outputFD: fds[1])
        close(fds[1])
        let pid: pid_t
        switch spawned {
        case .started(let started):
            pid = started
        case .failed(let error):
            close(fds[0])
            throw ChildProcessError("cannot start \(command): \(String(cString: strerror(error)))")
        }
        let child = ChildProcess(pid: pid, command: command, output: ChildOutput(capture: Self.outputLines, label: "[\(URL(fileURLWithPath: executable).lastPathComponent) \(pid)]"))
        child.output.startReading(fds[0])
        return child
    }

    /// The exit status once the child has exited (128 + N when signal N ended it), else nil.
    public var exitStatus: Int32? {
        status.withLock { status in
            if status != nil { return status }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                registration.close()
            } else if reaped < 0 && errno == ECHILD {
                status = -1
                registration.close()
            }
            return status
        }
    }

    public var isRunning: Bool { exitStatus == nil }

    /// What the child has printed so far (its last 2,000 lines).
    public var outputText: String { output.text }

    /// Waits until a line of output matches `pattern` (a regular expression) and returns the
    /// matching text; fails if the child exits first or `timeout` passes, quoting what it printed.
    @discardableResult
    public func waitForOutput(matching pattern: String, timeout: Duration = .seconds(60)) async throws -> String {
        var match: String?
        let done = await pollUntil(timeout: timeout, every: .milliseconds(10)) {
            match = output.firstMatch(of: pattern)
            return match != nil || (exitStatus != nil && output.finished)
        }
        if let match { return match }
        if done, let status = exitStatus {
            throw ChildProcessError("\(command) exited with status \(status) before printing '\(pattern)'; it printed:\n\(output.text)")
        }
        throw ChildProcessError("\(command) printed nothing matching '\(pattern)' within \(timeout); it printed:\n\(output.text)")
    }

    /// Waits up to `timeout` for the child to exit; returns its status, or nil if it still runs.
    /// Once it has exited, its output is read to the end (unless a process it left behind still
    /// holds the pipe) before this returns.
    public func waitForExit(timeout: Duration) async -> Int32? {
        guard await pollUntil(timeout: timeout, every: .milliseconds(10), { exitStatus != nil }) else { return nil }
        _ = await pollUntil(timeout: .seconds(2), every: .milliseconds(5)) { output.finished }
        return exitStatus
    }

    /// Runs `body`, then stops the child (SIGTERM, then SIGKILL after `grace`), whether `body`
    /// returns or throws.
    public func stopping<T>(after grace: Duration = .seconds(10), _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await stop(grace: grace)
            return result
        } catch {
            await stop(grace: grace)
            throw error
        }
    }

    /// Sends `signal` to the child's whole process group.
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        Glibc.kill(-pid, signal)
    }

    /// SIGTERM to the group, then SIGKILL if it has not exited within `grace`; returns the status.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> Int32 {
        signal(SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        return await kill()
    }

    /// SIGKILL to the whole group: no shutdown code runs, nothing is flushed or committed.
    @discardableResult
    public func kill() async -> Int32 {
        signal(SIGKILL)
        // The kernel ends a SIGKILLed process promptly; the bound only guards against the absurd.
        return await waitForExit(timeout: .seconds(30)) ?? -1
    }

    deinit {
        if exitStatus == nil {
            Glibc.kill(-pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            registration.close()
        }
    }

    private static func resolve(_ executable: String) throws -> String {
        if executable.contains("/") { return executable }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ChildProcessError("\(executable) is not on PATH")
    }
}

/// Runs `body` with a started child and stops it afterwards (SIGTERM, then SIGKILL after
/// `grace`), whether `body` returns or throws.
public func withChildProcess<T>(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    grace: Duration = .seconds(10), _ body: (ChildProcess) async throws -> T
) async throws -> T {
    let child = try await ChildProcess.start(executable, arguments, environment: environment, directory: directory)
    return try await child.stopping(after: grace) { try await body(child) }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Checks `condition` every `interval` until it holds or `timeout` has passed.
private func pollUntil(timeout: Duration, every interval: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline || Task.isCancelled { return false }
        try? await Task.sleep(for: interval)
    }
    return true
}

/// Reads a child's output on a thread of its own until every writer has closed it.
private final class ChildOutput: Sendable {
    private struct State {
        var lines: [String] = []
        var partial = ""
        var finished = false
    }

    private let state = Mutex(State())
    private let capture: (@Sendable (String) -> Void)?
    private let label: String
    static let keptLines = 2_000

    init(capture: (@Sendable (String) -> Void)?, label: String) {
        self.capture = capture
        self.label = label
    }

    func startReading(_ fd: Int32) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
            close(fd)
            append(nil)
        }
    }

    /// Appends a chunk, or ends the output when nil.
    private func append(_ chunk: String?) {
        let complete: [String] = state.withLock { state in
            guard let chunk else {
                state.finished = true
                let rest = state.partial
                state.partial = ""
                if !rest.isEmpty { state.lines.append(rest) }
                return rest.isEmpty ? [] : [rest]
            }
            var pieces = (state.partial + chunk).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            state.partial = pieces.removeLast()
            state.lines += pieces
            // Trimmed in chunks, so a chatty child does not pay for a shift per line.
            if state.lines.count >= 2 * Self.keptLines { state.lines.removeFirst(state.lines.count - Self.keptLines) }
            return pieces
        }
        for line in complete { capture?("\(label) \(line)") }
    }

    var text: String { state.withLock { ($0.lines.suffix(Self.keptLines) + [$0.partial]).joined(separator: "\n") } }
    var finished: Bool { state.withLock { $0.finished } }

    /// The text matching `pattern` in the first line that has a match.
    func firstMatch(of pattern: String) -> String? {
        state.withLock { state in
            for line in state.lines {
                if let range = line.range(of: pattern, options: .regularExpression) { return String(line[range]) }
            }
            return nil
        }
    }
}

/// The thread every child is started from. The kernel's parent-death signal fires when the
/// thread that forked exits, not the process; this thread never exits, so children are killed
/// exactly when this process dies. Starting one child at a time also keeps forks from
/// racing each other.
private final class ChildLauncher: Sendable {
    static let shared = ChildLauncher()

    private struct Job: @unchecked Sendable {
        let path: String
        let arguments: [String]
        let environment: [String]
        let directory: String?
        let outputFD: Int32
        let done: CheckedContinuation<SpawnResult, Never>
    }

    private let jobs = Mutex<[Job]>([])
    private let wakeUp = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                wakeUp.wait()
                guard let job = self.jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                job.done.resume(returning: Self.run(job))
            }
        }
        thread.name = "child-launcher"
        thread.start()
    }

    enum SpawnResult: Sendable {
        case started(pid_t)
        case failed(errno: Int32)
    }

    func spawn(path: String, arguments: [String], environment: [String], directory: String?, outputFD: Int32) async -> SpawnResult {
        await withCheckedContinuation { continuation in
            jobs.withLock { $0.append(Job(path: path, arguments: arguments, environment: environment, directory: directory, outputFD: outputFD, done: continuation)) }
            wakeUp.signal()
        }
    }

    private static func run(_ job: Job) -> SpawnResult {
        let argv = job.arguments.map { strdup($0) } + [nil]
        let envp = job.environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var error: Int32 = 0
        let pid = job.path.withCString { path in
            argv.withUnsafeBufferPointer { argv in
                envp.withUnsafeBufferPointer { envp in
                    if let directory = job.directory {
                        return directory.withCString { child_spawn(path, argv.baseAddress, envp.baseAddress, $0, job.outputFD, &error) }
                    }
                    return child_spawn(path, argv.baseAddress, envp.baseAddress, nil, job.outputFD, &error)
                }
            }
        }
        return pid > 0 ? .started(pid) : .failed(errno: error)
    }
}
