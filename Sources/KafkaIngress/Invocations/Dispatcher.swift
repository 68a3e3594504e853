/// Runs invocations: exclusive ones one at a time per object key, in journal order; all others
/// in parallel; never more than `concurrency` attempts at once.
///
/// A retrying exclusive invocation keeps its key: later records of that key wait behind it, as
/// they do in Restate. So does a paused one, until it is resumed. Paused invocations and those
/// waiting behind them are parked: open, but neither running nor due, so they do not keep the
/// dispatcher from being idle or a partition from being drained.
actor Dispatcher {
    enum AttemptResult: Sendable {
        case finished
        /// Finished, and these invocations it sent were journaled with its outcome: run them.
        case finishedSending([Invocation])
        /// The handler waits: for a durable sleep until then (epoch milliseconds), or, when nil,
        /// until woken (`retryNow`, when a callee finishes). It keeps its key and is attempted
        /// again without counting an attempt.
        case suspended(untilMs: Int64?)
        case retry(afterMs: Int)
        /// Out of attempts: parked until `resume`.
        case paused
    }

    typealias Attempt = @Sendable (Invocation) async -> AttemptResult

    private let concurrency: Int
    private let attempt: Attempt
    private var ready = FIFO<Invocation>()
    /// Keys with an invocation in flight, retrying or paused, and what waits behind it.
    private var busyKeys: [String: FIFO<Invocation>] = [:]
    private var pausedKeys: Set<String> = []
    private var paused: [String: Invocation] = [:]
    private var inFlight = 0
    private var retrying = 0
    /// The back-off sleeps of invocations waiting to be retried, by invocation id.
    private var backOffs: [String: Task<Void, Never>] = [:]
    private var open = 0
    /// Sent invocations waiting for their start time (delayed sends), by invocation id.
    private var delayed: [String: Task<Void, Never>] = [:]
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Open invocations per source partition that are not parked, and who waits for some of
    /// them to reach zero.
    private var openBySource: [SourcePartition: Int] = [:]
    private var drainWaiters: [(isDrained: @Sendable ([SourcePartition: Int]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    /// Once stopped, no new attempt starts (shutdown); open invocations stay journaled.
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    /// Planted `pausedKeyMovesOn`: a paused invocation lets the next of its key run.
    private let pausedKeysMoveOn: Bool

    init(concurrency: Int, attempt: @escaping Attempt, pausedKeysMoveOn: Bool = false) {
        self.pausedKeysMoveOn = pausedKeysMoveOn
        self.concurrency = max(1, concurrency)
        self.attempt = attempt
    }

    func submit(_ invocations: [Invocation]) {
        let now = Journal.nowMs()
        for invocation in invocations {
            open += 1
            if let notBefore = invocation.notBefore, notBefore > now, !invocation.paused {
                // A delayed send holds nothing (not even its key) until its time: then it queues as if new.
                count(invocation, +1)
                delayed[invocation.id] = Task {
                    try? await Task.sleep(for: .milliseconds(notBefore - Journal.nowMs()))
                    self.due(invocation)
                }
                continue
            }
            admit(invocation)
        }
        pump()
    }

    private func due(_ invocation: Invocation) {
        delayed[invocation.id] = nil
        // Admitted before its delay stops counting, so its source never looks drained in between.
        admit(invocation)
        count(invocation, -1)
        pump()
    }

    /// Queues an open invocation: ready, or behind its key, or parked when paused.
    private func admit(_ invocation: Invocation) {
        if invocation.paused {
            park(invocation)
            return
        }
        if let key = invocation.exclusivityKey {
            if busyKeys[key] != nil {
                busyKeys[key]!.append(invocation)
                if !pausedKeys.contains(key) { count(invocation, +1) }
                return
            }
            busyKeys[key] = FIFO()
        }
        count(invocation, +1)
        ready.append(invocation)
    }

    /// Invocations submitted and not finished (parked ones included).
    var openCount: Int { open }

    /// Returns when nothing runs, is due or waits to be retried (parked invocations may remain).
    func waitUntilIdle() async {
        if stopped || isIdle { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Returns when no invocation from these source partitions is open and unparked.
    func waitUntilDrained(_ sources: Set<SourcePartition>) async {
        await waitUntil { open in sources.allSatisfy { open[$0] == nil } }
    }

    /// Returns when no invocation of this subscription is open and unparked.
    func waitUntilDrained(subscription: String) async {
        await waitUntil { open in !open.keys.contains { $0.subscription == subscription } }
    }

    /// Attempts a paused invocation again (with its attempts counted from zero); returns false
    /// when it is not paused here.
    func resume(_ invocation: Invocation) -> Bool {
        guard paused.removeValue(forKey: invocation.id) != nil else { return false }
        var again = invocation
        again.paused = false
        again.attempts = 0
        count(again, +1)
        if let key = again.exclusivityKey, pausedKeys.remove(key) != nil {
            busyKeys[key, default: FIFO()].forEach { count($0, +1) }
        }
        ready.append(again)
        pump()
        return true
    }

    private func waitUntil(_ isDrained: @escaping @Sendable ([SourcePartition: Int]) -> Bool) async {
        if stopped || isDrained(openBySource) { return }
        await withCheckedContinuation { drainWaiters.append((isDrained, $0)) }
    }

    /// Starts no further attempts; returns once the running ones have ended. Whoever waits for
    /// a drain or for idleness is let go at once (what is open stays journaled), and pending
    /// back-offs and delays are cancelled: nothing may keep a stopped dispatcher (and the journal
    /// it reaches) alive.
    func stop() async {
        stopped = true
        drainWaiters.forEach { $0.continuation.resume() }
        drainWaiters = []
        idleWaiters.forEach { $0.resume() }
        idleWaiters = []
        backOffs.values.forEach { $0.cancel() }
        delayed.values.forEach { $0.cancel() }
        if inFlight == 0 { return }
        await withCheckedContinuation { stopWaiters.append($0) }
    }

    private var isIdle: Bool { inFlight == 0 && retrying == 0 && ready.isEmpty && delayed.isEmpty }

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
        var sent: [Invocation] = []
        switch result {
        case .finished, .finishedSending:
            if case .finishedSending(let invocations) = result { sent = invocations }
            open -= 1
            count(invocation, -1)
            if let key = invocation.exclusivityKey {
                if let next = busyKeys[key]?.popFirst() {
                    ready.append(next)
                } else {
                    busyKeys[key] = nil
                }
            }
        case .retry(let delay):
            var again = invocation
            again.attempts += 1
            again.suspendedUntil = nil
            retrying += 1
            backOffs[again.id] = Task {
                try? await Task.sleep(for: .milliseconds(delay))
                self.requeue(again)
            }
        case .suspended(let until):
            var again = invocation
            again.suspendedUntil = until
            retrying += 1
            backOffs[again.id] = Task {
                if let until {
                    try? await Task.sleep(for: .milliseconds(max(0, until - Journal.nowMs())))
                } else {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
                }
                self.requeue(again)
            }
        case .paused:
            count(invocation, -1)
            park(invocation)
        }
        if !sent.isEmpty { submit(sent) }
        pump()
        resumeIdleWaiters()
    }

    /// Holds a paused invocation (and its key, with what waits behind it) until `resume`.
    private func park(_ invocation: Invocation) {
        paused[invocation.id] = invocation
        guard let key = invocation.exclusivityKey else { return }
        if pausedKeysMoveOn {
            if let next = busyKeys[key]?.popFirst() { ready.append(next) } else { busyKeys[key] = nil }
            return
        }
        pausedKeys.insert(key)
        if busyKeys[key] == nil { busyKeys[key] = FIFO() }
        busyKeys[key]!.forEach { count($0, -1) }
    }

    /// Adds to (or takes from) the open count of the invocation's source partition.
    private func count(_ invocation: Invocation, _ delta: Int) {
        let source = invocation.sourcePartition
        let now = openBySource[source, default: 0] + delta
        openBySource[source] = now == 0 ? nil : now
        if now == 0 { resumeDrainedWaiters() }
    }

    private func resumeIdleWaiters() {
        guard isIdle, !idleWaiters.isEmpty else { return }
        idleWaiters.forEach { $0.resume() }
        idleWaiters = []
    }

    private func resumeDrainedWaiters() {
        drainWaiters.removeAll { waiter in
            guard waiter.isDrained(openBySource) else { return false }
            waiter.continuation.resume()
            return true
        }
    }

    /// Cuts short the back-off of an invocation waiting to be retried.
    func retryNow(_ id: String) {
        backOffs[id]?.cancel()
    }

    private func requeue(_ invocation: Invocation) {
        backOffs[invocation.id] = nil
        retrying -= 1
        ready.append(invocation)
        pump()
    }
}

/// A queue with O(1) pops from the front.
struct FIFO<Element>: Sendable where Element: Sendable {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    func forEach(_ body: (Element) -> Void) {
        items[head...].forEach(body)
    }

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
