import Foundation

/// Serves `Fixtures/sdk_services.py` (services written with the official Restate Python SDK)
/// with hypercorn on a free loopback port for `body`, which gets the base URL.
public func withSDKEndpoint<T>(_ body: (URL) async throws -> T) async throws -> T {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-m", "hypercorn", "sdk_services:app", "--bind", "127.0.0.1:0"]
    process.currentDirectoryURL = fixtures
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.launchSerially()
    defer {
        process.terminate()
        process.waitUntilExit()
    }
    // hypercorn prints "Running on http://127.0.0.1:PORT (CTRL + C to quit)" when listening.
    let port = try await readPort(from: output.fileHandleForReading, process: process)
    return try await body(URL(string: "http://127.0.0.1:\(port)")!)
}

private func readPort(from handle: FileHandle, process: Process) async throws -> Int {
    var seen = ""
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        let chunk = handle.availableData
        if chunk.isEmpty {
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
            continue
        }
        seen += String(decoding: chunk, as: UTF8.self)
        if let range = seen.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
           let port = Int(seen[range].split(separator: ":").last!) {
            return port
        }
    }
    throw SDKEndpointError(description: "hypercorn did not start (is restate-sdk installed? `make setup`): \(seen)")
}

public struct SDKEndpointError: Error, CustomStringConvertible {
    public let description: String
}
