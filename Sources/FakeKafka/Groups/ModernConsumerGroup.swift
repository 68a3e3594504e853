import KafkaProtocol
import NIOCore

/// The topics a coordinator can assign: id and partition count by name.
typealias TopicCatalog = [String: (id: KafkaUUID, partitions: Int32)]

/// A consumer group of the new protocol (KIP-848, `group.protocol=consumer`): members heartbeat
/// with ConsumerGroupHeartbeat, the coordinator computes the assignment, and members move to it
/// one step at a time.
///
/// The group epoch goes up whenever membership, a subscription, the chosen assignor or the
/// subscribed topics' partitions change; the target assignment is then recomputed for that epoch.
/// Each member reconciles towards its target on its own: it first gives up what it must
/// (keeping its epoch until it acknowledges the revocation by heartbeating without those
/// partitions), then takes the new epoch and the target partitions no other member still holds.
/// A partition is so never owned by two members at once.
final class ModernConsumerGroup {
    struct Settings {
        var heartbeatInterval: TimeAmount
        var sessionTimeout: TimeAmount
        var assignors: [ServerAssignor]
    }

    struct Member {
        var id: String
        var instanceId: String?
        var rackId: String?
        var clientId: String
        var clientHost: String
        var epoch: Int32 = 0
        var previousEpoch: Int32 = -1
        var rebalanceTimeout: TimeAmount
        var subscribedTopicNames: [String] = []
        var subscribedTopicRegex: String?
        var serverAssignor: String?
        /// The partitions the member was told it owns.
        var assigned: Set<TopicPartition> = []
        /// Partitions the member was told to give up and has not yet said it gave up.
        var pendingRevocation: Set<TopicPartition> = []
        /// When a revocation must be acknowledged by (the member's rebalance timeout).
        var revocationDeadline: NIODeadline?
        var lastHeartbeat: NIODeadline
        /// A static member that left with epoch -2: it keeps its assignment until its instance
        /// rejoins or its session runs out.
        var awayStatic = false
        /// The assignment last sent, to send it again only when it changed.
        var lastSent: Set<TopicPartition>?
    }

    let id: String
    let settings: Settings
    private(set) var groupEpoch: Int32 = 0
    private(set) var assignmentEpoch: Int32 = 0
    private(set) var members: [String: Member] = [:]
    private(set) var target: [String: Set<TopicPartition>] = [:]
    private(set) var assignorName: String
    /// Partition counts of the subscribed topics when the target was last computed.
    private var subscribedPartitions: [String: Int32] = [:]
    private var rotateNextAssignment = false
    private var compiledRegexes: [String: Regex<AnyRegexOutput>] = [:]
    /// The topics each subscribed regex matched when last resolved. As in Kafka, a regex is
    /// resolved after the heartbeat that brings it is answered, so its topics come a heartbeat
    /// after the literal ones (librdkafka's tests expect exactly that).
    private var resolvedRegexes: [String: Set<String>] = [:]

    init(id: String, settings: Settings) {
        self.id = id
        self.settings = settings
        assignorName = settings.assignors.first?.rawValue ?? ServerAssignor.uniform.rawValue
    }

    var isEmpty: Bool { members.isEmpty }

    /// Empty, Reconciling (some member is not yet at its target) or Stable, as Kafka names them.
    var state: GroupState {
        if members.isEmpty { return .empty }
        if groupEpoch > assignmentEpoch { return .assigning }
        let settled = members.values.allSatisfy { m in
            m.epoch == assignmentEpoch && m.pendingRevocation.isEmpty && m.assigned == (target[m.id] ?? [])
        }
        return settled ? .stable : .reconciling
    }

    // MARK: ConsumerGroupHeartbeat

