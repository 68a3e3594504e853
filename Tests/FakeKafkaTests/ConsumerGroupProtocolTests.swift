import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import NIOCore
import RdKafka
import Testing

/// KIP-848 consumer groups at the wire: member epochs, revocation before reassignment, static
/// members, session expiry, the server-side assignors, and the two protocols side by side. The
/// interop proof with a real KIP-848 client (confluent-kafka 2.16's librdkafka) is in the
/// conformance suite; Debian's librdkafka 2.0.2 predates `group.protocol=consumer`.
@Suite("KIP-848 consumer groups", .guarded)
struct ConsumerGroupProtocolTests {
    /// One member speaking ConsumerGroupHeartbeat v1 on its own connection.
    final class Member {
        let raw: RawKafkaClient
        let group: String
        var id: String
        var epoch: Int32 = 0
        var instanceId: String?
        var correlation: Int32 = 0

        init(_ cluster: FakeKafkaCluster, group: String, id: String = uniqueName("member"), instanceId: String? = nil) async throws {
            let coordinator = cluster.brokers.first { $0.id == cluster.coordinator(of: group) }!
            raw = try await RawKafkaClient.connect(host: coordinator.host, port: coordinator.port)
            self.group = group
            self.id = id
            self.instanceId = instanceId
        }

        func send<M: KafkaMessage>(_ message: M, _ apiKey: ApiKey, version: Int16) async throws -> ByteBuffer {
            correlation += 1
            return try #require(try await raw.request(message, apiKey: apiKey, version: version, correlationId: correlation))
        }

        /// Sends a heartbeat (a join at epoch 0) and keeps the epoch it is given.
        @discardableResult
        func heartbeat(topics: [String]? = nil, owned: [ConsumerGroupHeartbeatRequest.TopicPartitions]? = nil, epoch: Int32? = nil,
                       assignor: String? = nil) async throws -> ConsumerGroupHeartbeatResponse {
            let request = ConsumerGroupHeartbeatRequest(
                groupId: group, memberId: id, memberEpoch: epoch ?? self.epoch, instanceId: instanceId,
                rebalanceTimeoutMs: (epoch ?? self.epoch) == 0 ? 30_000 : -1,
                subscribedTopicNames: topics, serverAssignor: assignor, topicPartitions: owned)
            var body = try await send(request, .consumerGroupHeartbeat, version: 1)
            let response = try ConsumerGroupHeartbeatResponse(from: &body, version: 1)
            if response.errorCode == 0, response.memberEpoch > 0 { self.epoch = response.memberEpoch }
            return response
        }

        func close() async { await raw.close() }
    }

    /// The topic's id, read the way a KIP-848 client reads it: Metadata v12.
    private func topicId(_ cluster: FakeKafkaCluster, _ topic: String) async throws -> KafkaUUID {
        let raw = try await RawKafkaClient.connect(host: cluster.brokers[0].host, port: cluster.brokers[0].port)
        defer { Task { await raw.close() } }
        var body = try #require(try await raw.request(MetadataRequest(topics: [.init(name: topic)]), apiKey: .metadata, version: 12))
        let response = try MetadataResponse(from: &body, version: 12)
        let id = try #require(response.topics.first?.topicId)
        // Asked for by id alone, the same topic comes back with its name.
        var byId = try #require(try await raw.request(MetadataRequest(topics: [.init(topicId: id, name: nil)]), apiKey: .metadata, version: 12, correlationId: 2))
        #expect(try MetadataResponse(from: &byId, version: 12).topics.first?.name == topic)
        return id
    }

    private func partitions(_ response: ConsumerGroupHeartbeatResponse) -> Set<Int32>? {
        response.assignment.map { Set($0.topicPartitions.flatMap(\.partitions)) }
    }

    private func owned(_ id: KafkaUUID, _ partitions: Set<Int32>) -> [ConsumerGroupHeartbeatRequest.TopicPartitions] {
        [.init(topicId: id, partitions: partitions.sorted())]
    }

    @Test("a second member gets partitions only after the first acknowledged revoking them")
    func revocationBeforeReassignment() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("kip848"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 4)
            let id = try await topicId(cluster, topic)
            let a = try await Member(cluster, group: group), b = try await Member(cluster, group: group)

            let joinedA = try await a.heartbeat(topics: [topic], owned: [])
            #expect(joinedA.errorCode == 0 && joinedA.memberEpoch == 1 && partitions(joinedA) == [0, 1, 2, 3])

            let joinedB = try await b.heartbeat(topics: [topic], owned: [])
            #expect(joinedB.memberEpoch == 2, "the join bumps the group epoch")
            #expect(partitions(joinedB) == [], "nothing is free yet: the first member still holds all four")

