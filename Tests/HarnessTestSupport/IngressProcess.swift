import Foundation

/// `harness ingress` as a child process.
public struct IngressProcess {
    public let process: Process
    public let adminURL: String

    /// Starts `harness ingress --admin-port 0 ARGUMENTS` (the binary beside the test bundle) and
    /// waits for its `ready` line.
    public init(arguments: [String]) throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("harness")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ProcessStartError(description: "\(binary.path) is missing: build the package (swift build) before the tests")
        }
        process = Process()
        process.executableURL = binary
        process.arguments = ["ingress", "--admin-port", "0", "--log-level", "warning"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.launchSerially()
        // The first line is "ready http://127.0.0.1:PORT".
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("ready ") else {
            process.terminate()
            throw ProcessStartError(description: "harness ingress did not start: '\(text)'")
        }
        adminURL = String(text.dropFirst("ready ".count))
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed or committed.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

public struct ProcessStartError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}
