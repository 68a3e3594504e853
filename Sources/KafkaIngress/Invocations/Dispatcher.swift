/// Runs invocations: exclusive ones one at a time per object key, in journal order; all others
/// in parallel; never more than `concurrency` attempts at once.
///
/// A retrying exclusive invocation keeps its key: later records of that key wait behind it, as
/// they do in Restate.
actor Dispatcher {
    enum AttemptResult: Sendable {
        case finished
        case retry(afterMs: Int)
    }

    typealias Attempt = @Sendable (Invocation) async -> AttemptResult

    private let concurrency: Int
    private let attempt: Attempt
    private var ready = FIFO<Invocation>()
    /// Keys with an invocation in flight (or retrying), and what waits behind it.
    private var busyKeys: [String: FIFO<Invocation>] = [:]
    private var inFlight = 0
    private var open = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Open invocations per source partition, and who waits for some of them to reach zero.
    private var openBySource: [SourcePartition: Int] = [:]
    private var drainWaiters: [(isDrained: @Sendable ([SourcePartition: Int]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    /// Once stopped, no new attempt starts (shutdown); open invocations stay journaled.
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    init(concurrency: Int, attempt: @escaping Attempt) {
        self.concurrency = max(1, concurrency)
        self.attempt = attempt
    }

    func submit(_ invocations: [Invocation]) {
        for invocation in invocations {
            open += 1
            openBySource[invocation.sourcePartition, default: 0] += 1
            if let key = invocation.exclusivityKey {
                if busyKeys[key] != nil {
                    busyKeys[key]!.append(invocation)
                    continue
                }
                busyKeys[key] = FIFO()
            }
            ready.append(invocation)
        }
        pump()
    }

    /// Invocations submitted and not finished.
    var openCount: Int { open }

    /// Returns when nothing is open.
    func waitUntilIdle() async {
        if open == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Returns when no invocation from these source partitions is open.
    func waitUntilDrained(_ sources: Set<SourcePartition>) async {
        await waitUntil { open in sources.allSatisfy { open[$0] == nil } }
    }

    /// Returns when no invocation of this subscription is open.
    func waitUntilDrained(subscription: String) async {
        await waitUntil { open in !open.keys.contains { $0.subscription == subscription } }
    }

    private func waitUntil(_ isDrained: @escaping @Sendable ([SourcePartition: Int]) -> Bool) async {
        if isDrained(openBySource) { return }
        await withCheckedContinuation { drainWaiters.append((isDrained, $0)) }
    }

    /// Starts no further attempts; returns once the running ones have ended.
    func stop() async {
        stopped = true
        if inFlight == 0 { return }
        await withCheckedContinuation { stopWaiters.append($0) }
    }

    private func pump() {
        while !stopped, inFlight < concurrency, let next = ready.popFirst() {
            inFlight += 1
            let attempt = self.attempt
            Task {
                let result = await attempt(next)
                self.attemptEnded(next, result)
            }
        }
    }

    private func attemptEnded(_ invocation: Invocation, _ result: AttemptResult) {
        inFlight -= 1
        if inFlight == 0 && stopped {
            stopWaiters.forEach { $0.resume() }
            stopWaiters = []
        }
        switch result {
        case .finished:
            open -= 1
            let source = invocation.sourcePartition
            openBySource[source]! -= 1
            if openBySource[source] == 0 {
                openBySource[source] = nil
                resumeDrainedWaiters()
            }
            if let key = invocation.exclusivityKey {
                if let next = busyKeys[key]?.popFirst() {
                    ready.append(next)
                } else {
                    busyKeys[key] = nil
                }
            }
            if open == 0 {
                idleWaiters.forEach { $0.resume() }
                idleWaiters = []
            }
        case .retry(let delay):
            var again = invocation
            again.attempts += 1
            Task {
                try? await Task.sleep(for: .milliseconds(delay))
                self.requeue(again)
            }
        }
        pump()
    }

    private func resumeDrainedWaiters() {
        drainWaiters.removeAll { waiter in
            guard waiter.isDrained(openBySource) else { return false }
            waiter.continuation.resume()
            return true
        }
    }

    private func requeue(_ invocation: Invocation) {
        ready.append(invocation)
        pump()
    }
}

/// A queue with O(1) pops from the front.
struct FIFO<Element>: Sendable where Element: Sendable {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func append(_ element: Element) { items.append(element) }

    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }
}
