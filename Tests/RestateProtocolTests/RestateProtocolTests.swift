import HarnessTestSupport
import Testing
@testable import RestateProtocol

@Suite("Service protocol messages", .guarded)
struct RestateProtocolTests {
    @Test("an invocation request round-trips")
    func requestRoundTrip() throws {
        let request = InvocationRequest(
            id: [1, 2, 3], debugId: "inv_1", key: "alice",
            state: [Array("count".utf8): Array("5".utf8), [0xFF]: []],
            headers: [("kafka.offset", "7"), ("kafka.key", "YWxpY2U=")], input: Array("{\"n\":1}".utf8), retryCount: 2)
        #expect(try InvocationRequest(decoding: request.encoded()) == request)
    }

    @Test("an empty input and empty state value survive")
    func emptyValues() throws {
        let request = InvocationRequest(id: [9], debugId: "d", state: [[1]: []], input: [])
        let decoded = try InvocationRequest(decoding: request.encoded())
        #expect(decoded.state == [[1]: []])
        #expect(decoded.input == [])
    }

    @Test("every response outcome round-trips", arguments: [
        InvocationResponse(outcome: .value(Array("6".utf8)), stateMutations: [.set(key: Array("count".utf8), value: Array("6".utf8)), .clear(key: [1]), .clearAll]),
        InvocationResponse(outcome: .value([])),
        InvocationResponse(outcome: .failure(InvocationFailure(code: 409, message: "no"))),
        InvocationResponse(outcome: .error(InvocationFailure(code: 500, message: "boom"), retryAfterMs: 250), ended: false),
        InvocationResponse(outcome: .suspended, ended: false),
        InvocationResponse(outcome: .value([1]), sends: [
            OneWayCall(service: "Counter", handler: "add", parameter: Array("1".utf8), headers: [("h", "v")], key: "a"),
            OneWayCall(service: "Log", handler: "record", parameter: [], invokeTimeMs: 1_700_000_000_000, idempotencyKey: "once"),
        ]),
    ])
    func responseRoundTrip(response: InvocationResponse) throws {
        #expect(try InvocationResponse(decoding: response.encoded()) == response)
    }

    @Test("a body cut short is an error that says where")
    func truncated() throws {
        let body = InvocationRequest(id: [1], debugId: "x", input: [1, 2, 3]).encoded()
        #expect(throws: RestateProtocolError.self) { try Frame.decodeAll(Array(body.dropLast())) }
        #expect(throws: RestateProtocolError.self) { try InvocationRequest(decoding: Array(body.prefix(5))) }
    }

    @Test("a message type the ingress does not know makes the outcome unsupported, named as the protocol names it, even after an output")
    func unsupportedCommandsAreNamed() throws {
        var output = ProtobufWriter()
        output.message(14) { $0.bytes(1, [7]) }
        for (type, name) in [(UInt16(0x0006), "AwaitingOnMessage"), (0x0999, "message type 0x999")] {
            let body = Frame(type: type, body: []).encoded() + Frame(.outputCommand, body: output.bytes).encoded() + Frame(.end, body: []).encoded()
            #expect(try InvocationResponse(decoding: body).outcome == .unsupported(name))
        }
    }

    @Test("lazy state reads are answered from the state as the invocation's earlier writes left it; absent keys are Void; the key list is sorted")
    func lazyStateAnswers() throws {
        func command(_ type: MessageType, key: String?, completion: UInt64) -> Frame {
            var w = ProtobufWriter()
            if let key { w.bytes(1, Array(key.utf8)) }
            w.uint(11, completion)
            return Frame(type, body: w.bytes)
        }
        var set = ProtobufWriter()
        set.bytes(1, Array("b".utf8))
        set.message(3) { $0.bytes(1, Array("2".utf8)) }
        let answers = try JournalEntries.lazyStateAnswers(
            added: [command(.getLazyStateCommand, key: "a", completion: 1), Frame(.setStateCommand, body: set.bytes),
                    command(.getLazyStateCommand, key: "b", completion: 2), command(.getLazyStateCommand, key: "z", completion: 3),
                    command(.getLazyStateKeysCommand, key: nil, completion: 4)],
            journaled: [], state: [Array("a".utf8): Array("1".utf8)])
        #expect(answers.map(\.type) == [0x8002, 0x8002, 0x8002, 0x8006])
        let value = { (frame: Frame) in try ProtobufReader.last(5, in: frame.body).flatMap { try ProtobufReader.last(1, in: $0.bytes)?.bytes } }
        #expect(try value(answers[0]) == Array("1".utf8))
        #expect(try value(answers[1]) == Array("2".utf8), "the write before the read counts")
        #expect(try ProtobufReader.last(4, in: answers[2].body) != nil, "absent: Void")
        let keys = try ProtobufReader.last(17, in: answers[3].body)?.bytes ?? []
        var reader = ProtobufReader(keys)
        var listed: [String] = []
        while let (_, v) = try reader.next() { listed.append(v.string) }
        #expect(listed == ["a", "b"])
    }

