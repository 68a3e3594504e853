import KafkaProtocol
import NIOCore

/// The states of a group, named as Kafka names them in DescribeGroups, ListGroups and
/// ConsumerGroupDescribe. PreparingRebalance and CompletingRebalance are a classic group's;
/// Assigning and Reconciling a KIP-848 consumer group's.
public enum GroupState: String, Sendable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case assigning = "Assigning"
    case reconciling = "Reconciling"
    case stable = "Stable"
    case dead = "Dead"
}

/// Which protocol a group's members speak: classic (JoinGroup/SyncGroup, the leader client
/// assigns) or consumer (KIP-848's ConsumerGroupHeartbeat, the coordinator assigns).
public enum GroupType: String, Sendable {
    case classic
    case consumer
}

/// A classic consumer group as the coordinator tracks it. The broker treats protocol metadata
/// and assignments as opaque bytes: the leader client computes the assignment. Static members
/// (KIP-345) are known by their group.instance.id across restarts; requests naming an instance
/// id that another member id now holds are FENCED_INSTANCE_ID.
///
/// Joins and syncs that must wait for other members park a promise here; the group completes
/// them when the rebalance advances. Promises are never completed while the cluster lock is held:
/// every transition appends the completions to `effects`, run by the caller after unlocking.
final class ConsumerGroup {
    struct Member {
        var id: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var sessionTimeout: TimeAmount
        var rebalanceTimeout: TimeAmount
        var protocolType: String
        var protocols: [(name: String, metadata: [UInt8])]
        var assignment: [UInt8] = []
        var lastHeartbeat: NIODeadline
        var pendingJoin: (promise: EventLoopPromise<JoinGroupResponse>, version: Int16)?
        var pendingSync: EventLoopPromise<SyncGroupResponse>?
    }

    let id: String
    private(set) var state: GroupState = .empty
    private(set) var generation: Int32 = 0
    private(set) var protocolType: String?
    private(set) var protocolName: String?
    private(set) var leaderId: String?
    private(set) var members: [String: Member] = [:]
    /// Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry.
    private var pendingMemberIds: [String: NIODeadline] = [:]
    private var rebalanceDeadline: NIODeadline?
    /// The members that asked for this generation's assignment (SyncGroup).
    private var synced: Set<String> = []
    /// Until when the leader's SyncGroup answer is held (see `sync`).
    private var leaderAnswerDeadline: NIODeadline?
    /// The longest the leader's SyncGroup answer waits for the other members' SyncGroups.
    static let leaderAnswerHold: TimeAmount = .milliseconds(500)
    private var initialDelayDeadline: NIODeadline?
    private var nextMemberNumber = 0
    let initialRebalanceDelay: TimeAmount

    init(id: String, initialRebalanceDelay: TimeAmount) {
        self.id = id
        self.initialRebalanceDelay = initialRebalanceDelay
    }

    typealias Effects = [@Sendable () -> Void]

    // MARK: JoinGroup

