import FakeKafka
import HarnessTestSupport
import KafkaProtocol
import NIOCore
import Testing

/// Static membership (KIP-345) on the wire: a member that comes back with its group.instance.id
/// and no member id takes its old place without rebalancing the others, and the id it replaced
/// is fenced. librdkafka 2.12's 0102_static_group_rebalance checks this through restarts.
@Suite("Static group membership", .guarded)
struct StaticMembershipTests {
    private let version: Int16 = 5

    private func join(_ raw: RawKafkaClient, group: String, memberId: String, instance: String) async throws -> JoinGroupResponse {
        let request = JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: memberId,
                                       groupInstanceId: instance, protocolType: "consumer", protocols: [.init(name: "range", metadata: [1])])
        var body = try #require(try await raw.request(request, apiKey: .joinGroup, version: version))
        return try JoinGroupResponse(from: &body, version: version)
    }

    private func sync(_ raw: RawKafkaClient, group: String, generation: Int32, memberId: String, instance: String,
                      assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []) async throws -> SyncGroupResponse {
        let request = SyncGroupRequest(groupId: group, generationId: generation, memberId: memberId, groupInstanceId: instance, assignments: assignments)
        var body = try #require(try await raw.request(request, apiKey: .syncGroup, version: 3))
        return try SyncGroupResponse(from: &body, version: 3)
    }

    private func heartbeat(_ raw: RawKafkaClient, group: String, generation: Int32, memberId: String, instance: String) async throws -> Int16 {
        let request = HeartbeatRequest(groupId: group, generationId: generation, memberId: memberId, groupInstanceId: instance)
        var body = try #require(try await raw.request(request, apiKey: .heartbeat, version: 3))
        return try HeartbeatResponse(from: &body, version: 3).errorCode
    }

    @Test("a restarted static member keeps its assignment and generation; the others do not rebalance; its old id is fenced")
    func restartWithoutRebalance() async throws {
        try await withCluster { cluster in
            let group = uniqueName("static")
            let broker = cluster.brokers[0]
            let a = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            let b = try await RawKafkaClient.connect(host: broker.host, port: broker.port)

            // A static member gets its id at once: no MEMBER_ID_REQUIRED round trip.
            let first = try await join(a, group: group, memberId: "", instance: "instance-a")
            #expect(first.errorCode == 0)
            let aId = first.memberId
            let aSync = try await sync(a, group: group, generation: first.generationId, memberId: aId, instance: "instance-a",
                                       assignments: [.init(memberId: aId, assignment: [0xA])])
            #expect(aSync.errorCode == 0)

            // B joins: a rebalance both members take part in.
            async let bJoin = join(b, group: group, memberId: "", instance: "instance-b")
            try await eventually("A is told to rejoin") {
                try await heartbeat(a, group: group, generation: first.generationId, memberId: aId, instance: "instance-a")
                    == KafkaErrorCode.rebalanceInProgress.rawValue
            }
            let aRejoin = try await join(a, group: group, memberId: aId, instance: "instance-a")
            let bJoined = try await bJoin
            #expect(aRejoin.errorCode == 0 && bJoined.errorCode == 0)
            let generation = aRejoin.generationId
            let leaderId = aRejoin.leader
            let bId = bJoined.memberId
            async let bSync = sync(b, group: group, generation: generation, memberId: bId, instance: "instance-b")
            let assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = [.init(memberId: aId, assignment: [0xA]), .init(memberId: bId, assignment: [0xB])]
            #expect(try await sync(a, group: group, generation: generation, memberId: aId, instance: "instance-a", assignments: assignments).errorCode == 0)
            #expect((try await bSync).assignment == [0xB])

            // B restarts: a new connection, no member id, the same instance id.
            let b2 = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            let back = try await join(b2, group: group, memberId: "", instance: "instance-b")
            #expect(back.errorCode == 0)
            #expect(back.generationId == generation, "no new generation")
            #expect(back.memberId != bId, "the restarted member gets a new id")
            #expect(back.leader == leaderId && back.members.isEmpty, "it is not asked to assign")
            let resumed = try await sync(b2, group: group, generation: generation, memberId: back.memberId, instance: "instance-b")
            #expect(resumed.errorCode == 0 && resumed.assignment == [0xB], "it keeps its assignment")
            #expect(try await heartbeat(a, group: group, generation: generation, memberId: aId, instance: "instance-a") == 0,
                    "the other member is not rebalanced")
            #expect(try await heartbeat(b, group: group, generation: generation, memberId: bId, instance: "instance-b")
                    == KafkaErrorCode.fencedInstanceId.rawValue, "the replaced member id is fenced")
            #expect(cluster.group(group)?.members.count == 2)
            for raw in [a, b, b2] { await raw.close() }
        }
    }
}