            let revoking = try await a.heartbeat(owned: owned(id, [0, 1, 2, 3]))
            #expect(revoking.memberEpoch == 1, "a member keeps its epoch until it has revoked")
            let kept = try #require(partitions(revoking))
            #expect(kept.count == 2)
            let given = Set<Int32>([0, 1, 2, 3]).subtracting(kept)

            let stillWaiting = try await b.heartbeat(owned: [])
            #expect((partitions(stillWaiting) ?? []).isEmpty, "revoked partitions are not handed over before the acknowledgement")
            #expect(cluster.group(group)?.state == .reconciling)

            let acknowledged = try await a.heartbeat(owned: owned(id, kept))
            #expect(acknowledged.memberEpoch == 2)
            let handedOver = try await b.heartbeat(owned: [])
            #expect(partitions(handedOver) == given)
            _ = try await b.heartbeat(owned: owned(id, given))

            let described = try #require(cluster.group(group))
            #expect(described.type == .consumer && described.state == .stable && described.generation == 2)
            #expect(Set(described.members.flatMap { $0.assignment ?? [] }.map(\.partition)) == [0, 1, 2, 3])
            await a.close(); await b.close()
        }
    }

    @Test("epochs fence heartbeats and offset commits; OffsetFetch v9 checks the member's epoch")
    func epochChecks() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("epochs"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            let a = try await Member(cluster, group: group)
            try await a.heartbeat(topics: [topic], owned: [])
            #expect(a.epoch == 1)

            let ahead = try await a.heartbeat(epoch: 5)
            #expect(ahead.errorCode == KafkaErrorCode.fencedMemberEpoch.rawValue)
            let stranger = try await Member(cluster, group: group, id: "nobody")
            let unknown = try await stranger.heartbeat(epoch: 1)
            #expect(unknown.errorCode == KafkaErrorCode.unknownMemberId.rawValue)

            func commit(epoch: Int32, version: Int16) async throws -> Int16 {
                let request = OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: epoch, memberId: a.id,
                                                  topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 7)])])
                var body = try await a.send(request, .offsetCommit, version: version)
                return try OffsetCommitResponse(from: &body, version: version).topics[0].partitions[0].errorCode
            }
            #expect(try await commit(epoch: 1, version: 9) == 0)
            #expect(try await commit(epoch: 0, version: 9) == KafkaErrorCode.staleMemberEpoch.rawValue)
            #expect(try await commit(epoch: 2, version: 9) == KafkaErrorCode.fencedMemberEpoch.rawValue)
            #expect(try await commit(epoch: 1, version: 8) == KafkaErrorCode.unsupportedVersion.rawValue,
                    "a new-protocol member must commit with v9 or later")
            #expect(cluster.committedOffsets(group: group)[TopicPartition(topic, 0)]?.offset == 7)

            func fetch(epoch: Int32) async throws -> OffsetFetchResponse.OffsetFetchResponseGroup {
                let request = OffsetFetchRequest(groups: [.init(groupId: group, memberId: a.id, memberEpoch: epoch,
                                                               topics: [.init(name: topic, partitionIndexes: [0])])])
                var body = try await a.send(request, .offsetFetch, version: 9)
                return try OffsetFetchResponse(from: &body, version: 9).groups[0]
            }
            #expect(try await fetch(epoch: 1).topics.first?.partitions.first?.committedOffset == 7)
            #expect(try await fetch(epoch: 0).errorCode == KafkaErrorCode.staleMemberEpoch.rawValue)
            await a.close(); await stranger.close()
        }
    }

    @Test("a static member that leaves with epoch -2 and comes back keeps its partitions, without a rebalance")
    func staticMembers() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("static"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 4)
            let id = try await topicId(cluster, topic)
            let a = try await Member(cluster, group: group, instanceId: "instance-a"), b = try await Member(cluster, group: group)
            try await a.heartbeat(topics: [topic], owned: [])
            try await b.heartbeat(topics: [topic], owned: [])
            let kept = try #require(partitions(try await a.heartbeat(owned: owned(id, [0, 1, 2, 3]))))
            try await a.heartbeat(owned: owned(id, kept))
            let given = try #require(partitions(try await b.heartbeat(owned: [])))
            try await b.heartbeat(owned: owned(id, given))
            let before = try #require(cluster.group(group))
            #expect(before.state == .stable)

            let away = try await a.heartbeat(epoch: -2)
            #expect(away.errorCode == 0 && away.memberEpoch == -2)
            // While the instance is away a new member may take its place; while present, not.
            let successor = try await Member(cluster, group: group, instanceId: "instance-a")
            let back = try await successor.heartbeat(topics: [topic], owned: [])
            #expect(back.errorCode == 0 && back.memberEpoch == a.epoch && partitions(back) == kept,
                    "the returning instance gets its epoch and partitions back at once")
            let twice = try await Member(cluster, group: group, instanceId: "instance-a")
            #expect(try await twice.heartbeat(topics: [topic], owned: []).errorCode == KafkaErrorCode.unreleasedInstanceId.rawValue)
            #expect(cluster.group(group)?.generation == before.generation, "no rebalance for the others")
            let other = try await b.heartbeat(owned: owned(id, given))
            #expect(other.memberEpoch == b.epoch && other.assignment == nil)
            await a.close(); await b.close(); await successor.close(); await twice.close()
        }
    }

    @Test("a member that stops heartbeating is fenced after the session timeout and its partitions move")
    func sessionTimeout() async throws {
        try await withCluster(configure: { $0.consumerGroupSessionTimeout = .milliseconds(800) }) { cluster in
            let topic = uniqueName("session"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            let id = try await topicId(cluster, topic)
            let a = try await Member(cluster, group: group), b = try await Member(cluster, group: group)
            try await a.heartbeat(topics: [topic], owned: [])
            try await b.heartbeat(topics: [topic], owned: [])
            let kept = try #require(partitions(try await a.heartbeat(owned: owned(id, [0, 1]))))
            try await a.heartbeat(owned: owned(id, kept))
            try await eventually("the silent member is fenced and the survivor owns both partitions") {
                let r = try await a.heartbeat(owned: owned(id, kept))
                return cluster.group(group)?.members.count == 1 && partitions(r) == [0, 1]
            }
            #expect(try await b.heartbeat(owned: []).errorCode == KafkaErrorCode.unknownMemberId.rawValue)
            await a.close(); await b.close()
        }
    }

    @Test("the uniform assignor balances members over topics and is sticky; range splits each topic in order; unknown assignors are refused")
    func assignors() async throws {
        try await withCluster { cluster in
            let x = uniqueName("x"), y = uniqueName("y")
            try cluster.createTopic(x, partitions: 3)
            try cluster.createTopic(y, partitions: 3)
            for (assignor, expected) in [("uniform", [3, 3]), ("range", [2, 4])] {
                let group = uniqueName("g")
                // Member ids fix range's order: "m1" takes the first, larger range of each topic.
                let m1 = try await Member(cluster, group: group, id: "m1"), m2 = try await Member(cluster, group: group, id: "m2")
                try await m1.heartbeat(topics: [x, y], owned: [], assignor: assignor)
                try await m2.heartbeat(topics: [x, y], owned: [], assignor: assignor)
                let described = try #require(cluster.group(group))
                #expect(described.assignor == assignor)
                #expect(described.members.map { $0.targetAssignment?.count ?? -1 }.sorted() == expected, "\(assignor)")
                if assignor == "range" {
                    #expect(described.members.first { $0.id == "m1" }?.targetAssignment == [TopicPartition(x, 0), TopicPartition(x, 1), TopicPartition(y, 0), TopicPartition(y, 1)].sorted())
                }
                await m1.close(); await m2.close()
            }
            // Sticky: a partition stays with its owner when moving it would not balance anything,
            // even if a newcomer sorts first.
            let single = uniqueName("single"), group = uniqueName("g")
            try cluster.createTopic(single, partitions: 1)
            let owner = try await Member(cluster, group: group, id: "z-owner"), newcomer = try await Member(cluster, group: group, id: "a-newcomer")
            #expect(partitions(try await owner.heartbeat(topics: [single], owned: [])) == [0])
            try await newcomer.heartbeat(topics: [single], owned: [])
            #expect(cluster.group(group)?.members.first { $0.id == "z-owner" }?.targetAssignment == [TopicPartition(single, 0)])
            await owner.close(); await newcomer.close()

            let odd = try await Member(cluster, group: uniqueName("g"))
            #expect(try await odd.heartbeat(topics: [x], owned: [], assignor: "sticky").errorCode == KafkaErrorCode.unsupportedAssignor.rawValue)
            await odd.close()
        }
    }

    @Test("classic and consumer groups share the cluster: each refuses the other's members, an empty one changes type")
    func bothProtocols() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("both"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            // A classic member through librdkafka 2.0.2.
            let classic = try RdKafkaConsumer(cluster.consumerConfig(group: group))
            try classic.subscribe([topic])
            try await eventually("the classic member is assigned") {
                _ = try? await classic.poll(timeoutMs: 10)
                return try classic.assignment().count == 2
            }
            let modern = try await Member(cluster, group: group)
            let refused = try await modern.heartbeat(topics: [topic], owned: [])
            #expect(refused.errorCode == KafkaErrorCode.groupIdNotFound.rawValue && refused.errorMessage == "Group \(group) is not a consumer group.")
            try await classic.commit([PartitionOffset(topic, 0, 5)])
            try await classic.close()
            try await eventually("the classic group is empty") { cluster.group(group)?.state == .empty }

            // Empty, it becomes a consumer group, committed offsets and all.
            let joined = try await modern.heartbeat(topics: [topic], owned: [])
            #expect(joined.errorCode == 0 && partitions(joined) == [0, 1])
            #expect(cluster.group(group)?.type == .consumer)
            #expect(cluster.committedOffsets(group: group)[TopicPartition(topic, 0)]?.offset == 5)

            var listed = try await modern.send(ListGroupsRequest(typesFilter: ["consumer"]), .listGroups, version: 5)
            #expect(try ListGroupsResponse(from: &listed, version: 5).groups.map(\.groupId).contains(group))
            var described = try await modern.send(DescribeGroupsRequest(groups: [group]), .describeGroups, version: 4)
            #expect(try DescribeGroupsResponse(from: &described, version: 4).groups[0].errorCode == KafkaErrorCode.groupIdNotFound.rawValue)
            var consumerDescribed = try await modern.send(ConsumerGroupDescribeRequest(groupIds: [group]), .consumerGroupDescribe, version: 0)
            let d = try ConsumerGroupDescribeResponse(from: &consumerDescribed, version: 0).groups[0]
            #expect(d.errorCode == 0 && d.groupState == "Stable" && d.members.map(\.memberId) == [modern.id] && d.assignorName == "uniform")

            let join = JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "",
                                        protocolType: "consumer", protocols: [.init(name: "range", metadata: [])])
            var joinBody = try await modern.send(join, .joinGroup, version: 5)
            #expect(try JoinGroupResponse(from: &joinBody, version: 5).errorCode == KafkaErrorCode.inconsistentGroupProtocol.rawValue)

            // Once its last member leaves, a classic member may take the group back.
            #expect(try await modern.heartbeat(epoch: -1).errorCode == 0)
            var again = try await modern.send(join, .joinGroup, version: 5)
            #expect(try JoinGroupResponse(from: &again, version: 5).errorCode == KafkaErrorCode.memberIdRequired.rawValue)
            #expect(cluster.group(group)?.type == .classic)
            await modern.close()
        }
    }

    @Test("the rebalance control moves every partition of a consumer group through revocation")
    func forcedRebalance() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("forced"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 4)
            let id = try await topicId(cluster, topic)
            let a = try await Member(cluster, group: group), b = try await Member(cluster, group: group)
            // What each member owns, and what it last told the coordinator it owns: a member
            // may be given a partition only once the other no longer reports owning it.
            var held: [Set<Int32>] = [[], []], reported: [Set<Int32>] = [[], []]
            try await a.heartbeat(topics: [topic], owned: [])
            try await b.heartbeat(topics: [topic], owned: [])
            /// Heartbeats both members as a client would, giving up and taking what it is told.
            func round() async throws {
                for (i, m) in [a, b].enumerated() {
                    reported[i] = held[i]
                    let r = try await m.heartbeat(owned: owned(id, held[i]))
                    if let now = partitions(r) { held[i] = now }
                    #expect(held[i].isDisjoint(with: reported[1 - i]), "given a partition its owner has not acknowledged revoking")
                }
            }
            try await eventually("stable with two partitions each") {
                try await round()
                return cluster.group(group)?.state == .stable && held.map(\.count) == [2, 2]
            }
            let before = held, generation = cluster.group(group)!.generation
            try cluster.forceRebalance(of: group)
            try await eventually("stable again in a later epoch") {
                try await round()
                return cluster.group(group)?.state == .stable && (cluster.group(group)?.generation ?? 0) > generation
            }
            #expect(held[0] == before[1] && held[1] == before[0], "every partition changed owner")
            await a.close(); await b.close()
        }
    }

    @Test("a moved coordinator answers NOT_COORDINATOR; at the new one the member carries on with its epoch and partitions")
    func coordinatorMove() async throws {
        try await withCluster(brokers: 2) { cluster in
            let topic = uniqueName("moved"), group = uniqueName("g")
            try cluster.createTopic(topic, partitions: 2)
            let id = try await topicId(cluster, topic)
            let before = try await Member(cluster, group: group)
            let joined = try await before.heartbeat(topics: [topic], owned: [])
            let owned = try #require(partitions(joined))
            let other = cluster.brokers.first { $0.id != cluster.coordinator(of: group) }!.id
            try cluster.moveCoordinator(of: group, to: other)
            #expect(try await before.heartbeat(owned: self.owned(id, owned)).errorCode == KafkaErrorCode.notCoordinator.rawValue)

            let after = try await Member(cluster, group: group, id: before.id)
            after.epoch = before.epoch
            let resumed = try await after.heartbeat(owned: self.owned(id, owned))
            #expect(resumed.errorCode == 0 && resumed.memberEpoch == before.epoch)
            #expect(cluster.group(group)?.members.first?.assignment?.map(\.partition) == owned.sorted())
            await before.close(); await after.close()
        }
    }
}
