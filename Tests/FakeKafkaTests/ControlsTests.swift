import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import RdKafka
import Testing

/// Each control of the cluster, observed by a real client.
@Suite("Controls observed by librdkafka", .guarded)
struct ControlsTests {
    @Test("an injected non-retriable error fails the delivery; a retriable one is retried")
    func injectedErrors() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("err")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "warm-up"))

            cluster.inject(.error(.messageTooLarge, on: .produce))
            await #expect { try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "refused")) } throws: {
                ($0 as? RdKafkaError)?.name == "MSG_SIZE_TOO_LARGE"
            }
            let tp = TopicPartition(topic, 0)
            let twice = cluster.inject(.error(.notLeaderOrFollower, on: .produce, .times(2), partition: tp))
            #expect(cluster.timesFired(twice) == 0)
            let before = cluster.requestLog().entries.filter { $0.apiKey == ApiKey.produce.rawValue }.count
            let delivery = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "retried"))
            let after = cluster.requestLog().entries.filter { $0.apiKey == ApiKey.produce.rawValue }.count
            #expect(after - before >= 3, "two failed attempts, then success")
            #expect(cluster.timesFired(twice) == 2, "counted, also once used up")
            #expect(delivery.offset == 1)
            #expect(try cluster.records(tp).map { String(decoding: $0.value!, as: UTF8.self) } == ["warm-up", "retried"])
        }
    }

    @Test("a probability-1 fault fails every request; a probability-0 fault none")
    func probabilisticFault() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("prob")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            let never = cluster.inject(Fault(apiKey: .produce, action: .error(.messageTooLarge), frequency: .probability(0)))
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "ok"))
            cluster.removeFault(never)
            #expect(cluster.timesFired(never) == 0)
            cluster.inject(Fault(apiKey: .produce, action: .error(.messageTooLarge), frequency: .probability(1)))
            for _ in 0..<3 {
                await #expect(throws: RdKafkaError.self) { try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "no")) }
            }
        }
    }

    @Test("probabilistic faults decided by a seeded generator repeat with the seed, and differ with another")
    func seededProbability() async throws {
        /// xorshift64*: any seedable generator will do.
        struct Seeded: RandomNumberGenerator, Sendable {
            var state: UInt64
            mutating func next() -> UInt64 {
                state ^= state >> 12; state ^= state << 25; state ^= state >> 27
                return state &* 2_685_821_657_736_338_717
            }
        }
        func pattern(seed: UInt64) async throws -> [Bool] {
            try await withCluster(configure: { $0.faultRandomness = Seeded(state: seed) }) { cluster in
                let topic = uniqueName("seeded")
                try cluster.createTopic(topic, partitions: 1)
                let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0"]))
                cluster.inject(Fault(apiKey: .produce, action: .error(.messageTooLarge), frequency: .probability(0.5)))
                var outcomes: [Bool] = []
                for i in 0..<16 {
                    outcomes.append((try? await producer.send(OutgoingRecord(topic: topic, key: "k", value: "\(i)"))) != nil)
                }
                return outcomes
            }
        }
        let first = try await pattern(seed: 11)
        #expect(try await pattern(seed: 11) == first, "the same seed, the same faults")
        #expect(try await pattern(seed: 12) != first)
        #expect(first.contains(true) && first.contains(false))
    }

    @Test("a delayed response arrives no sooner than the delay")
    func delayedResponse() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("delay")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig(["linger.ms": "0"]))
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "warm-up"))
            let id = cluster.delay(.produce, by: .milliseconds(600))
            let start = ContinuousClock.now
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "slow"))
            #expect(ContinuousClock.now - start >= .milliseconds(600))
            cluster.removeFault(id)
        }
    }

    @Test("dropped connections are re-established by the client")
    func dropConnections() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("drop")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig(["client.id": "dropme"]))
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "1"))
            #expect(cluster.dropConnections(clientId: "dropme") >= 1)
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "2"))
            #expect(try cluster.watermarks(TopicPartition(topic, 0)).high == 2)
        }
    }

    @Test("a stopped broker's partitions are unavailable until it comes back")
    func brokerDownAndUp() async throws {
        try await withCluster(brokers: 2) { cluster in
            let topic = uniqueName("down")
            try cluster.createTopic(topic, partitions: 2)
            let tp = try (0..<2).map { TopicPartition(topic, $0) }.first { try cluster.leader(of: $0) == 1 }!
            let producer = try RdKafkaProducer(cluster.clientConfig(["message.timeout.ms": "1500"]))
            _ = try await producer.send(OutgoingRecord(topic: topic, partition: tp.partition, key: "k", value: "before"))
            try await cluster.stopBroker(1)
            #expect(cluster.brokers.first { $0.id == 1 }?.isUp == false)
            await #expect(throws: RdKafkaError.self) {
                try await producer.send(OutgoingRecord(topic: topic, partition: tp.partition, key: "k", value: "lost"))
            }
            try await cluster.startBroker(1)
            let producer2 = try RdKafkaProducer(cluster.clientConfig())
            let delivery = try await producer2.send(OutgoingRecord(topic: topic, partition: tp.partition, key: "k", value: "after"))
            #expect(delivery.offset == 1)
        }
    }

    @Test("a moved leader is followed by producer and consumer")
    func moveLeader() async throws {
        try await withCluster(brokers: 2) { cluster in
            let topic = uniqueName("move")
            try cluster.createTopic(topic, partitions: 1)
            let tp = TopicPartition(topic, 0)
            let original = try cluster.leader(of: tp)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "0"))
            _ = try await consume(consumer, count: 1)
            try cluster.moveLeader(of: tp, to: 1 - original)
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "1"))
            let moved = try await consume(consumer, count: 1)
            #expect(moved[0].valueString == "1")
            let fetches = cluster.requestLog().entries.filter { $0.apiKey == ApiKey.fetch.rawValue }
            #expect(fetches.contains { $0.broker == 1 - original })
            try await consumer.close()
        }
    }

    @Test("a moved coordinator and a forced rebalance keep the group consuming")
    func coordinatorAndRebalance() async throws {
        try await withCluster(brokers: 2) { cluster in
            let topic = uniqueName("coord")
            let group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            let consumer = try RdKafkaConsumer(cluster.consumerConfig(group: group))
            try consumer.subscribe([topic])
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "a", value: "1"))
            _ = try await consume(consumer, count: 1)
            try await consumer.commit()  // so the rebalance resumes after "1", not at the start
            let generation = try #require(cluster.group(group)?.generation)

            try cluster.forceRebalance(of: group)
            try await eventually("the member rejoins a new generation") {
                _ = try? await consumer.poll(timeoutMs: 10)
                guard let g = cluster.group(group) else { return false }
                return g.state == .stable && g.generation > generation
            }

            let old = cluster.coordinator(of: group)
            try cluster.moveCoordinator(of: group, to: 1 - old)
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "a", value: "2"))
            #expect(try await consume(consumer, count: 1)[0].valueString == "2")
            try await consumer.commit()
            let joinsOrCommits = cluster.requestLog().entries.filter {
                [ApiKey.offsetCommit.rawValue, ApiKey.heartbeat.rawValue].contains($0.apiKey) && $0.broker == 1 - old
            }
            #expect(!joinsOrCommits.isEmpty, "the client found the new coordinator")
            try await consumer.close()
        }
    }

    @Test("capped versions are what clients use")
    func cappedVersions() async throws {
        try await withCluster { cluster in
            cluster.capVersion(.produce, at: 3)
            cluster.capVersion(.fetch, at: 4)
            let topic = uniqueName("cap")
            try cluster.createTopic(topic, partitions: 1)
            let producer = try RdKafkaProducer(cluster.clientConfig())
            _ = try await producer.send(OutgoingRecord(topic: topic, key: "k", value: "v"))
            let consumer = try RdKafkaConsumer(cluster.clientConfig(["group.id": uniqueName("g")]))
            try consumer.assign([PartitionOffset(topic, 0, RdKafkaOffset.beginning)])
            _ = try await consume(consumer, count: 1)
            let log = cluster.requestLog().entries
            #expect(log.filter { $0.apiKey == ApiKey.produce.rawValue }.allSatisfy { $0.apiVersion == 3 })
            #expect(log.filter { $0.apiKey == ApiKey.fetch.rawValue }.allSatisfy { $0.apiVersion == 4 })
            try await consumer.close()
        }
    }
}
