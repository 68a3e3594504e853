import Foundation
import HarnessTestSupport
import LiveResources
import Testing

@Suite("Child processes", .guarded)
struct ChildProcessTests {
    @Test("a child's output is read line by line, and a stop ends its whole process group")
    func outputAndStop() async throws {
        // The shell starts a grandchild (sleep) and waits: a stop must end both.
        try await withChildProcess("sh", ["-c", "echo first; echo second >&2; sleep 600 & echo \"grandchild $!\"; wait"]) { shell in
            #expect(try await shell.waitForOutput(matching: "^second$") == "second")
            let line = try await shell.waitForOutput(matching: "^grandchild [0-9]+")
            let grandchild = try #require(pid_t(line.split(separator: " ")[1]))
            let status = await shell.stop(grace: .seconds(5))
            #expect(status == 128 + SIGTERM)
            try await eventually("the grandchild \(grandchild) is gone") { isGone(grandchild) }
        }
    }

    @Test("a child exiting early is reported with what it printed; a missing program is named")
    func earlyExitAndMissing() async throws {
        try await withChildProcess("sh", ["-c", "echo 'no ready line here'; exit 3"]) { child in
            let error = await #expect(throws: ChildProcessError.self) { try await child.waitForOutput(matching: "^ready") }
            #expect(error?.description.contains("exited with status 3") == true, "\(error.map { "\($0)" } ?? "")")
            #expect(error?.description.contains("no ready line here") == true)
        }
        let missing = await #expect(throws: ChildProcessError.self) { try await ChildProcess.start("/nonexistent/program", []) }
        #expect(missing?.description.contains("/nonexistent/program") == true)
    }

    @Test("a child inherits no descriptor of the test process but its output pipe")
    func noInheritedDescriptors() async throws {
        try await withChildProcess("sh", ["-c", "ls /proc/self/fd | tr '\\n' ' '; echo"]) { child in
            let line = try await child.waitForOutput(matching: "^[0-9 ]+$")
            // 0, 1, 2 and the descriptor ls opens on /proc/self/fd.
            #expect(line.split(separator: " ").count <= 4, "\(line)")
        }
    }

    @Test("children die with the test process: a process that crashes leaves none behind")
    func childrenDieWithTheTestProcess() async throws {
        let pidFile = NSTemporaryDirectory() + "child-of-crashed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        // The exit test runs in a process of its own, which starts a child and then dies by
        // SIGKILL: no cleanup code of ours runs there, only the kernel's parent-death signal.
        await #expect(processExitsWith: .signal(SIGKILL)) { [pidFile = pidFile as String] in
            let child = try await ChildProcess.start("sleep", ["600"])
            try "\(child.pid)".write(toFile: pidFile, atomically: true, encoding: .utf8)
            kill(getpid(), SIGKILL)
        }
        let pid = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8)))
        try await eventually("the crashed process's child \(pid) is gone", timeout: .seconds(5)) { isGone(pid) }
    }
}

/// Gone, or a zombie waiting for init to reap it.
func isGone(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return errno == ESRCH }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
}
