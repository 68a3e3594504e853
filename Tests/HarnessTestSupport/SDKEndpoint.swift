import Foundation

/// Serves `Fixtures/sdk_services.py` (services written with the official Restate Python SDK)
/// with hypercorn on a free loopback port for `body`, which gets the base URL.
public func withSDKEndpoint<T>(_ body: (URL) async throws -> T) async throws -> T {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    return try await withChildProcess("python3", ["-m", "hypercorn", "sdk_services:app", "--bind", "127.0.0.1:0"], directory: fixtures) { hypercorn in
        // hypercorn prints "Running on http://127.0.0.1:PORT (CTRL + C to quit)" when listening.
        let url: String
        do {
            url = try await hypercorn.waitForOutput(matching: #"http://127\.0\.0\.1:[0-9]+"#)
        } catch {
            throw ChildProcessError("hypercorn did not start (is restate-sdk installed? `make setup`): \(error)")
        }
        return try await body(URL(string: url)!)
    }
}
