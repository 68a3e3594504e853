import Hummingbird
import LiveResources
import Logging
import ServiceLifecycle

/// Runs a Hummingbird router the way the harness's servers (the ingress admin API, the
/// recorder) need: on a given address (port 0 picks one, reported through `onReady`), until the
/// calling task is cancelled, which becomes a graceful shutdown.
public func serve(
    _ router: Router<BasicRequestContext>, host: String, port: Int, logger: Logger,
    onReady: @escaping @Sendable (Int) async -> Void
) async throws {
    let app = Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) },
        logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    // An unstructured task, so cancelling the caller does not tear connections down abruptly:
    // the cancellation is turned into a graceful shutdown instead.
    let server = Task { try await group.run() }
    let registration = LiveResources.opened("HTTP server", "on \(host):\(port == 0 ? "(any port)" : "\(port)")")
    defer { registration.close() }
    try await withTaskCancellationHandler {
        try await server.value
    } onCancel: {
        Task { await group.triggerGracefulShutdown() }
    }
}
