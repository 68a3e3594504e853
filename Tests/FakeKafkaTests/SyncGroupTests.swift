import FakeKafka
import HarnessTestSupport
import KafkaProtocol
import NIOCore
import Testing

/// SyncGroup's timing as Kafka's: the leader is answered only after the other members have asked
/// for their assignments (Kafka first writes the assignment to its log), so a cooperative leader
/// that revokes and rejoins at once cannot make a follower miss its generation. librdkafka
/// 2.12's 0113_cooperative_rebalance counted on this.
@Suite("SyncGroup", .guarded)
struct SyncGroupTests {
    @Test("the leader's SyncGroup answer comes after the follower has asked; both get their assignments")
    func leaderAnsweredAfterFollowers() async throws {
        try await withCluster { cluster in
            let group = uniqueName("sync")
            let broker = cluster.brokers[0]
            let leader = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            let follower = try await RawKafkaClient.connect(host: broker.host, port: broker.port)
            func join(_ raw: RawKafkaClient, _ memberId: String) async throws -> JoinGroupResponse {
                let request = JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: memberId,
                                               protocolType: "consumer", protocols: [.init(name: "cooperative-sticky", metadata: [1])])
                var body = try #require(try await raw.request(request, apiKey: .joinGroup, version: 3))
                return try JoinGroupResponse(from: &body, version: 3)
            }
            let first = try await join(leader, "")
            let leaderId = first.memberId
            // A generation with both members: the follower's join parks until the leader rejoins.
            async let followerJoin = join(follower, "")
            try await eventually("the follower's join starts a rebalance") { cluster.group(group)?.state == .preparingRebalance }
            let second = try await join(leader, leaderId)
            let followerId = (try await followerJoin).memberId
            #expect(second.leader == leaderId && second.members.count == 2)

            let assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = [.init(memberId: leaderId, assignment: [0xA]),
                                                                             .init(memberId: followerId, assignment: [0xB])]
            // The leader behaves as a cooperative-sticky leader that must revoke: as soon as it
            // has its assignment, it rejoins.
            async let leaderSide: (SyncGroupResponse, JoinGroupResponse) = {
                let sync = SyncGroupRequest(groupId: group, generationId: second.generationId, memberId: leaderId, assignments: assignments)
                var body = try #require(try await leader.request(sync, apiKey: .syncGroup, version: 2))
                let answer = try SyncGroupResponse(from: &body, version: 2)
                return (answer, try await join(leader, leaderId))
            }()
            try await eventually("the leader's assignment is in") { cluster.group(group).map { $0.state != .completingRebalance } ?? false }
            // Had the leader been answered, its rejoin would start a rebalance within moments.
            let leaderRejoinedFirst = await waitUntil(timeout: .milliseconds(250)) { cluster.group(group)?.state == .preparingRebalance }
            #expect(!leaderRejoinedFirst, "the leader was answered before the follower asked for its assignment")
            var body = try #require(try await follower.request(SyncGroupRequest(groupId: group, generationId: second.generationId, memberId: followerId),
                                                               apiKey: .syncGroup, version: 2))
            let followerAnswer = try SyncGroupResponse(from: &body, version: 2)
            #expect(followerAnswer.errorCode == 0 && followerAnswer.assignment == [0xB], "the follower got its generation's assignment")
            // The follower rejoins too (its next heartbeat would tell it to), ending the leader's rebalance.
            try await eventually("the leader rejoins") { cluster.group(group)?.state == .preparingRebalance }
            #expect(try await join(follower, followerId).errorCode == 0)
            let (leaderAnswer, leaderRejoin) = try await leaderSide
            #expect(leaderAnswer.errorCode == 0 && leaderAnswer.assignment == [0xA])
            #expect(leaderRejoin.errorCode == 0 && leaderRejoin.generationId == second.generationId + 1)
            await leader.close()
            await follower.close()
        }
    }
}
