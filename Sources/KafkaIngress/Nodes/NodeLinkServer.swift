import Foundation
import Hummingbird
import HTTPServing
import Logging
import NIOCore
import Synchronization

/// The holder of a data directory's side of the link to nodes in other processes (see
/// `IngressNode`): it tells them what to consume, journals what they read and answers their
/// drains, on a loopback port published in the directory.
final class NodeLinkServer: Sendable {
    private let task: Task<Void, Error>
    private let file: NodeLinkFile
    private let directory: String
    private let stopping: Stopping

    /// Set when the holder starts stopping: every request is then refused and its connection
    /// closed, so nodes notice at once and the server's graceful stop does not wait for their
    /// keep-alive connections, which their polling never lets go idle.
    final class Stopping: Sendable {
        let flag = Atomic<Bool>(false)
    }

    private init(task: Task<Void, Error>, file: NodeLinkFile, directory: String, stopping: Stopping) {
        self.task = task
        self.file = file
        self.directory = directory
        self.stopping = stopping
    }

    /// Listens on 127.0.0.1 (a free port) and publishes the address in `directory`.
    static func start(for ingress: KafkaIngress, directory: String, logger: Logger) async throws -> NodeLinkServer {
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        let stopping = Stopping()
        let task = Task {
            // A server that fails to listen ends the stream, so nobody waits for its port.
            defer { continuation.finish() }
            try await HTTPServing.serve(router(ingress, stopping), host: "127.0.0.1", port: 0, logger: logger) { continuation.yield($0) }
        }
        var port: Int?
        for await value in bound {
            port = value
            break
        }
        guard let port else {
            let failure = await task.result
            if case .failure(let error) = failure { throw error }
            throw JournalError(message: "the link for nodes of other processes stopped before it listened")
        }
        let file = NodeLinkFile(holder: getpid(), url: "http://127.0.0.1:\(port)")
        do {
            try file.write(in: directory)
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
        logger.debug("nodes of other processes join at \(file.url)")
        return NodeLinkServer(task: task, file: file, directory: directory, stopping: stopping)
    }

    func stop() async {
        stopping.flag.store(true, ordering: .releasing)
        file.remove(in: directory)
        task.cancel()
        _ = await task.result
    }

    private static func router(_ ingress: KafkaIngress, _ stopping: Stopping) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RefuseWhileStopping(stopping: stopping))
        router.get("/topology") { _, _ in
            json(NodeTopology(holder: getpid(), adminURL: await ingress.announcedAdminURL, plans: await ingress.consumerPlans()))
        }
        router.post("/ingest") { request, _ in
            let body = try await decode(IngestRequest.self, request)
            guard let subscription = await ingress.subscription(body.subscription) else {
                return text(.gone, "subscription \(body.subscription) was deleted")
            }
            let records = body.rdKafkaRecords
            guard records.count == body.keys.count else {
                return text(.badRequest, "\(records.count) records with \(body.keys.count) keys")
            }
            do {
                try await ingress.ingest(records, keys: body.keys, target: ingress.target(for: subscription))
                return Response(status: .noContent)
            } catch let poison as PoisonRecord {
                let index = records.firstIndex { $0.topic == poison.record.topic && $0.partition == poison.record.partition && $0.offset == poison.record.offset } ?? 0
                return json(IngestRefusal(record: index, reason: poison.reason), status: .conflict)
            } catch {
                return text(.internalServerError, "\(error)")
            }
        }
        router.post("/drain") { request, _ in
            let body = try await decode(DrainRequest.self, request)
            let side = ingress.clusterSide
            // In short answers (202: not yet, ask again), so that stopping this server, which
            // waits for the requests in flight, never waits for a drain.
            let drained = await withTimeout(drainAnswerWithin) {
                if let partitions = body.partitions {
                    await side.drain(Set(partitions.map { SourcePartition(subscription: body.subscription, topic: $0.topic, partition: $0.partition) }))
                } else {
                    await side.drainSubscription(body.subscription)
                }
            }
            return Response(status: drained ? .noContent : .accepted)
        }
        return router
    }

    static let drainAnswerWithin: Duration = .milliseconds(500)

    private static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 256 << 20)
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "not a \(type) from a node: \(error)")
        }
    }

    private static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// See `NodeLinkServer.Stopping`.
private struct RefuseWhileStopping: RouterMiddleware {
    let stopping: NodeLinkServer.Stopping

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        guard stopping.flag.load(ordering: .acquiring) else { return try await next(request, context) }
        return Response(status: .serviceUnavailable, headers: [.connection: "close", .contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "the ingress holding the data directory is stopping")))
    }
}
