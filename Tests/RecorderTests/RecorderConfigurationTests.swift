import Foundation
import HarnessTestSupport
import Recorder
import RestateProtocol
import Testing

@Suite("Recorder configuration and answers", .guarded)
struct RecorderConfigurationTests {
    @Test("--service NAME:KIND:HANDLERS, with handler kinds")
    func serviceFlag() throws {
        let behaviour = RecorderConfiguration.Behaviour(latencyMs: 5, failFirstAttempts: 1)
        let counter = try RecorderConfiguration.parseService("Counter:object:add,get@shared", behaviour: behaviour)
        #expect(counter.type == .virtualObject)
        #expect(counter.handlers.map(\.name) == ["add", "get"])
        #expect(counter.handlers.map(\.type) == [nil, .shared])
        #expect(counter.handlers.allSatisfy { $0.behaviour == behaviour })
        let manifest = RecorderConfiguration(services: [counter]).manifest
        #expect(manifest.services[0].handlers.map(\.ty) == [.exclusive, .shared], "objects default to exclusive")

        for bad in ["Counter", "Counter:thing:add", "Counter:object:", ":service:a", "C:object:add@weird"] {
            #expect(throws: RecorderConfigurationError.self, "\(bad)") { try RecorderConfiguration.parseService(bad, behaviour: behaviour) }
        }
    }

    @Test("a JSON file with per-handler behaviour; a bad file names itself")
    func file() throws {
        let path = NSTemporaryDirectory() + "recorder-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"services": [{"name": "W", "type": "WORKFLOW", "handlers": [{"name": "run", "type": "WORKFLOW", "behaviour": {"latency_ms": 7}}, {"name": "peek"}]}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let config = try RecorderConfiguration.load(file: path)
        #expect(config.services[0].handlers[0].behaviour.latencyMs == 7)
        #expect(config.services[0].handlers[1].behaviour == .init())
        try #"{"services": [{"name": "W"}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: RecorderConfigurationError.self) { try RecorderConfiguration.load(file: path) }
        #expect(error.description.hasPrefix(path))
    }

    @Test("answers echo the input, fail the first N attempts with a retryable error, and are recorded")
    func answers() async throws {
        let recorder = InvocationRecorder(configuration: RecorderConfiguration(services: [
            .init(name: "S", type: .service, handlers: [.init(name: "h", behaviour: .init(failFirstAttempts: 1))]),
        ]))
        let request = InvocationRequest(id: [1], debugId: "inv_1", headers: [("a", "b")], input: Array("42".utf8)).encoded()
        let first = try InvocationResponse(decoding: try #require(try await recorder.invoke(service: "S", handler: "h", body: request)))
        guard case .error = first.outcome else { Issue.record("first attempt: \(first.outcome)"); return }
        let second = try InvocationResponse(decoding: try #require(try await recorder.invoke(service: "S", handler: "h", body: request)))
        #expect(second.outcome == .value(Array("42".utf8)))
        #expect(try await recorder.invoke(service: "S", handler: "nope", body: request) == nil)
        #expect(recorder.records.map(\.outcome) == [.failed, .completed])
        #expect(recorder.records.map(\.attempt) == [1, 2])
        #expect(recorder.records.last?.headers == ["a": "b"])
        #expect(recorder.counts == (attempts: 2, completed: 1))
    }
}