    @Test("invocation reads: attach and get-output name their target by id, idempotent request or workflow; their completions carry the outcome, or Void for output not ready")
    func invocationReads() throws {
        var byKey = ProtobufWriter()
        byKey.message(3) { t in
            t.string(1, "Counter")
            t.string(2, "k")
            t.string(3, "add")
            t.string(4, "pay-1")
        }
        byKey.uint(11, 3)
        var byWorkflow = ProtobufWriter()
        byWorkflow.message(4) { t in
            t.string(1, "Signup")
            t.string(2, "a")
        }
        byWorkflow.uint(11, 4)
        let reads = try JournalEntries.invocationReads(in: [
            Frame(.attachInvocationCommand, body: byKey.bytes), Frame(.getInvocationOutputCommand, body: byWorkflow.bytes),
            Frame(.sleepCommand, body: []),
        ])
        #expect(reads.map(\.kind) == [.attach, .output])
        #expect(reads.first?.target == .idempotentRequest(service: "Counter", key: "k", handler: "add", idempotencyKey: "pay-1"))
        #expect(reads.last?.target == .workflow(name: "Signup", key: "a"))
        let done = try #require(reads.first).completion(.value(Array("6".utf8)))
        #expect(done.type == MessageType.attachInvocationCompletionNotification.rawValue)
        #expect(try JournalEntries.pendingAttaches(in: [Frame(.attachInvocationCommand, body: byKey.bytes)]).count == 1)
        #expect(try JournalEntries.pendingAttaches(in: [Frame(.attachInvocationCommand, body: byKey.bytes), done]).isEmpty)
        let notYet = try #require(reads.last).completion(nil)
        #expect(notYet.type == MessageType.getInvocationOutputCompletionNotification.rawValue)
        #expect(try ProtobufReader.last(4, in: notYet.body) != nil, "Void: the invocation has not ended")
    }

    @Test("journal entries: a proposed run result becomes its completion, a requested invocation id is announced, sleeps stay pending until completed")
    func journalEntries() throws {
        var run = ProtobufWriter()
        run.uint(11, 1)
        var proposal = ProtobufWriter()
        proposal.uint(1, 1)
        proposal.bytes(14, Array("42".utf8))
        var sleep = ProtobufWriter()
        sleep.uint(1, 5_000)
        sleep.uint(11, 2)
        var send = ProtobufWriter()
        send.string(1, "Counter")
        send.string(2, "add")
        send.string(6, "a")
        send.uint(10, 3)
        let body = [Frame(.runCommand, body: run.bytes), Frame(.proposeRunCompletion, body: proposal.bytes), Frame(.sleepCommand, body: sleep.bytes),
                    Frame(.oneWayCallCommand, body: send.bytes), Frame(.suspension, body: [])].flatMap { $0.encoded() }
        let entries = try JournalEntries.added(byResponse: body) { _, _, key in "inv_for_\(key)" }
        #expect(entries.map(\.type) == [0x0411, 0x8011, 0x040C, 0x040E, 0x800E])
        // RunCompletionNotification: completion 1 with value { content: "42" }.
        #expect(entries[1].body == [0x08, 0x01, 0x2A, 0x04, 0x0A, 0x02, 0x34, 0x32])
        #expect(try JournalEntries.pendingSleeps(in: entries) == [.init(completionID: 2, wakeUpTimeMs: 5_000)])
        #expect(try JournalEntries.pendingSleeps(in: entries + [JournalEntries.sleepCompletion(2)]).isEmpty)
        let sends = try JournalEntries.sends(in: entries)
        #expect(sends.count == 1 && sends[0].call.service == "Counter" && sends[0].invocationID == "inv_for_a")
    }

    @Test("eager state reads need nothing from the ingress; unknown fields are skipped")
    func unknownSkipped() throws {
        var w = ProtobufWriter()
        w.uint(99, 5)
        w.message(14) { $0.bytes(1, [7]) }
        let body = Frame(type: 0x0407, body: [0x0A, 0x01, 0x41]).encoded() + Frame(.outputCommand, body: w.bytes).encoded() + Frame(.end, body: []).encoded()
        #expect(try InvocationResponse(decoding: body) == InvocationResponse(outcome: .value([7])))
    }

    @Test("exclusive handlers are the object's exclusive ones and the workflow's run")
    func exclusivity() {
        let object = EndpointManifest.Service(name: "O", ty: .virtualObject, handlers: [])
        let workflow = EndpointManifest.Service(name: "W", ty: .workflow, handlers: [])
        let service = EndpointManifest.Service(name: "S", ty: .service, handlers: [])
        #expect(EndpointManifest.Handler(name: "a", ty: .exclusive).isExclusive(in: object))
        #expect(EndpointManifest.Handler(name: "a", ty: nil).isExclusive(in: object))
        #expect(!EndpointManifest.Handler(name: "a", ty: .shared).isExclusive(in: object))
        #expect(EndpointManifest.Handler(name: "run", ty: .workflow).isExclusive(in: workflow))
        #expect(!EndpointManifest.Handler(name: "get", ty: .shared).isExclusive(in: workflow))
        #expect(!EndpointManifest.Handler(name: "h", ty: nil).isExclusive(in: service))
    }
}
