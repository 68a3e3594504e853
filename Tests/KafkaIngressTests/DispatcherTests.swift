import HarnessTestSupport
import Synchronization
import Testing
@testable import KafkaIngress

/// The dispatcher alone, with attempts that only record what ran when.
@Suite("Dispatcher", .guarded)
struct DispatcherTests {
    final class Log: Sendable {
        let events = Mutex<[String]>([])
        let running = Mutex<(now: Int, peak: Int)>((0, 0))
        let failuresLeft = Mutex<[String: Int]>([:])
    }

    static func invocation(_ seq: Int64, key: String?, exclusive: Bool) -> Invocation {
        Invocation(seq: seq, id: "inv\(seq)", subscriptionID: "sub", service: "S", handler: "h", key: key, exclusive: exclusive,
                   headers: [], payload: [], attempts: 0, topic: "t", partition: 0)
    }

    static func dispatcher(_ log: Log, concurrency: Int) -> Dispatcher {
        Dispatcher(concurrency: concurrency) { inv in
            log.running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            log.events.withLock { $0.append("start \(inv.id)") }
            try? await Task.sleep(for: .milliseconds(2))
            log.running.withLock { $0.now -= 1 }
            let fail = log.failuresLeft.withLock { left -> Bool in
                guard let n = left[inv.id], n > 0 else { return false }
                left[inv.id] = n - 1
                return true
            }
            log.events.withLock { $0.append((fail ? "fail " : "end ") + inv.id) }
            return fail ? .retry(afterMs: 5) : .finished
        }
    }

    @Test("exclusive invocations of one key run one at a time in journal order, even across retries")
    func exclusiveOrder() async {
        let log = Log()
        log.failuresLeft.withLock { $0["inv1"] = 2 }
        let dispatcher = Self.dispatcher(log, concurrency: 8)
        await dispatcher.submit((1...4).map { Self.invocation($0, key: "k", exclusive: true) })
        await dispatcher.waitUntilIdle()
        #expect(log.events.withLock { $0 } == [
            "start inv1", "fail inv1", "start inv1", "fail inv1", "start inv1", "end inv1",
            "start inv2", "end inv2", "start inv3", "end inv3", "start inv4", "end inv4",
        ])
        #expect(log.running.withLock { $0.peak } == 1)
    }

    @Test("non-exclusive invocations run in parallel, never more than the limit")
    func parallelWithinLimit() async {
        let running = Mutex<(now: Int, peak: Int)>((0, 0))
        // Each attempt holds its slot until three run at once (or 10 s pass), so reaching the
        // limit does not depend on timing, and exceeding it would show.
        let dispatcher = Dispatcher(concurrency: 3) { _ in
            running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            let deadline = ContinuousClock.now + .seconds(10)
            while running.withLock({ $0.peak }) < 3 && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
            }
            running.withLock { $0.now -= 1 }
            return .finished
        }
        await dispatcher.submit((1...20).map { Self.invocation($0, key: "k", exclusive: false) })
        await dispatcher.waitUntilIdle()
        #expect(running.withLock { $0.peak } == 3)
        #expect(await dispatcher.openCount == 0)
    }

    @Test("draining a source partition waits for its invocations only")
    func drain() async {
        let log = Log()
        log.failuresLeft.withLock { $0["inv1"] = 3 }
        let dispatcher = Self.dispatcher(log, concurrency: 4)
        await dispatcher.submit([Self.invocation(1, key: "a", exclusive: true)])
        await dispatcher.waitUntilDrained([SourcePartition(subscription: "sub", topic: "t", partition: 0)])
        #expect(log.events.withLock { $0.last } == "end inv1", "drained only once the retried invocation ended")
        await dispatcher.waitUntilDrained([SourcePartition(subscription: "sub", topic: "t", partition: 7)])  // nothing from there: returns at once
        await dispatcher.stop()
    }
}
