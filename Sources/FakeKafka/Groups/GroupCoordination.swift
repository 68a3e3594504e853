import KafkaProtocol
import NIOCore

extension ClusterState {
    /// Why `broker` cannot serve requests for `group` right now, or nil when it can.
    func coordinatorError(group: String, broker: Int32) -> KafkaErrorCode? {
        let id = coordinator(for: group)
        guard brokers.first(where: { $0.id == id })?.isUp == true else { return .coordinatorNotAvailable }
        return id == broker ? nil : .notCoordinator
    }

    /// The type of the group with this id, if the coordinator knows it.
    func groupType(_ id: String) -> GroupType? {
        if modernGroups[id] != nil { return .consumer }
        return groups[id] != nil ? .classic : nil
    }

    /// The consumer group a ConsumerGroupHeartbeat is for. Both protocols live in one cluster, as
    /// in Kafka 4: an empty classic group becomes a consumer group when a member joins it (its
    /// committed offsets stay), while a classic group with members refuses new-protocol members
    /// with GROUP_ID_NOT_FOUND, as Kafka does without online migration. Only a joining heartbeat
    /// (epoch 0) creates a group.
    mutating func modernGroup(_ id: String, joining: Bool, configuration: FakeKafkaCluster.Configuration) -> Result<ModernConsumerGroup, GroupRefusal> {
        if let group = modernGroups[id] { return .success(group) }
        if let classic = groups[id] {
            guard joining, classic.members.isEmpty else { return .failure(GroupRefusal(code: .groupIdNotFound, message: "Group \(id) is not a consumer group.")) }
            groups[id] = nil
        } else if !joining {
            return .failure(GroupRefusal(code: .unknownMemberId, message: "Group \(id) has no members."))
        }
        let settings = ModernConsumerGroup.Settings(
            heartbeatInterval: configuration.consumerGroupHeartbeatInterval,
            sessionTimeout: configuration.consumerGroupSessionTimeout,
            assignors: configuration.consumerGroupAssignors.compactMap(ServerAssignor.init(rawValue:)))
        let group = ModernConsumerGroup(id: id, settings: settings)
        modernGroups[id] = group
        return .success(group)
    }

    /// The classic group a JoinGroup is for: an empty consumer group turns back into a classic one
    /// (offsets kept); one with members is nil, and the join is refused.
    mutating func classicGroupForJoin(_ id: String, delay: TimeAmount) -> ConsumerGroup? {
        if let modern = modernGroups[id] {
            guard modern.isEmpty else { return nil }
            modernGroups[id] = nil
        }
        return groupCreatingIfNeeded(id, delay: delay)
    }

    /// Checks the member and generation (classic) or member epoch (consumer group) of an offset
    /// commit. A commit to no group at all is a standalone one, allowed without a member.
    func validateCommit(group id: String, memberId: String, groupInstanceId: String? = nil, generationOrEpoch: Int32, apiVersion: Int16,
                        transactional: Bool) -> KafkaErrorCode {
        if let modern = modernGroups[id] {
            return modern.validateCommit(memberId: memberId, epoch: generationOrEpoch, apiVersion: apiVersion, transactional: transactional)
        }
        if let classic = groups[id] {
            return classic.validateCommit(memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationOrEpoch)
        }
        return generationOrEpoch < 0 ? .none : .unknownMemberId
    }
}

/// Why a group refused a request: the error code and Kafka's message for it.
struct GroupRefusal: Error {
    var code: KafkaErrorCode
    var message: String
}