    func join(_ request: JoinGroupRequest, version: Int16, clientId: String, clientHost: String,
              promise: EventLoopPromise<JoinGroupResponse>, now: NIODeadline, effects: inout Effects) {
        func fail(_ code: KafkaErrorCode, memberId: String = "") {
            let response = JoinGroupResponse(errorCode: code.rawValue, generationId: -1, memberId: memberId)
            effects.append { promise.succeed(response) }
        }
        guard !request.protocols.isEmpty, !request.protocolType.isEmpty else { return fail(.inconsistentGroupProtocol) }
        if let type = protocolType, !members.isEmpty, type != request.protocolType { return fail(.inconsistentGroupProtocol) }
        if !members.isEmpty {
            let common = commonProtocols(adding: request.protocols.map(\.name), excluding: request.memberId)
            if common.isEmpty { return fail(.inconsistentGroupProtocol) }
        }
        var memberId = request.memberId
        if let instanceId = request.groupInstanceId, !instanceId.isEmpty {
            let holder = members.values.first { $0.groupInstanceId == instanceId }?.id
            if memberId.isEmpty, let holder {
                return rejoinStatic(request, instanceId: instanceId, replacing: holder, version: version,
                                    clientId: clientId, promise: promise, now: now, effects: &effects)
            }
            if memberId.isEmpty {
                // A static member is known by its instance id: it never needs MEMBER_ID_REQUIRED.
                nextMemberNumber += 1
                memberId = "\(instanceId)-\(nextMemberNumber)-\(UInt32.random(in: 0...UInt32.max))"
            } else if let holder, holder != memberId {
                return fail(.fencedInstanceId, memberId: memberId)
            } else if holder == nil {
                return fail(.unknownMemberId, memberId: memberId)
            }
        } else if memberId.isEmpty {
            nextMemberNumber += 1
            memberId = "\(clientId.isEmpty ? "member" : clientId)-\(nextMemberNumber)-\(UInt32.random(in: 0...UInt32.max))"
            // From v4 the client must come back with the id we made up (KIP-394).
            if version >= 4 {
                pendingMemberIds[memberId] = now + .milliseconds(Int64(request.sessionTimeoutMs))
                return fail(.memberIdRequired, memberId: memberId)
            }
        } else if members[memberId] == nil && pendingMemberIds.removeValue(forKey: memberId) == nil {
            return fail(.unknownMemberId, memberId: memberId)
        }
        if let known = members[memberId], known.pendingJoin == nil,
           known.protocols.elementsEqual(request.protocols.map { ($0.name, $0.metadata) }, by: { $0.name == $1.0 && $0.metadata == $1.1 }),
           state == .completingRebalance || (state == .stable && memberId != leaderId) {
            // A retried join with nothing new (clients resend after a local timeout) gets the
            // current generation back, as Kafka does; rebalancing again would loop forever.
            members[memberId]!.lastHeartbeat = now
            let response = joinResponse(for: memberId)
            effects.append { promise.succeed(response) }
            return
        }
        let rebalanceTimeoutMs = version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs
        var member = members[memberId] ?? Member(
            id: memberId, groupInstanceId: request.groupInstanceId, clientId: clientId, clientHost: clientHost,
            sessionTimeout: .milliseconds(Int64(request.sessionTimeoutMs)),
            rebalanceTimeout: .milliseconds(Int64(rebalanceTimeoutMs)),
            protocolType: request.protocolType, protocols: [], lastHeartbeat: now)
        member.protocols = request.protocols.map { ($0.name, $0.metadata) }
        member.sessionTimeout = .milliseconds(Int64(request.sessionTimeoutMs))
        member.rebalanceTimeout = .milliseconds(Int64(rebalanceTimeoutMs))
        member.lastHeartbeat = now
        if let old = member.pendingJoin {
            // A retried join replaces the parked one; the old request gets an error, as in Kafka.
            let stale = JoinGroupResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue, generationId: -1, memberId: memberId)
            effects.append { old.promise.succeed(stale) }
        }
        member.pendingJoin = (promise, version)
        members[memberId] = member
        protocolType = request.protocolType
        if state != .preparingRebalance { prepareRebalance(now: now, effects: &effects) }
        tryCompleteJoin(now: now, effects: &effects)
    }

    /// KIP-345: a static member that restarts comes back with its instance id and no member id.
    /// It takes over the old member's place (the old id is fenced) and, while the group is
    /// Stable and its protocols still fit, keeps its assignment without rebalancing the others.
    /// It is told the old leader id, so a restarted leader does not compute an assignment that a
    /// Stable group would never hand out.
    private func rejoinStatic(_ request: JoinGroupRequest, instanceId: String, replacing oldId: String, version: Int16,
                              clientId: String, promise: EventLoopPromise<JoinGroupResponse>, now: NIODeadline, effects: inout Effects) {
        nextMemberNumber += 1
        let newId = "\(instanceId)-\(nextMemberNumber)-\(UInt32.random(in: 0...UInt32.max))"
        var member = members.removeValue(forKey: oldId)!
        answerFenced(member, effects: &effects)
        let previousLeader = leaderId
        if leaderId == oldId { leaderId = newId }
        member.id = newId
        member.clientId = clientId
        member.protocols = request.protocols.map { ($0.name, $0.metadata) }
        member.sessionTimeout = .milliseconds(Int64(request.sessionTimeoutMs))
        member.rebalanceTimeout = .milliseconds(Int64(version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs))
        member.lastHeartbeat = now
        member.pendingJoin = nil
        member.pendingSync = nil
        if state == .stable, let name = protocolName, request.protocols.contains(where: { $0.name == name }) {
            members[newId] = member
            let response = JoinGroupResponse(errorCode: 0, generationId: generation, protocolName: name,
                                             leader: previousLeader ?? "", memberId: newId, members: [])
            effects.append { promise.succeed(response) }
            return
        }
        member.pendingJoin = (promise, version)
        members[newId] = member
        if state != .preparingRebalance { prepareRebalance(now: now, effects: &effects) }
        tryCompleteJoin(now: now, effects: &effects)
    }

    /// FENCED_INSTANCE_ID when `memberId` claims a static instance another member now holds.
    func fencedCheck(memberId: String, groupInstanceId: String?) -> KafkaErrorCode? {
        guard let instanceId = groupInstanceId, !instanceId.isEmpty,
              let holder = members.values.first(where: { $0.groupInstanceId == instanceId }) else { return nil }
        return holder.id == memberId ? nil : .fencedInstanceId
    }

    /// The replaced member's parked requests are answered FENCED_INSTANCE_ID: its client is a
    /// zombie of the restarted one.
    private func answerFenced(_ member: Member, effects: inout Effects) {
        if let join = member.pendingJoin {
            let r = JoinGroupResponse(errorCode: KafkaErrorCode.fencedInstanceId.rawValue, generationId: -1, memberId: member.id)
            effects.append { join.promise.succeed(r) }
        }
        if let sync = member.pendingSync {
            effects.append { sync.succeed(SyncGroupResponse(errorCode: KafkaErrorCode.fencedInstanceId.rawValue)) }
        }
    }

    /// The protocols every current member (but `excluding`) supports, intersected with `names`.
    private func commonProtocols(adding names: [String], excluding: String? = nil) -> Set<String> {
        members.values.filter { $0.id != excluding }.reduce(Set(names)) { $0.intersection($1.protocols.map(\.name)) }
    }

    private func prepareRebalance(now: NIODeadline, effects: inout Effects) {
        // A sync parked from the previous generation cannot complete any more.
        for (id, member) in members {
            if let sync = member.pendingSync {
                effects.append { sync.succeed(SyncGroupResponse(errorCode: KafkaErrorCode.rebalanceInProgress.rawValue)) }
                members[id]?.pendingSync = nil
            }
        }
        let wasEmpty = state == .empty
        state = .preparingRebalance
        let longest = members.values.map(\.rebalanceTimeout).max() ?? .seconds(30)
        rebalanceDeadline = now + longest
        initialDelayDeadline = wasEmpty && initialRebalanceDelay > .zero ? now + initialRebalanceDelay : nil
    }

    /// Completes the join phase once every known member has rejoined (and any initial delay passed).
    private func tryCompleteJoin(now: NIODeadline, effects: inout Effects) {
        guard state == .preparingRebalance else { return }
        if let delay = initialDelayDeadline, now < delay { return }
        guard members.values.allSatisfy({ $0.pendingJoin != nil }) else { return }
        completeJoin(effects: &effects)
    }

    private func completeJoin(effects: inout Effects) {
        rebalanceDeadline = nil
        initialDelayDeadline = nil
        synced = []
        leaderAnswerDeadline = nil
        generation += 1
        if members.isEmpty {
            state = .empty
            protocolName = nil
            leaderId = nil
            return
        }
        state = .completingRebalance
        if leaderId == nil || members[leaderId!] == nil {
            leaderId = members.keys.sorted().first
        }
        // The leader's most preferred protocol that every member supports (join made sure one exists).
        let supportedByAll = members.values.reduce(Set(members[leaderId!]!.protocols.map(\.name))) { $0.intersection($1.protocols.map(\.name)) }
        protocolName = members[leaderId!]!.protocols.map(\.name).first(where: supportedByAll.contains)
        for (id, member) in members {
            guard let join = member.pendingJoin else { continue }
            members[id]?.pendingJoin = nil
            let response = joinResponse(for: id)
            effects.append { join.promise.succeed(response) }
        }
    }

    /// The current generation as a JoinGroup answer: the leader also gets every member's metadata.
    private func joinResponse(for memberId: String) -> JoinGroupResponse {
        var everyone: [JoinGroupResponse.JoinGroupResponseMember] = []
        if memberId == leaderId {
            everyone = members.values.sorted { $0.id < $1.id }.map { m in
                JoinGroupResponse.JoinGroupResponseMember(
                    memberId: m.id, groupInstanceId: m.groupInstanceId,
                    metadata: m.protocols.first { $0.name == protocolName }?.metadata ?? [])
            }
        }
        return JoinGroupResponse(errorCode: 0, generationId: generation, protocolName: protocolName ?? "",
                                 leader: leaderId ?? "", memberId: memberId, members: everyone)
    }

    // MARK: SyncGroup

    func sync(_ request: SyncGroupRequest, promise: EventLoopPromise<SyncGroupResponse>, now: NIODeadline, effects: inout Effects) {
        func reply(_ code: KafkaErrorCode, _ assignment: [UInt8] = []) {
            let response = SyncGroupResponse(errorCode: code.rawValue, assignment: assignment)
            effects.append { promise.succeed(response) }
        }
        if let code = fencedCheck(memberId: request.memberId, groupInstanceId: request.groupInstanceId) { return reply(code) }
        guard members[request.memberId] != nil else { return reply(.unknownMemberId) }
        guard request.generationId == generation else { return reply(.illegalGeneration) }
        members[request.memberId]!.lastHeartbeat = now
        switch state {
        case .preparingRebalance, .empty, .dead, .assigning, .reconciling:
            reply(.rebalanceInProgress)
        case .stable:
            reply(.none, members[request.memberId]!.assignment)
            synced.insert(request.memberId)
            answerLeaderIfDue(now: now, effects: &effects)
        case .completingRebalance:
            members[request.memberId]!.pendingSync = promise
            synced.insert(request.memberId)
            guard request.memberId == leaderId else { return }
            for a in request.assignments where members[a.memberId] != nil {
                members[a.memberId]!.assignment = a.assignment
            }
            state = .stable
            for (id, member) in members where id != leaderId {
                guard let sync = member.pendingSync else { continue }
                members[id]?.pendingSync = nil
                let response = SyncGroupResponse(errorCode: 0, assignment: member.assignment)
                effects.append { sync.succeed(response) }
            }
            // Kafka answers the leader only once the assignment is written to its log and
            // replicated; the other members' SyncGroups, sent as soon as their JoinGroup answers
            // arrive, reach it first. A leader answered at once could revoke and rejoin (as a
            // cooperative-sticky leader does) before a follower asks, and the follower would miss
            // its generation. So the leader's answer waits until every member has asked, for at
            // most `leaderAnswerHold`.
            leaderAnswerDeadline = now + Self.leaderAnswerHold
            answerLeaderIfDue(now: now, effects: &effects)
        }
    }

    /// Sends the held leader answer once every member has synced or the hold is over.
    private func answerLeaderIfDue(now: NIODeadline, effects: inout Effects) {
        guard state == .stable, let deadline = leaderAnswerDeadline, let leader = leaderId, let sync = members[leader]?.pendingSync else {
            leaderAnswerDeadline = nil
            return
        }
        guard now >= deadline || members.keys.allSatisfy(synced.contains) else { return }
        leaderAnswerDeadline = nil
        members[leader]?.pendingSync = nil
        let response = SyncGroupResponse(errorCode: 0, assignment: members[leader]!.assignment)
        effects.append { sync.succeed(response) }
    }

    // MARK: Heartbeat, LeaveGroup, expiry

    func heartbeat(memberId: String, groupInstanceId: String?, generationId: Int32, now: NIODeadline) -> KafkaErrorCode {
        if let code = fencedCheck(memberId: memberId, groupInstanceId: groupInstanceId) { return code }
        guard members[memberId] != nil else { return .unknownMemberId }
        members[memberId]!.lastHeartbeat = now
        if state == .preparingRebalance { return .rebalanceInProgress }
        guard generationId == generation else { return .illegalGeneration }
        return .none
    }

    func leave(memberId: String, groupInstanceId: String? = nil, now: NIODeadline, effects: inout Effects) -> KafkaErrorCode {
        if let code = fencedCheck(memberId: memberId, groupInstanceId: groupInstanceId) {
            // KIP-345: an admin may remove a static member by its instance id alone.
            guard memberId.isEmpty, let holder = members.values.first(where: { $0.groupInstanceId == groupInstanceId }) else { return code }
            return leave(memberId: holder.id, now: now, effects: &effects)
        }
        guard let member = members.removeValue(forKey: memberId) else { return .unknownMemberId }
        fail(member, effects: &effects)
        rebalanceAfterLoss(now: now, effects: &effects)
        return .none
    }

    /// Answers a departing member's parked requests so its client is not left hanging.
    private func fail(_ member: Member, effects: inout Effects) {
        if let join = member.pendingJoin {
            let r = JoinGroupResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue, generationId: -1, memberId: member.id)
            effects.append { join.promise.succeed(r) }
        }
        if let sync = member.pendingSync {
            effects.append { sync.succeed(SyncGroupResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue)) }
        }
    }

    private func rebalanceAfterLoss(now: NIODeadline, effects: inout Effects) {
        if state != .preparingRebalance { prepareRebalance(now: now, effects: &effects) }
        if members.isEmpty {
            completeJoin(effects: &effects)
        } else {
            tryCompleteJoin(now: now, effects: &effects)
        }
    }

    /// Forces a rebalance, as a control: members learn of it through their next heartbeat.
    func forceRebalance(now: NIODeadline, effects: inout Effects) {
        guard !members.isEmpty, state != .preparingRebalance else { return }
        prepareRebalance(now: now, effects: &effects)
    }

    /// Expires members whose session ran out, ends rebalances past their deadline, and finishes
    /// an initial delay. Called periodically by the cluster.
    func tick(now: NIODeadline, effects: inout Effects) {
        pendingMemberIds = pendingMemberIds.filter { $0.value > now }
        answerLeaderIfDue(now: now, effects: &effects)
        var lost = false
        for (id, member) in members where member.pendingJoin == nil && member.lastHeartbeat + member.sessionTimeout < now {
            members.removeValue(forKey: id)
            fail(member, effects: &effects)
            lost = true
        }
        if state == .preparingRebalance, let deadline = rebalanceDeadline, deadline < now {
            // Members that did not rejoin within the rebalance timeout are dropped.
            for (id, member) in members where member.pendingJoin == nil {
                members.removeValue(forKey: id)
                fail(member, effects: &effects)
            }
            completeJoin(effects: &effects)
            return
        }
        if lost {
            rebalanceAfterLoss(now: now, effects: &effects)
        } else {
            tryCompleteJoin(now: now, effects: &effects)
        }
    }

    /// Checks a commit's member and generation; generation -1 to an empty group is a standalone
    /// commit, whatever member id it names (as in Kafka: librdkafka's KIP-848 consumers name
    /// their own id even when they only assign partitions by hand).
    /// As in Kafka, members may commit while a rebalance is being prepared (that is when
    /// consumers commit what they processed of revoked partitions); only between JoinGroup and
    /// SyncGroup is a commit refused, since the member may hold a stale assignment.
    func validateCommit(memberId: String, groupInstanceId: String? = nil, generationId: Int32) -> KafkaErrorCode {
        if generationId < 0 && members.isEmpty { return .none }
        if generationId < 0 && memberId.isEmpty { return .unknownMemberId }
        if let code = fencedCheck(memberId: memberId, groupInstanceId: groupInstanceId) { return code }
        if state == .completingRebalance { return .rebalanceInProgress }
        guard members[memberId] != nil else { return .unknownMemberId }
        if generationId != generation { return .illegalGeneration }
        return .none
    }

    /// Shuts the group down (coordinator moved or cluster stopping): parked requests get `code`.
    func abandonParkedRequests(code: KafkaErrorCode, effects: inout Effects) {
        for (id, member) in members {
            if let join = member.pendingJoin {
                let r = JoinGroupResponse(errorCode: code.rawValue, generationId: -1, memberId: id)
                effects.append { join.promise.succeed(r) }
                members[id]?.pendingJoin = nil
            }
            if let sync = member.pendingSync {
                effects.append { sync.succeed(SyncGroupResponse(errorCode: code.rawValue)) }
                members[id]?.pendingSync = nil
            }
        }
    }
}