    /// Answers one heartbeat: joins, leaves, reconciles, and returns the member's epoch and, when
    /// it changed or the member asked with a full request, its assignment.
    func heartbeat(_ request: ConsumerGroupHeartbeatRequest, clientId: String, clientHost: String,
                   topics: TopicCatalog, now: NIODeadline) -> ConsumerGroupHeartbeatResponse {
        func fail(_ code: KafkaErrorCode, _ message: String) -> ConsumerGroupHeartbeatResponse {
            ConsumerGroupHeartbeatResponse(errorCode: code.rawValue, errorMessage: message, memberEpoch: -1)
        }
        if let name = request.serverAssignor, !settings.assignors.contains(where: { $0.rawValue == name }) {
            return fail(.unsupportedAssignor, "Assignor \(name) is not supported. Supported assignors: \(settings.assignors.map(\.rawValue).joined(separator: ", ")).")
        }
        if let regex = request.subscribedTopicRegex, !regex.isEmpty, compile(regex) == nil {
            return fail(.invalidRequest, "SubscribedTopicRegex \(regex) is not a valid regular expression.")
        }
        var memberId = request.memberId
        switch request.memberEpoch {
        case -1, -2:
            return leave(request, now: now, topics: topics)
        case 0:
            if request.subscribedTopicNames == nil && request.subscribedTopicRegex == nil {
                return fail(.invalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in the first heartbeat.")
            }
            if request.rebalanceTimeoutMs < 0 {
                return fail(.invalidRequest, "RebalanceTimeoutMs must be set in the first heartbeat.")
            }
            if memberId.isEmpty { memberId = KafkaUUID.random().description }
            if let refused = join(request, memberId: memberId, clientId: clientId, clientHost: clientHost, now: now) { return fail(refused.code, refused.message) }
        default:
            guard var member = members[request.memberId] else {
                return fail(.unknownMemberId, "Member \(request.memberId) is not a member of group \(id).")
            }
            if let instance = request.instanceId, member.instanceId != instance {
                return fail(.fencedInstanceId, "Member \(request.memberId) does not hold instance id \(instance).")
            }
            let owned = request.topicPartitions.map { Self.partitions($0, topics: topics) }
            if request.memberEpoch != member.epoch {
                // A member whose last answer was lost comes back with its previous epoch; it may
                // carry on if it owns nothing it was not given.
                let lostResponse = request.memberEpoch == member.previousEpoch && (owned.map { $0.isSubset(of: member.assigned) } ?? false)
                if !lostResponse {
                    return fail(.fencedMemberEpoch, "Member \(request.memberId) sent epoch \(request.memberEpoch); its epoch is \(member.epoch).")
                }
            }
            member.lastHeartbeat = now
            members[member.id] = member
            if update(member.id, from: request) { groupEpoch += 1 }
        }
        refreshTarget(topics: topics)
        let owned = request.topicPartitions.map { Self.partitions($0, topics: topics) }
        reconcile(memberId, owned: owned, now: now)
        let member = members[memberId]!
        var response = ConsumerGroupHeartbeatResponse(memberId: memberId, memberEpoch: member.epoch,
                                                      heartbeatIntervalMs: Int32(settings.heartbeatInterval.nanoseconds / 1_000_000))
        let fullRequest = request.memberEpoch == 0 || owned.map { $0 != member.assigned } ?? false
        if fullRequest || member.lastSent != member.assigned {
            response.assignment = .init(topicPartitions: Self.topicPartitions(member.assigned, topics: topics))
            members[memberId]!.lastSent = member.assigned
        }
        resolveRegexes(topics)
        return response
    }

    /// Adds a member (or takes a static member's place, or resets a rejoining one). Clients of v1
    /// make up their member id (KIP-1082); one without gets one from the broker.
    private func join(_ request: ConsumerGroupHeartbeatRequest, memberId: String, clientId: String, clientHost: String, now: NIODeadline) -> GroupRefusal? {
        if let instance = request.instanceId, let holder = members.values.first(where: { $0.instanceId == instance }), holder.id != memberId {
            guard holder.awayStatic else {
                return GroupRefusal(code: .unreleasedInstanceId, message: "Static member \(holder.id) with instance id \(instance) is still in group \(id).")
            }
            // The instance is back under a new member id: it takes over its predecessor's epoch and
            // assignment, and the others see no rebalance.
            var successor = holder
            successor.id = memberId
            successor.awayStatic = false
            successor.lastHeartbeat = now
            successor.clientId = clientId
            successor.clientHost = clientHost
            successor.lastSent = nil
            members.removeValue(forKey: holder.id)
            members[memberId] = successor
            target[memberId] = target.removeValue(forKey: holder.id)
            if update(memberId, from: request) { groupEpoch += 1 }
            return nil
        }
        if var known = members[memberId] {
            // A member that rejoins (after being fenced, say) has given up everything it held.
            known.assigned = []
            known.pendingRevocation = []
            known.epoch = 0
            known.lastHeartbeat = now
            members[memberId] = known
        } else {
            members[memberId] = Member(id: memberId, instanceId: request.instanceId, rackId: request.rackId, clientId: clientId, clientHost: clientHost,
                                       rebalanceTimeout: .milliseconds(Int64(request.rebalanceTimeoutMs)), lastHeartbeat: now)
        }
        // A new member's subscription is always a change: the group epoch goes up once.
        if update(memberId, from: request) { groupEpoch += 1 }
        return nil
    }

    /// Takes what a heartbeat says changed (null fields mean "as before"); true when the
    /// subscription or assignor changed, which calls for a new group epoch.
    private func update(_ memberId: String, from request: ConsumerGroupHeartbeatRequest) -> Bool {
        guard var m = members[memberId] else { return false }
        var changed = false
        if let names = request.subscribedTopicNames, names.sorted() != m.subscribedTopicNames {
            m.subscribedTopicNames = names.sorted()
            changed = true
        }
        if let regex = request.subscribedTopicRegex, (regex.isEmpty ? nil : regex) != m.subscribedTopicRegex {
            m.subscribedTopicRegex = regex.isEmpty ? nil : regex
            changed = true
        }
        if let assignor = request.serverAssignor, assignor != m.serverAssignor {
            m.serverAssignor = assignor
            changed = true
        }
        if request.rebalanceTimeoutMs >= 0 { m.rebalanceTimeout = .milliseconds(Int64(request.rebalanceTimeoutMs)) }
        if let rack = request.rackId { m.rackId = rack }
        members[memberId] = m
        return changed
    }

    private func leave(_ request: ConsumerGroupHeartbeatRequest, now: NIODeadline, topics: TopicCatalog) -> ConsumerGroupHeartbeatResponse {
        guard let member = members[request.memberId] else {
            return ConsumerGroupHeartbeatResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue,
                                                  errorMessage: "Member \(request.memberId) is not a member of group \(id).", memberEpoch: -1)
        }
        if request.memberEpoch == -2 {
            guard member.instanceId != nil else {
                return ConsumerGroupHeartbeatResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue,
                                                      errorMessage: "Only a static member (with an instance id) may leave with epoch -2.", memberEpoch: -1)
            }
            members[member.id]!.awayStatic = true
            members[member.id]!.lastHeartbeat = now
            return ConsumerGroupHeartbeatResponse(memberId: member.id, memberEpoch: -2)
        }
        remove(member.id)
        refreshTarget(topics: topics)
        return ConsumerGroupHeartbeatResponse(memberId: member.id, memberEpoch: -1)
    }

    private func remove(_ memberId: String) {
        members.removeValue(forKey: memberId)
        target.removeValue(forKey: memberId)
        groupEpoch += 1
        // A regex nobody subscribes to any more is forgotten: subscribed to again, it is
        // resolved anew, after the heartbeat that brings it.
        resolvedRegexes = resolvedRegexes.filter { pattern in members.values.contains { $0.subscribedTopicRegex == pattern.key } }
    }

    // MARK: Target assignment and reconciliation

    /// The topics a member subscribes to that exist: by name and by regex.
    private func topics(of member: Member, in catalog: TopicCatalog) -> Set<String> {
        var names = Set(member.subscribedTopicNames.filter { catalog[$0] != nil })
        if let pattern = member.subscribedTopicRegex {
            names.formUnion((resolvedRegexes[pattern] ?? []).filter { catalog[$0] != nil })
        }
        return names
    }

    /// Resolves the members' regexes against the topics there are now (new topics included);
    /// a change reaches the target at the next heartbeat, through the subscribed topics.
    private func resolveRegexes(_ catalog: TopicCatalog) {
        let patterns = Set(members.values.compactMap(\.subscribedTopicRegex))
        resolvedRegexes = resolvedRegexes.filter { patterns.contains($0.key) }
        for pattern in patterns {
            guard let regex = compile(pattern) else { continue }
            resolvedRegexes[pattern] = Set(catalog.keys.filter { (try? regex.wholeMatch(in: $0)) != nil })
        }
    }

    private func compile(_ pattern: String) -> Regex<AnyRegexOutput>? {
        if let known = compiledRegexes[pattern] { return known }
        guard let regex = try? Regex(pattern) else { return nil }
        compiledRegexes[pattern] = regex
        return regex
    }

    /// Recomputes the target when the group epoch moved past it or the subscribed topics changed
    /// (created, grown): the latter bumps the group epoch first, as in Kafka.
    func refreshTarget(topics catalog: TopicCatalog) {
        let subscribed = members.values.reduce(into: Set<String>()) { $0.formUnion(topics(of: $1, in: catalog)) }
        let counts = Dictionary(uniqueKeysWithValues: subscribed.map { ($0, catalog[$0]!.partitions) })
        if counts != subscribedPartitions {
            subscribedPartitions = counts
            // One new epoch covers a membership change and the topics it brings.
            if !members.isEmpty && groupEpoch == assignmentEpoch { groupEpoch += 1 }
        }
        guard groupEpoch > assignmentEpoch else { return }
        let preferred = Dictionary(grouping: members.values.compactMap(\.serverAssignor), by: { $0 })
            .max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }?.key
        assignorName = preferred ?? settings.assignors.first?.rawValue ?? ServerAssignor.uniform.rawValue
        let assignor = ServerAssignor(rawValue: assignorName) ?? .uniform
        let subscribers = members.mapValues { m in
            ServerAssignor.Subscriber(topics: topics(of: m, in: catalog), previous: target[m.id] ?? m.assigned)
        }
        target = assignor.assign(subscribers, partitionCounts: counts, rotate: rotateNextAssignment)
        rotateNextAssignment = false
        assignmentEpoch = groupEpoch
    }

    /// Moves one member a step towards its target. A member with partitions to give up keeps its
    /// epoch until it acknowledges (by heartbeating without them); only then does it take the new
    /// epoch, and of its new partitions only those no other member still holds.
    private func reconcile(_ memberId: String, owned: Set<TopicPartition>?, now: NIODeadline) {
        guard var m = members[memberId], !m.awayStatic else { return }
        let goal = target[memberId] ?? []
        if !m.pendingRevocation.isEmpty {
            if let owned, owned.isDisjoint(with: m.pendingRevocation) {
                m.pendingRevocation = []
                m.revocationDeadline = nil
            } else {
                // Still revoking; anything else the target took away is revoked as well.
                let more = m.assigned.subtracting(goal)
                m.assigned.subtract(more)
                m.pendingRevocation.formUnion(more)
                members[memberId] = m
                return
            }
        }
        let toRevoke = m.assigned.subtracting(goal)
        if !toRevoke.isEmpty {
            m.assigned.subtract(toRevoke)
            m.pendingRevocation = toRevoke
            m.revocationDeadline = now + m.rebalanceTimeout
            members[memberId] = m
            return
        }
        let heldByOthers = members.values.filter { $0.id != memberId }.reduce(into: Set<TopicPartition>()) {
            $0.formUnion($1.assigned)
            $0.formUnion($1.pendingRevocation)
        }
        let gained = goal.subtracting(m.assigned).subtracting(heldByOthers)
        if m.epoch != assignmentEpoch || !gained.isEmpty {
            if m.epoch != assignmentEpoch {
                m.previousEpoch = m.epoch
                m.epoch = assignmentEpoch
            }
            m.assigned.formUnion(gained)
        }
        members[memberId] = m
    }

    // MARK: Expiry, controls, commits

    /// Fences members whose session ran out or who did not revoke in time.
    func tick(now: NIODeadline, topics: TopicCatalog) {
        resolveRegexes(topics)
        var lost = false
        for (id, m) in members {
            let expired = m.lastHeartbeat + settings.sessionTimeout < now
            let stuck = m.revocationDeadline.map { $0 < now } ?? false
            if expired || stuck {
                remove(id)
                lost = true
            }
        }
        if lost { refreshTarget(topics: topics) }
    }

    /// Starts a rebalance as a control: a new group epoch whose target moves every partition to
    /// another member when there are two or more, so each goes through revocation.
    func forceRebalance(topics: TopicCatalog) {
        guard !members.isEmpty else { return }
        groupEpoch += 1
        rotateNextAssignment = true
        refreshTarget(topics: topics)
    }

    /// Checks an OffsetCommit's (or TxnOffsetCommit's) member and epoch, as Kafka's consumer
    /// groups do: without a member (epoch -1) only while the group is empty; a member's commit
    /// must carry its current epoch and, outside a transaction, come as OffsetCommit v9+.
    func validateCommit(memberId: String, epoch: Int32, apiVersion: Int16, transactional: Bool) -> KafkaErrorCode {
        if epoch < 0 && members.isEmpty { return .none }
        guard let m = members[memberId] else { return .unknownMemberId }
        if !transactional && apiVersion < 9 { return .unsupportedVersion }
        if epoch > m.epoch { return .fencedMemberEpoch }
        if epoch < m.epoch { return .staleMemberEpoch }
        return .none
    }

    /// Checks an OffsetFetch v9+'s member and epoch; an admin's fetch (no member) always passes.
    func validateFetch(memberId: String?, epoch: Int32) -> KafkaErrorCode {
        if epoch < 0 && (memberId ?? "").isEmpty { return .none }
        guard let m = members[memberId ?? ""] else { return .unknownMemberId }
        return epoch == m.epoch ? .none : .staleMemberEpoch
    }

    // MARK: Wire helpers

    static func partitions(_ list: [ConsumerGroupHeartbeatRequest.TopicPartitions], topics: TopicCatalog) -> Set<TopicPartition> {
        var byId: [KafkaUUID: String] = [:]
        for (name, t) in topics { byId[t.id] = name }
        return Set(list.flatMap { t in byId[t.topicId].map { name in t.partitions.map { TopicPartition(name, $0) } } ?? [] })
    }

    static func topicPartitions(_ set: Set<TopicPartition>, topics: TopicCatalog) -> [ConsumerGroupHeartbeatResponse.TopicPartitions] {
        Dictionary(grouping: set, by: \.topic).sorted { $0.key < $1.key }.compactMap { name, tps in
            topics[name].map { .init(topicId: $0.id, partitions: tps.map(\.partition).sorted()) }
        }
    }
}
